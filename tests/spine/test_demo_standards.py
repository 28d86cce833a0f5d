"""During the demo, with discovery and CAP on: HA configs, valid CAP, zh-CN text, commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent_helpers import REPO, wait_for
from tests.broker import Broker
from tests.conftest import SHARED
from tests.mqtt_helpers import Collector, validate

CAP_XSD = SHARED / "schemas" / "CAP-v1.2.xsd"
BASE = "edge/demo-site/demo-pi"
SENSORS = ("smoke-b1-garage", "water-b1-garage", "crowd-hall-1")
ZH_LEVELS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}

pytestmark = pytest.mark.timeout(180)


def test_demo_speaks_home_assistant_cap_zh_cn_and_takes_commands(
    broker: Broker, tmp_path: Path
) -> None:
    import xmlschema

    sub = Collector(broker.port, "#")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge_agent",
            "demo",
            "--duration",
            "40",
            "--broker",
            broker.url,
            "--cap",
            "--homeassistant",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        wait_for(
            lambda: any(
                a["event"] == "raised" and a["sensor_id"] == SENSORS[0] for a in sub.alerts()
            ),
            60,
            "the smoke alert",
        )
        sub.publish(
            f"{BASE}/cmd/ack",
            json.dumps(
                {"id": "ack-1", "by": "Wang Fang", "note": "on my way", "sensor_id": SENSORS[0]}
            ),
        )
        wait_for(
            lambda: any(a["event"] == "acknowledged" for a in sub.alerts()),
            20,
            "the acknowledged event",
        )
        n_events = len(sub.alerts())
        sub.publish(f"{BASE}/cmd/ack", b'{"id": "bad-1", "by": 5}')
        results = lambda: [m.json() for m in sub.messages("/cmd/result")]  # noqa: E731
        wait_for(lambda: any(r["id"] == "bad-1" for r in results()), 20, "the error result")
        _out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.close()

    by_id = {r["id"]: r for r in results()}
    assert by_id["ack-1"]["outcome"] == "ok"
    assert by_id["bad-1"]["outcome"] == "error" and "by" in by_id["bad-1"]["detail"]
    for r in by_id.values():
        validate(r, "cmd-result-1")
    acked = [a for a in sub.alerts() if a["event"] == "acknowledged"]
    assert len(acked) == 1 and acked[0]["reason"]["by"] == "Wang Fang"
    # The malformed command changed nothing: no event was caused by it.
    assert not [a for a in sub.alerts()[n_events:] if a["event"] in ("acknowledged", "resolved")]

    # Home Assistant: a retained discovery config for every sim sensor.
    configs = [
        m
        for m in sub.messages("")
        if m.topic.startswith("homeassistant/") and m.topic.endswith("/config") and m.payload
    ]
    text = " ".join(m.payload.decode() for m in configs)
    for sid in SENSORS:
        assert sid in text, f"no discovery config mentions {sid}"
    for m in configs:
        cfg = m.json()
        assert cfg.get("cmps") or cfg.get("components"), m.topic

    # CAP 1.2 messages validate against the official schema.
    schema = xmlschema.XMLSchema(str(CAP_XSD))
    caps = sub.messages("/cap")
    assert len(caps) == len({a["seq"] for a in sub.alerts()})
    for m in caps:
        schema.validate(m.payload.decode())

    # zh-CN text names the place and the level.
    for a in sub.alerts():
        validate(a, "alert-1")
        assert a["lang"] == "zh-CN"
        if a["level"]:
            assert ZH_LEVELS[a["level"]] in a["message"], a["message"]
        zone = a["location"].get("zone")
        assert zone and zone in a["message"]
