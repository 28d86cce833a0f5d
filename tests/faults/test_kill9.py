"""``kill -9`` at random points, many times, including between PUBACK and the outbox delete."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

import pytest

from tests.agent_helpers import start_agent, stop_agent, write_config
from tests.faults.helpers import (
    SITE,
    Ledger,
    Subscriber,
    committed_seqs,
    drained,
    fault_config,
    persistent_broker,
    wait_until,
)

pytestmark = [pytest.mark.fault, pytest.mark.slow]

LOOPS = int(os.environ.get("FAULT_KILL_LOOPS", "200"))


def test_kill9_at_random_points_many_loops(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("FAULT_SEED", "5")))
    broker = persistent_broker(tmp_path / "mosq")
    device = "kill-pi"
    state = tmp_path / "state"
    # Short cycles: every sensor walks blue..red..clear every 2 s, so each
    # short life commits events; a small window keeps PUBACKs racing deletes.
    cfg = write_config(
        tmp_path / "a.toml",
        fault_config(
            state,
            broker.url,
            device,
            cycle_s=2.0,
            interval_s=0.05,
            clear_after_s=0.2,
            backoff=(0.05, 0.2),
        ).replace("[telemetry]", "[telemetry]\nenabled = true")
        + "",
    )
    log = tmp_path / "agent.log"
    # A backlog first (broker down), so every life starts mid-drain.
    proc = start_agent(cfg, log=log)
    wait_until(lambda: len(committed_seqs(state)) >= 60, 60, "an offline backlog")
    stop_agent(proc, kill=True)
    broker.start()
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "kill-sub")
    kills = 0
    try:
        for _ in range(LOOPS):
            proc = start_agent(cfg, log=log)
            time.sleep(rng.uniform(0.2, 0.55))
            stop_agent(proc, kill=True)
            kills += 1
        proc = start_agent(cfg, log=log)
        drain_s = wait_until(drained(state, sub, device), 90, "the backlog after the kills")
        stop_agent(proc)
    finally:
        stop_agent(proc, kill=True)
        sub.close()
        broker.stop()
    committed = committed_seqs(state)
    lost, _ = Ledger("kill-9").check(committed, sub.seqs(device), kills=kills, drain_s=drain_s)
    assert not lost
    assert committed == set(range(1, max(committed) + 1)), "seq continues without gaps"
    conn = sqlite3.connect(state / "edge-agent.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
