"""Home Assistant device-based discovery payloads follow HA's format and our MQTT contract."""

from __future__ import annotations

import contextlib
import json
import random
import re
from typing import Any

import pytest

from edge_agent.ha_discovery import (
    LEVEL_OPTIONS,
    REDISCOVERY_DELAY_S,
    SensorInfo,
    discovery_messages,
    ha_status_topic,
    is_ha_online,
    rediscovery_delay,
    removal_messages,
)
from edge_agent.model import ALERT_LEVELS

PREFIX = "homeassistant"
BASE = "edge/jiangchuan-3/bldg7-pi"
SENSORS = [
    SensorInfo(
        "smoke-b1-garage",
        "pm2_5",
        "µg/m³",
        "smoke",
        name="Garage smoke",
        location={"building": "7", "floor": "B1", "zone": "garage"},
    ),
    SensorInfo("water-b1", "water_level", "m", "water", location={"zone": "ramp"}),
    SensorInfo("gate-count", "occupancy", "persons", "crowd"),
    SensorInfo("mq2.lobby", "gas_ratio", None, "generic"),
]


def build(sensors: list[SensorInfo] = SENSORS, lang: str = "en") -> list[tuple[str, bytes]]:
    return discovery_messages(
        prefix=PREFIX,
        base_topic=BASE,
        site_id="jiangchuan-3",
        device_id="bldg7-pi",
        version="0.1.0",
        sensors=sensors,
        lang=lang,
    )


def components(messages: list[tuple[str, bytes]]) -> dict[str, dict[str, Any]]:
    """Every component of every payload by its unique_id."""
    found: dict[str, dict[str, Any]] = {}
    for _, payload in messages:
        for cmp in json.loads(payload)["cmps"].values():
            assert cmp["unique_id"] not in found, f"duplicate unique_id {cmp['unique_id']}"
            found[cmp["unique_id"]] = cmp
    return found


def test_topics_and_payload_structure() -> None:
    messages = build()
    assert len(messages) == 1 + len(SENSORS)
    topics = [t for t, _ in messages]
    assert len(set(topics)) == len(topics)
    for topic, payload in messages:
        assert re.fullmatch(rf"{PREFIX}/device/[a-zA-Z0-9_-]+/config", topic), topic
        doc = json.loads(payload.decode("utf-8"))
        assert doc["dev"]["ids"] and doc["dev"]["name"]
        assert doc["dev"]["sw"] == "0.1.0"
        assert doc["o"]["name"] == "edge-agent"
        assert doc["qos"] == 1
        # Shared availability applies to every component of the payload.
        assert doc["availability"] == [
            {
                "topic": f"{BASE}/status",
                "value_template": "{{ value_json.state }}",
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ]
        assert doc["cmps"]
        for key, cmp in doc["cmps"].items():
            assert re.fullmatch(r"[a-zA-Z0-9_-]+", key)
            assert cmp["p"] in ("sensor", "binary_sensor")
            assert cmp["unique_id"] == key
            assert cmp["name"]
            assert cmp["state_topic"].startswith(BASE + "/")
            assert "availability" not in cmp  # inherited from the payload root
    agent = json.loads(messages[0][1])
    sensor_devices = [json.loads(p)["dev"] for _, p in messages[1:]]
    assert all(dev["via_device"] == agent["dev"]["ids"][0] for dev in sensor_devices)
    ids = [agent["dev"]["ids"][0]] + [dev["ids"][0] for dev in sensor_devices]
    assert len(set(ids)) == len(ids)


def test_state_topics_match_the_contract() -> None:
    cmps = components(build())
    online = cmps["jiangchuan-3_bldg7-pi_online"]
    assert online["p"] == "binary_sensor" and online["device_class"] == "connectivity"
    assert online["state_topic"] == f"{BASE}/status"
    assert (online["payload_on"], online["payload_off"]) == ("online", "offline")
    assert cmps["jiangchuan-3_bldg7-pi_last_alert"]["state_topic"] == f"{BASE}/alerts"
    for sensor in SENSORS:
        oid = "jiangchuan-3_bldg7-pi_" + sensor.sensor_id.replace(".", "_")
        value = cmps[f"{oid}_value"]
        assert value["state_topic"] == f"{BASE}/telemetry/{sensor.sensor_id}"
        assert value["value_template"] == "{{ value_json.last }}"
        assert value["state_class"] == "measurement"
        level = cmps[f"{oid}_alert_level"]
        assert level["state_topic"] == f"{BASE}/alerts/active/{sensor.sensor_id}"
        assert level["device_class"] == "enum"
        assert level["options"] == list(LEVEL_OPTIONS)


def test_level_options_are_every_contract_level() -> None:
    assert ("none", *(lvl.label for lvl in ALERT_LEVELS)) == LEVEL_OPTIONS


def test_device_class_only_where_home_assistant_accepts_the_unit() -> None:
    cmps = components(build())
    smoke = cmps["jiangchuan-3_bldg7-pi_smoke-b1-garage_value"]
    assert (smoke["device_class"], smoke["unit_of_measurement"]) == ("pm25", "µg/m³")
    water = cmps["jiangchuan-3_bldg7-pi_water-b1_value"]
    assert (water["device_class"], water["unit_of_measurement"]) == ("distance", "m")
    crowd = cmps["jiangchuan-3_bldg7-pi_gate-count_value"]
    assert "device_class" not in crowd and crowd["unit_of_measurement"] == "people"
    gas = cmps["jiangchuan-3_bldg7-pi_mq2_lobby_value"]
    assert "device_class" not in gas and "unit_of_measurement" not in gas
    odd = components(build([SensorInfo("pm", "pm2_5", "mg/m3", "air_quality")]))
    pm = odd["jiangchuan-3_bldg7-pi_pm_value"]
    assert "device_class" not in pm and pm["unit_of_measurement"] == "mg/m3"


def test_sensor_devices_carry_name_and_area() -> None:
    docs = [json.loads(p) for _, p in build()[1:]]
    assert docs[0]["dev"]["name"] == "Garage smoke"
    assert docs[0]["dev"]["suggested_area"] == "Building 7, floor B1, garage"
    assert docs[1]["dev"]["name"] == "water-b1" and docs[1]["dev"]["suggested_area"] == "ramp"
    assert "suggested_area" not in docs[2]["dev"]
    names = {c["unique_id"]: c["name"] for d in docs for c in d["cmps"].values()}
    assert names["jiangchuan-3_bldg7-pi_smoke-b1-garage_alert_level"] == "Smoke alert level"
    zh = [json.loads(p) for _, p in build(lang="zh-CN")]
    zh_names = {c["name"] for d in zh for c in d["cmps"].values()}
    assert {"在线", "最新预警", "烟雾预警等级", "水位"} <= zh_names
    assert zh[1]["dev"]["suggested_area"] == "7号楼 B1层 garage"


def test_removal_empties_exactly_the_sensor_topics() -> None:
    by_sensor = {t for t, _ in build()[1:]}
    removal = removal_messages(
        PREFIX, "bldg7-pi", [s.sensor_id for s in SENSORS], site_id="jiangchuan-3"
    )
    assert {t for t, _ in removal} == by_sensor
    assert all(payload == b"" for _, payload in removal)
    assert removal_messages(PREFIX, "bldg7-pi", [], site_id="jiangchuan-3") == []


def test_colliding_sensor_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="same Home Assistant object id"):
        build([SensorInfo("a.b", "x", None, "generic"), SensorInfo("a_b", "x", None, "generic")])


