"""status, audit and tail around a real agent process, a real Mosquitto and a real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.agent_helpers import REPO, sim_config, start_agent, stop_agent, wait_for, write_config
from tests.broker import Broker
from tests.cli.tail_proc import TailProc
from tests.mqtt_helpers import Collector, validate


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def status(cfg: Path) -> dict[str, Any]:
    proc = cli("status", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


@pytest.mark.slow
def test_an_incident_seen_through_tail_status_and_audit(tmp_path: Path, broker: Broker) -> None:
    state = tmp_path / "state"
    cfg = write_config(
        tmp_path / "agent.toml",
        sim_config(
            state,
            broker.url,
            cycle_s=20,
            interval_s=0.25,
            raise_after_s=1,
            clear_after_s=1,
            device="cli-pi",
        ),
    )
    base = "edge/test-site/cli-pi"
    sub = Collector(broker.port, f"{base}/#")
    tail = TailProc(
        "--broker", broker.url, "--device", "cli-pi", "--json", "--count", "2", "--timeout", "90"
    )
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        # tail prints the first two alert events of the node, exactly as published.
        assert tail.finish(120) == 0, tail.err
        shown = [json.loads(line) for line in tail.out]
        alerts = [m["payload"] for m in shown if m["topic"] == f"{base}/alerts"]
        assert [a["seq"] for a in alerts] == [1, 2]
        for a in alerts:
            validate(a, "alert-1")
        assert any(
            m["topic"] == f"{base}/status" and m["payload"]["state"] == "online" for m in shown
        )

        # While the alert is open, staff acknowledge it.
        alert_id = alerts[0]["alert_id"]
        sub.publish(
            f"{base}/cmd/ack",
            json.dumps(
                {"id": "e2e-1", "by": "Wang Fang", "alert_id": alert_id, "note": "checking"}
            ),
        )
        wait_for(lambda: sub.messages("/cmd/result"), 20, "the command result")
        assert sub.messages("/cmd/result")[0].json()["outcome"] == "ok"

        live = status(cfg)
        assert live["agent"]["running"] is None and live["agent"]["boot_id"]
        assert live["broker"]["state"] == "connected"
        assert {r["sensor_id"] for r in live["last_readings"]} == {"smoke-1"}

        wait_for(lambda: any(a["event"] == "cleared" for a in sub.alerts()), 60, "the clear")
        assert stop_agent(proc) == 0
    finally:
        stop_agent(proc, kill=True)
        tail.kill()
        sub.close()

    after = status(cfg)
    assert after["active_alerts"] == []
    assert after["agent"]["running"] is False
    assert after["last_publish_ts"] is not None
    assert "alert" not in after["outbox"], "every alert event was delivered"

    proc_audit = cli("audit", "--config", str(cfg), "--format", "json")
    assert proc_audit.returncode == 0, proc_audit.stderr
    records = json.loads(proc_audit.stdout)
    events = [r for r in records if r["record"] == "alert"]
    published = {a["seq"]: a for a in sub.alerts()}
    assert [r["seq"] for r in events] == sorted(published), "every committed event, in order"
    assert [r["payload"] for r in events] == [published[s] for s in sorted(published)]
    assert events[0]["event"] == "raised" and events[-1]["event"] == "cleared"
    ack = next(r for r in events if r["event"] == "acknowledged")
    assert (ack["by"], ack["note"]) == ("Wang Fang", "checking")
    (cmd,) = [r for r in records if r["record"] == "command"]
    assert (cmd["command"], cmd["cmd_id"], cmd["outcome"], cmd["by"]) == (
        "ack",
        "e2e-1",
        "ok",
        "Wang Fang",
    )
    order = [r["ts"] for r in records]
    assert order == sorted(order)
