"""Staff feedback through the real command path: MQTT ``resolve`` -> alert stage -> detector.

A real agent (in process, real Mosquitto, real SQLite) watches a simulated
particulate sensor through a pack with only an anomaly rule. Each cycle of
the simulation raises an anomaly alert; staff resolve it as a false alarm
over MQTT, and the sensor's detector must then score the same deviation
lower: bounded after repeated false alarms, and one step back on a
``true_alarm``. The detector is read through ``agent.detection``'s own
checkpoints, taken on the agent's event loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_agent.config.load import parse_config
from edge_agent.detection import detector_from_bytes
from edge_agent.pipeline.agent import Agent
from tests.agent_helpers import sim_config
from tests.broker import Broker
from tests.mqtt_helpers import Collector

pytestmark = pytest.mark.timeout(180)

SENSOR = "pm-hall"
BASE = "edge/test-site/fb-pi"

# Only the level feature counts (no rate, no windowed mean, no season), so
# "the kind of pattern" staff judged is unambiguous and the probe below
# exercises exactly the damped feature. The detector habituates to the
# repeated ramp (and feedback damps it), so later cycles are raised by the
# plain threshold: staff resolve "the sensor's alert", and the verdict goes
# to the detector's most recently flagged feature either way.
PACK = """
name = "hall-anomaly"
hazard = "generic"
quantity = "pm2_5"
unit = "µg/m³"
raise_after_s = 0
clear_after_s = 0.5

[detection]
warmup = 20
seasonality = "none"
smooth = 1
rate_weight = 0.0

[[anomaly]]
id = "unusual"
blue = 0.9999

[[threshold]]
id = "high"
blue = 300.0
"""


@pytest.fixture
def agent(tmp_path: Path, broker: Broker) -> Iterator[tuple[Agent, asyncio.AbstractEventLoop]]:
    pack = tmp_path / "hall.toml"
    pack.write_text(PACK, encoding="utf-8")
    sensor = f"""
[[sensors]]
id = "{SENSOR}"
driver = "sim"
scenario = "smoke"
rules = "{pack}"
cycle_s = 3.0
interval_s = 0.03
phase_s = 1.8
"""
    text = sim_config(tmp_path / "state", broker.url, scenarios=(), device="fb-pi", extra=sensor)
    ag = Agent(parse_config(text))
    box: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> None:
        box["loop"] = asyncio.get_running_loop()
        box["stop"] = asyncio.Event()
        started.set()
        await ag.run(box["stop"])

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield ag, box["loop"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(30)


def _detector(ag: Agent, loop: asyncio.AbstractEventLoop) -> Any:
    """A copy of the sensor's live detector, checkpointed on the agent's own loop."""

    async def take() -> bytes:
        (cp,) = [c for c in ag.detection.checkpoints() if c.sensor_id == SENSOR]
        return cp.state

    return detector_from_bytes(asyncio.run_coroutine_threadsafe(take(), loop).result(10))


def _probe(ag: Agent, loop: asyncio.AbstractEventLoop) -> tuple[float, float]:
    """Score of one reading 6 deviations above normal: (live model, same model undamped).

    Both copies share every learnt statistic and differ only in the feedback
    damping, so the comparison isolates what staff feedback changed.
    """
    scores = []
    for undamped in (False, True):
        det = _detector(ag, loop)
        if undamped:
            det.damping = [0] * len(det.damping)
        # A later event, once this one's habituation and refractory period are over.
        det.quiet = 0
        det.hab = [0.0] * len(det.hab)
        scaler = det.scalers[0]
        value = scaler.mean.get() + 6.0 * (scaler.var.get() ** 0.5)
        last_t, _, _ = det.history[-1]
        ts = ag.clock.now()
        scores.append(det.score_learn(value, ts, last_t + 0.02))
    return scores[0], scores[1]


def _as_sigma(z: float) -> float:
    """The detector's calibrated score of a z-sigma deviation (docs/detection.md)."""
    return math.erf(z / math.sqrt(2.0))


def _mine(sub: Collector) -> list[dict[str, Any]]:
    return [a for a in sub.alerts() if a["sensor_id"] == SENSOR and a["hazard"] == "generic"]


def _resolve(sub: Collector, verdict: str, cmd_id: str) -> dict[str, Any]:
    """Wait for an open anomaly alert and resolve it with ``verdict``; return the result."""
    seen = len(_mine(sub))

    def open_now() -> bool:
        mine = _mine(sub)
        return len(mine) > seen and mine[-1]["event"] in ("raised", "escalated")

    sub.wait(open_now, 60, f"a new open anomaly alert before {cmd_id}")
    body = {"by": "Wang", "verdict": verdict, "sensor_id": SENSOR, "id": cmd_id}
    sub.publish(f"{BASE}/cmd/resolve", json.dumps(body))

    def result() -> dict[str, Any] | None:
        for m in sub.messages("/cmd/result"):
            r: dict[str, Any] = m.json()
            if r.get("id") == cmd_id:
                return r
        return None

    sub.wait(lambda: result() is not None, 20, f"result of {cmd_id}")
    r = result()
    assert r is not None
    return r


def test_false_alarm_over_mqtt_damps_the_sensor_bounded_and_true_alarm_restores(
    agent: tuple[Agent, asyncio.AbstractEventLoop], broker: Broker
) -> None:
    ag, loop = agent
    sub = Collector(broker.port, f"{BASE}/#")
    try:
        first = _resolve(sub, "false_alarm", "fa-1")
        assert first["outcome"] == "ok", first
        assert _mine(sub)[0]["event"] == "raised"
        assert _mine(sub)[0]["reason"]["kind"] == "anomaly"  # the ramp's first sigmas
        resolved = [a for a in _mine(sub) if a["event"] == "resolved"]
        assert resolved and resolved[0]["reason"]["verdict"] == "false_alarm"
        assert resolved[0]["reason"]["by"] == "Wang"
        assert _detector(ag, loop).sensitivity()["level"] == pytest.approx(1.5)
        damped, shipped = _probe(ag, loop)
        # 6 sigma now scores as 4 sigma did: from "one in 500 million" to "one in 16 000".
        assert shipped == pytest.approx(_as_sigma(6.0), abs=1e-9)
        assert damped == pytest.approx(_as_sigma(6.0 / 1.5), abs=1e-6)

        for i in range(2, 6):  # four more false alarms: the damping stops at 1.5**3
            r = _resolve(sub, "false_alarm", f"fa-{i}")
            assert r["outcome"] == "ok", r
        assert _detector(ag, loop).sensitivity()["level"] == pytest.approx(1.5**3)
        bounded, shipped = _probe(ag, loop)
        assert bounded == pytest.approx(_as_sigma(6.0 / 1.5**3), abs=1e-4)  # never deaf

        r = _resolve(sub, "true_alarm", "ta-1")
        assert r["outcome"] == "ok", r
        assert _detector(ag, loop).sensitivity()["level"] == pytest.approx(1.5**2)
        restored, shipped = _probe(ag, loop)
        assert restored == pytest.approx(_as_sigma(6.0 / 1.5**2), abs=1e-4)
    finally:
        sub.close()
