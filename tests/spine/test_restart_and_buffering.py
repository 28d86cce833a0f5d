"""A real agent process: restarts keep alert state and seq; no broker at start loses nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.agent_helpers import sim_config, start_agent, stop_agent, wait_for, write_config
from tests.broker import Broker, free_port
from tests.mqtt_helpers import Collector, validate


def open_alerts(state_dir: Path) -> list[tuple[str, str, str, int]]:
    conn = sqlite3.connect(f"file:{state_dir / 'edge-agent.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT sensor_id, hazard, alert_id, level FROM alert_state").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def test_kill_with_open_alert_then_restart(tmp_path: Path, broker: Broker) -> None:
    state = tmp_path / "state"
    # A long cycle holds the hazard high for a while so the alert is open across the restart.
    cfg = write_config(
        tmp_path / "agent.toml",
        sim_config(
            state,
            broker.url,
            cycle_s=120,
            interval_s=0.25,
            raise_after_s=1,
            clear_after_s=2,
            device="restart-pi",
        ),
    )
    sub = Collector(broker.port, "edge/test-site/restart-pi/#")
    log = tmp_path / "agent.log"
    proc = start_agent(cfg, log=log)
    try:
        # phase 0.40-0.50 of 120 s is the plateau at the peak: open alert at red by ~48 s;
        # we kill as soon as the alert has reached red.
        wait_for(lambda: any(a["level"] == "red" for a in sub.alerts()), 90, "a red alert")
        before = open_alerts(state)
        assert len(before) == 1 and before[0][3] == 4
        stop_agent(proc, kill=True)
        seq_before = max(a["seq"] for a in sub.alerts())
        raised_before = [a for a in sub.alerts() if a["event"] == "raised"]
        assert len(raised_before) == 1

        proc = start_agent(cfg, log=log)
        # The agent comes back on the plateau: the alert stays open and no second raise.
        wait_for(
            lambda: (
                sub.messages("/status")
                and sub.messages("/status")[-1].json()["state"] == "online"
                and len(sub.messages("/status")) >= 2
            ),
            30,
            "online again",
        )
        wait_for(
            lambda: any(a["event"] == "cleared" for a in sub.alerts()),
            90,
            "the alert to clear after the restart",
        )
        stop_agent(proc)
    finally:
        stop_agent(proc, kill=True)
        sub.close()

    alerts = sub.alerts()
    assert [a["event"] for a in alerts].count("raised") == 1, [a["event"] for a in alerts]
    assert len({a["alert_id"] for a in alerts}) == 1, "the same alert before and after"
    seqs = [a["seq"] for a in alerts]
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1)), seqs
    assert max(seqs) > seq_before, "seq continued after the restart"
    for a in alerts:
        validate(a, "alert-1")
    assert open_alerts(state) == []


def test_no_broker_at_start_then_broker_appears(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state"
    cfg = write_config(
        tmp_path / "agent.toml",
        sim_config(
            state,
            f"mqtt://127.0.0.1:{port}",
            scenarios=("smoke", "water"),
            cycle_s=20,
            interval_s=0.25,
            raise_after_s=1,
            clear_after_s=1,
            device="late-pi",
        ),
    )
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        # Let a whole cycle of alerts happen with nowhere to send them.
        def committed() -> int:
            try:
                conn = sqlite3.connect(f"file:{state / 'edge-agent.db'}?mode=ro", uri=True)
                try:
                    n: int = conn.execute("SELECT count(*) FROM alert_events").fetchone()[0]
                    return n
                finally:
                    conn.close()
            except sqlite3.OperationalError:
                return 0

        wait_for(lambda: committed() >= 6, 60, "alerts committed while offline")
        n_offline = committed()
        broker = Broker(tmp_path / "late-broker", port=port)
        sub = None
        broker.start()
        try:
            sub = Collector(port, "edge/test-site/late-pi/#")
            wait_for(
                lambda: len({a["seq"] for a in sub.alerts()}) >= n_offline,
                30,
                "the offline backlog",
            )
            stop_agent(proc)
            got = sub.alerts()
        finally:
            if sub is not None:
                sub.close()
            broker.stop()
    finally:
        stop_agent(proc, kill=True)
    seqs = [a["seq"] for a in got]
    # every event arrives, in seq order, no gaps
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))
    first_seen = list(dict.fromkeys(seqs))
    assert first_seen == sorted(first_seen), "delivered in seq order"
    assert max(seqs) >= n_offline
