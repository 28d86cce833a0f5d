"""A corrupted database file at start, and a full disk (``max_db_bytes`` page limit)."""

from __future__ import annotations

import json
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

pytestmark = pytest.mark.fault


def node_alerts(sub: Subscriber) -> list[dict[str, object]]:
    return [a for a in sub.alerts() if a.get("sensor_id") == "node"]


def test_corrupt_database_moved_aside_and_device_alert_raised(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    device = "corrupt-pi"
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "a.toml", fault_config(state, broker.url, device))
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "corrupt-sub")
    log = tmp_path / "agent.log"
    proc = start_agent(cfg, log=log)
    try:
        wait_until(lambda: len(sub.seqs()) >= 5, 30, "first alerts")
        wait_until(drained(state, sub, device), 30, "everything delivered")
        before = committed_seqs(state)
        stop_agent(proc)  # clean stop: WAL checkpointed into the file
        db = state / "edge-agent.db"
        data = bytearray(db.read_bytes())
        assert len(data) > 16384
        data[4096:12288] = bytes((i * 7 + 13) % 256 for i in range(8192))  # pages 2-3 trashed
        db.write_bytes(bytes(data))
        n_before = len(sub.alerts())
        started = time.monotonic()
        proc = start_agent(cfg, log=log)
        detect_s = wait_until(
            lambda: any(a.get("sensor_id") == "node" for a in sub.alerts()[n_before:]),
            30,
            "a device alert about the replaced store",
        )
        # The node keeps alerting on the fresh store.
        wait_until(
            lambda: len([a for a in sub.alerts()[n_before:] if a.get("sensor_id") != "node"]) >= 3,
            30,
            "sensor alerts after the replacement",
        )
        stop_agent(proc)
    finally:
        stop_agent(proc, kill=True)
        sub.close()
        broker.stop()
    moved = list(state.glob("edge-agent.db.corrupt-*"))
    assert moved, "the corrupt file was kept for forensics"
    node = [a for a in sub.alerts()[n_before:] if a.get("sensor_id") == "node"]
    assert node[0]["hazard"] == "device" and node[0]["event"] == "raised"
    assert "store_replaced" in json.dumps(node[0])
    after = [a["seq"] for a in sub.alerts()[n_before:]]
    assert min(after) > max(before), "a replacement store continues seq, never reuses it"
    lost = before - set(sub.seqs(device))
    Ledger("corrupt-database").check(
        before, sub.seqs(device), detect_s=detect_s, restart_to_alert_s=time.monotonic() - started
    )
    assert not lost


def test_disk_full_sheds_telemetry_keeps_alerts_no_crash(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    device = "full-pi"
    state = tmp_path / "state"
    cfg = write_config(
        tmp_path / "a.toml",
        fault_config(
            state,
            broker.url,
            device,
            scenarios=("smoke", "water"),
            cycle_s=12.0,
            interval_s=0.01,
            telemetry=(1, 1),
            # Small enough to fill in seconds with readings, with room left for
            # the alert audit log (never shed) for the length of the test.
            store_extra="max_db_bytes = 393216",
        ),
    )
    log = tmp_path / "agent.log"
    sub = None
    # Broker down: telemetry and readings pile up until the page limit is hit.
    proc = start_agent(cfg, log=log)
    try:
        t0 = time.monotonic()
        full_s = wait_until(
            lambda: bool(
                db_query(state, "SELECT 1 FROM counters WHERE name='write_errors' AND value>0")
            ),
            60,
            "the store to hit its page limit",
        )
        time.sleep(3)
        assert proc.poll() is None, "the agent survived a full store"
        broker.start()
        sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "full-sub")
        drain_s = wait_until(drained(state, sub, device), 60, "alerts delivered")
        wait_until(lambda: bool(node_alerts(sub)), 20, "the disk_full device alert")
        assert proc.poll() is None
        stop_agent(proc)
    finally:
        stop_agent(proc, kill=True)
        if sub is not None:
            sub.close()
        broker.stop()
    assert sub is not None
    counters = dict(db_query(state, "SELECT name, value FROM counters"))
    assert "disk_full" in json.dumps(node_alerts(sub)[0])
    lost, _ = Ledger("disk-full").check(
        committed_seqs(state),
        sub.seqs(device),
        time_to_full_s=full_s,
        drain_s=drain_s,
        write_errors=counters["write_errors"],
        telemetry_shed=counters["shed_rows"],
        readings_shed=counters["readings_shed"],
        run_s=time.monotonic() - t0,
    )
    assert not lost
    assert counters["shed_rows"] + counters["readings_shed"] > 0
