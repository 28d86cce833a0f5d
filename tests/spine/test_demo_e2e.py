"""The demo against a real Mosquitto: every hazard goes raised -> ... -> cleared."""

from __future__ import annotations

import subprocess
import sys

from tests.agent_helpers import REPO
from tests.broker import Broker
from tests.mqtt_helpers import Collector, validate

ALERT_KEYS = {
    "schema",
    "alert_id",
    "seq",
    "site_id",
    "device_id",
    "sensor_id",
    "hazard",
    "event",
    "level",
    "severity",
    "value",
    "unit",
    "reason",
    "message",
    "lang",
    "location",
    "ts",
    "clock_synced",
}


def test_demo_delivers_every_hazard_through_its_lifecycle(broker: Broker) -> None:
    sub = Collector(broker.port, "edge/demo-site/#")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "edge_agent",
                "demo",
                "--duration",
                "40",
                "--broker",
                broker.url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert proc.returncode == 0, proc.stderr
        assert "broker: connected" in proc.stdout
        sub.wait(
            lambda: any(a["event"] == "cleared" for a in sub.alerts() if a["hazard"] == "crowd"),
            10,
            "the last clear",
        )
    finally:
        sub.close()

    alerts = sub.alerts()
    seqs = sorted({a["seq"] for a in alerts})
    assert seqs == list(range(1, len(seqs) + 1)), f"seq has gaps: {seqs}"
    for a in alerts:
        assert set(a) >= ALERT_KEYS, ALERT_KEYS - set(a)
        validate(a, "alert-1")
    for hazard in ("smoke", "water", "crowd"):
        mine = sorted((a for a in alerts if a["hazard"] == hazard), key=lambda a: a["seq"])
        events = [a["event"] for a in mine]
        assert events[0] == "raised", events
        assert events[-1] == "cleared", events
        assert len({a["alert_id"] for a in mine}) == 1, "one alert per hazard per cycle"
        reached = {a["level"] for a in mine}
        assert reached & {"orange", "red"}, f"{hazard} reached only {reached}"
    # the terminal shows one line per event, in seq order
    printed = [line for line in proc.stdout.splitlines() if " seq " in line]
    assert len(printed) == len(alerts)

    # retained state: the status is online-then-offline, active topics end empty
    statuses = [m.json() for m in sub.messages("/status")]
    assert statuses and statuses[-1]["state"] == "offline"
    for s in statuses:
        validate(s, "status-1")
    actives = sub.messages("/alerts/active/smoke-b1-garage")
    assert actives and actives[-1].payload == b""
    for m in sub.messages(""):
        if "/telemetry/" in m.topic:
            validate(m.json(), "telemetry-1")
