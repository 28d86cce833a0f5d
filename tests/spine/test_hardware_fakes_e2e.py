"""`edge-agent run` on real drivers against fake devices on pty pairs.

One driver per hazard kind (pms5003 smoke, a02yyuw water, ld2450 crowd) in a
real agent process: values that cross a level raise the expected alert, and a
device that goes silent raises a ``device`` alert (silence is never "all clear").
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from edge_agent.drivers import frames_ld2450

from tests.agent_helpers import start_agent, stop_agent, wait_for, write_config
from tests.broker import Broker
from tests.fakes.pty_device import PtyDevice
from tests.fakes.sensors import FakeA02yyuw, FakePms5003
from tests.mqtt_helpers import Collector, validate

pytestmark = pytest.mark.timeout(180)


class Scripted:
    """A streaming sensor whose frames the test scripts; an idle frame when the script is empty."""

    def __init__(self, idle: bytes) -> None:
        self.idle = idle
        self.script: collections.deque[bytes] = collections.deque()
        self.silent = False

    def on_bytes(self, data: bytes) -> bytes:
        return b""

    def next_chunk(self) -> bytes | None:
        if self.silent:
            return None
        return self.script.popleft() if self.script else self.idle


def config(state: Path, broker: Broker, pms: str, a02: str, ld: str) -> str:
    return f'''
[agent]
site_id = "fake-site"
device_id = "fake-pi"
state_dir = "{state}"
locale = "en"

[mqtt]
url = "{broker.url}"
backoff_initial_s = 0.2
backoff_max_s = 1.0

[[sensors]]
id = "smoke-1"
driver = "pms5003"
port = "{pms}"
warmup_s = 0
rules = "smoke"
location = {{ building = "7", floor = "B1", zone = "garage" }}
overrides = {{ raise_after_s = 1, clear_after_s = 2, sensor-fault = {{ stale_after_s = 4 }} }}

[[sensors]]
id = "water-1"
driver = "a02yyuw"
port = "{a02}"
mounting_height_m = 2.0
rules = "water"
location = {{ building = "7", floor = "B1", zone = "ramp" }}
overrides = {{ raise_after_s = 1, clear_after_s = 2 }}

[[sensors]]
id = "crowd-1"
driver = "ld2450"
port = "{ld}"
line_y_mm = 1500
interval_s = 0.5
rules = "crowd"
location = {{ building = "3", floor = "1", zone = "hall door" }}
overrides = {{ raise_after_s = 1, clear_after_s = 2, density = {{ per = 1.0 }} }}
'''


def test_one_real_driver_per_hazard_raises_alerts_and_a_silent_device_alert(
    tmp_path: Path, broker: Broker
) -> None:
    pms_fake = FakePms5003(values=(5, 8, 9), start_on_command=False)
    a02_fake = FakeA02yyuw(distance_mm=1990)  # 2.0 m - 1.99 m = 1 cm of water: calm
    ld_fake = Scripted(frames_ld2450.encode([None]))
    devices = [
        PtyDevice(pms_fake, period_s=0.2),
        PtyDevice(a02_fake, period_s=0.2),
        PtyDevice(ld_fake, period_s=0.1),
    ]
    cfg = write_config(
        tmp_path / "agent.toml", config(tmp_path / "state", broker, *(d.path for d in devices))
    )
    sub = Collector(broker.port, "edge/fake-site/fake-pi/#")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_for(
            lambda: (
                any(m.json().get("n") for m in sub.messages("") if "/telemetry/" in m.topic)
                or len(sub.messages("/status")) > 0
            ),
            30,
            "the agent online",
        )

        def raised(sensor: str, hazard: str) -> list[dict[str, object]]:
            return [
                a
                for a in sub.alerts()
                if a["sensor_id"] == sensor
                and a["hazard"] == hazard
                and a["event"] in ("raised", "escalated")
            ]

        # Smoke: PM2.5 450 µg/m³ is orange in the smoke pack (250..500).
        pms_fake.values = (400, 450, 480)
        # Water: the surface 1.40 m below a sensor mounted 2.0 m above the datum is 0.60 m: red.
        a02_fake.distance_mm = 1400
        # Crowd: three people walk in across the counting line (per = 1 m²: 3/m² is yellow).
        for x in (-400, 0, 400):
            for y in (3000, 2200, 1700, 1300, 900):
                ld_fake.script.append(frames_ld2450.encode([(x, y, -30)]))
            ld_fake.script.append(frames_ld2450.encode([None]))
        wait_for(
            lambda: (
                raised("smoke-1", "smoke")
                and raised("water-1", "water")
                and raised("crowd-1", "crowd")
            ),
            60,
            "smoke, water and crowd alerts",
        )
        assert any(a["level"] == "orange" for a in raised("smoke-1", "smoke"))
        assert any(a["level"] == "red" for a in raised("water-1", "water"))
        assert any(a["level"] == "yellow" for a in raised("crowd-1", "crowd"))
        assert any(a["value"] == pytest.approx(0.6, abs=0.01) for a in raised("water-1", "water"))

        # The particulate sensor goes silent: a device alert, not an all-clear.
        devices[0].sensor = Scripted(b"")
        devices[0].sensor.silent = True  # type: ignore[attr-defined]
        wait_for(lambda: raised("smoke-1", "device"), 30, "a device alert for the silent sensor")
        dev = raised("smoke-1", "device")[0]
        assert "stale" in str(dev["reason"])
        assert not [
            a
            for a in sub.alerts()
            if a["sensor_id"] == "smoke-1" and a["hazard"] == "smoke" and a["event"] == "cleared"
        ], "silence must not clear the smoke alert"
        for a in sub.alerts():
            validate(a, "alert-1")
    finally:
        stop_agent(proc)
        sub.close()
        for d in devices:
            d.close()