@pytest.mark.parametrize("prefix", ["", "home/#", "ha/+/x", "ha/"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        discovery_messages(
            prefix=prefix,
            base_topic=BASE,
            site_id="s",
            device_id="d",
            version="1",
            sensors=[],
        )
    with pytest.raises(ValueError, match="prefix"):
        removal_messages(prefix, "d", ["x"], site_id="s")


def test_bad_sensor_info_is_refused() -> None:
    with pytest.raises(ValueError, match="hazard 'fire'"):
        SensorInfo("s1", "pm2_5", "ug/m3", "fire")
    with pytest.raises(ValueError, match="sensor_id"):
        SensorInfo("", "pm2_5", "ug/m3", "smoke")


def test_rediscovery_delay_is_random_and_bounded() -> None:
    low, high = REDISCOVERY_DELAY_S
    rng = random.Random(1234)
    delays = [rediscovery_delay(rng) for _ in range(500)]
    assert all(low <= d <= high for d in delays)
    assert max(delays) - min(delays) > (high - low) / 2  # actually spread, not constant
    assert rediscovery_delay(random.Random(7)) == rediscovery_delay(random.Random(7))


def test_home_assistant_birth_message() -> None:
    assert ha_status_topic(PREFIX) == "homeassistant/status"
    assert is_ha_online(b"online") and is_ha_online(b"online\n")
    assert not is_ha_online(b"offline") and not is_ha_online(b"")


def render(template: str, payload: bytes) -> str:
    """Render an HA value template as HA does: ``value`` always, ``value_json`` if JSON parses."""
    sandbox = pytest.importorskip("jinja2.sandbox")
    env = sandbox.ImmutableSandboxedEnvironment()
    variables: dict[str, Any] = {"value": payload.decode("utf-8")}
    with contextlib.suppress(ValueError):  # HA leaves value_json undefined for non-JSON
        variables["value_json"] = json.loads(payload)
    return str(env.from_string(template).render(**variables))


def test_templates_read_real_payloads() -> None:
    cmps = components(build())
    telemetry = json.dumps(
        {
            "schema": "edge-agent/telemetry/1",
            "seq": 9,
            "site_id": "jiangchuan-3",
            "device_id": "bldg7-pi",
            "sensor_id": "water-b1",
            "quantity": "water_level",
            "unit": "m",
            "n": 60,
            "min": 0.41,
            "mean": 0.45,
            "max": 0.52,
            "last": 0.5,
            "quality": "ok",
            "window_s": 60,
            "ts": "2026-01-01T10:00:00+00:00",
            "clock_synced": True,
        }
    ).encode()
    value = cmps["jiangchuan-3_bldg7-pi_water-b1_value"]
    assert render(value["value_template"], telemetry) == "0.5"
    attrs = json.loads(render(value["json_attributes_template"], telemetry))
    assert attrs["max"] == 0.52 and attrs["quality"] == "ok"

    event = json.dumps(
        {"level": "orange", "hazard": "water", "event": "raised", "alert_id": "a1", "seq": 3}
        | {"message": "High water", "ts": "2026-01-01T10:00:00+00:00", "sensor_id": "water-b1"}
    ).encode()
    level = cmps["jiangchuan-3_bldg7-pi_water-b1_alert_level"]
    assert render(level["value_template"], event) == "orange"
    assert render(level["value_template"], b"") == "none"  # retained topic emptied on clear
    assert json.loads(render(level["json_attributes_template"], event))["hazard"] == "water"
    assert json.loads(render(level["json_attributes_template"], b"")) == {}

    online = cmps["jiangchuan-3_bldg7-pi_online"]
    status = json.dumps({"state": "offline", "ts": "x", "version": "0.1.0"}).encode()
    assert render(online["value_template"], status) == "offline"
    last = cmps["jiangchuan-3_bldg7-pi_last_alert"]
    assert render(last["value_template"], event) == "High water"
    long = json.dumps({"message": "x" * 400}).encode()
    assert len(render(last["value_template"], long)) == 250
