"""Power cut: kill -9 and keep only what was fsynced (an LD_PRELOAD shim records it)."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
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

pytestmark = pytest.mark.fault

SHIM = Path(__file__).with_name("powercut_shim.c")
CYCLES = 5


def build_shim(folder: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler for the power-cut shim (apt-get install gcc)")
    out = folder / "powercut.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", "-o", str(out), str(SHIM), "-ldl"],
        check=True,
        capture_output=True,
    )
    return out


def test_power_cut_keeps_every_committed_alert(tmp_path: Path) -> None:
    shim = build_shim(tmp_path)
    rng = random.Random(11)
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    device = "power-pi"
    state = (tmp_path / "state").resolve()
    synced = (tmp_path / "synced").resolve()
    cfg = write_config(tmp_path / "a.toml", fault_config(state, broker.url, device, cycle_s=3))
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "power-sub")
    log = tmp_path / "agent.log"
    env = {"LD_PRELOAD": str(shim), "POWERCUT_SRC": str(state), "POWERCUT_DST": str(synced)}
    lost_total = 0
    seen_total = 0
    proc = None
    try:
        for _ in range(CYCLES):
            synced.mkdir(exist_ok=True)
            proc = start_agent(cfg, log=log, env=env)
            n0 = len(sub.seqs())
            wait_until(lambda n0=n0: len(sub.seqs()) >= n0 + 3, 30, "alerts this cycle")
            time.sleep(rng.uniform(0.0, 1.5))
            stop_agent(proc, kill=True)
            # The power goes: every write not fsynced is gone.
            time.sleep(0.3)  # let in-flight deliveries to the subscriber land
            seen = set(sub.seqs(device))
            shutil.rmtree(state)
            shutil.copytree(synced, state, ignore=shutil.ignore_patterns(".*.tmp"))
            survived = committed_seqs(state)
            lost_total += len(seen - survived)
            seen_total += len(seen)
        proc = start_agent(cfg, log=log)
        drain_s = wait_until(drained(state, sub, device), 60, "recovered backlog")
        stop_agent(proc)
    finally:
        if proc is not None:
            stop_agent(proc, kill=True)
        sub.close()
        broker.stop()
    conn = sqlite3.connect(state / "edge-agent.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    lost, _ = Ledger("power-cut-synchronous-FULL").check(
        committed_seqs(state),
        sub.seqs(device),
        cycles=CYCLES,
        published_then_lost_on_cut=lost_total,
        drain_s=drain_s,
    )
    assert lost_total == 0, "an alert seen by a subscriber vanished from the store on power cut"
    assert not lost
