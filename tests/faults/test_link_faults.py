"""A silent partition and connection resets mid-publish, through a TCP proxy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.agent_helpers import start_agent, stop_agent, write_config
from tests.faults.helpers import (
    SITE,
    Ledger,
    Subscriber,
    committed_seqs,
    db_query,
    drained,
    fault_config,
    persistent_broker,
    wait_until,
)
from tests.faults.proxy import Proxy

pytestmark = pytest.mark.fault

KEEPALIVE_S = 5


def broker_state(state_dir: Path) -> str:
    rows = db_query(state_dir, "SELECT value FROM meta WHERE key='broker_state'")
    return str(rows[0][0]) if rows else ""


def test_silent_partition_detected_within_1_5_keepalive(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    proxy = Proxy(broker.port)
    device = "silent-pi"
    state = tmp_path / "state"
    cfg = write_config(
        tmp_path / "a.toml",
        fault_config(state, proxy.url, device, keepalive_s=KEEPALIVE_S),
    )
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "silent-sub")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_until(lambda: len(sub.seqs()) >= 3, 30, "first alerts")
        wait_until(lambda: broker_state(state) == "connected", 10, "connected")
        # The last byte from the broker reaches the agent about now; then silence.
        proxy.silent = True
        cut = time.monotonic()
        detect_s = wait_until(lambda: broker_state(state) != "connected", 30, "loss detected")
        time.sleep(2)
        proxy.reset_all()  # heal: the proxy forwards again (old sockets go)
        drain_s = wait_until(drained(state, sub, device), 60, "backlog after heal")
    finally:
        stop_agent(proc)
        sub.close()
        proxy.close()
        broker.stop()
    lost, _ = Ledger("silent-partition").check(
        committed_seqs(state),
        sub.seqs(device),
        keepalive_s=KEEPALIVE_S,
        detect_s=detect_s,
        drain_s=drain_s,
    )
    assert not lost
    # 1.5 x keepalive, plus paho's 1 s tick and our 0.05 s polling of the store.
    assert detect_s <= 1.5 * KEEPALIVE_S + 1.5, detect_s
    _ = cut


def test_connection_reset_mid_publish_many_cycles(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    proxy = Proxy(broker.port)
    device = "reset-pi"
    state = tmp_path / "state"
    cfg = write_config(
        tmp_path / "a.toml",
        fault_config(
            state,
            proxy.url,
            device,
            backoff=(0.05, 0.3),
            telemetry=(1, 1),
        ),
    )
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "reset-sub")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_until(lambda: len(sub.seqs()) >= 3, 30, "first alerts")
        # Every connection is cut with a RST after 1.5 kB from the agent:
        # CONNECT, status, a few alert events, then mid-publish.
        proxy.reset_after = 1500
        wait_until(lambda: proxy.resets >= 25, 60, "25 resets")
        proxy.reset_after = None
        drain_s = wait_until(drained(state, sub, device), 60, "backlog after the resets")
    finally:
        stop_agent(proc)
        sub.close()
        proxy.close()
        broker.stop()
    received = sub.seqs(device)
    lost, _dups = Ledger("connection-resets").check(
        committed_seqs(state),
        received,
        resets=proxy.resets,
        duplicate_rate=(len(received) - len(set(received))) / max(1, len(set(received))),
        drain_s=drain_s,
    )
    assert not lost
