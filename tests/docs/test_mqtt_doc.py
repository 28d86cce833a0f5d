"""docs/mqtt.md is checked against the JSON Schemas and its examples against the real code.

The payload tables are generated from the schemas, so these tests fail when a
schema changed and nobody regenerated the doc (or someone edited a table by
hand): each failure names the payload, the field and what disagrees.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.cli import _mqtt_doc as gen
from edge_agent.commands import COMMANDS, parse_command
from tests.broker import Broker
from tests.mqtt_helpers import Collector

REPO = Path(__file__).resolve().parents[2]
DOC_PATH = REPO / "docs" / "mqtt.md"
DOC = DOC_PATH.read_text("utf-8")
FENCE = re.compile(r"<!-- (example|snippet) ([^>]+?) -->\s*```(\w+)\n(.*?)```", re.DOTALL)


def blocks(kind: str, name: str) -> list[str]:
    return [
        m.group(4) for m in FENCE.finditer(DOC) if m.group(1) == kind and m.group(2).strip() == name
    ]


@pytest.mark.parametrize("name", gen.PAYLOADS)
def test_table_lists_exactly_the_schema_fields(name: str) -> None:
    want = {f.name: f for f in gen.fields(gen.load_schema(name))}
    have = {f.name: f for f in gen.parse_table(DOC, name)}
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    assert not missing, f"docs/mqtt.md {name} table lacks schema fields {missing}"
    assert not extra, f"docs/mqtt.md {name} table lists fields the schema lacks: {extra}"


@pytest.mark.parametrize("name", gen.PAYLOADS)
def test_table_required_type_and_description_match_the_schema(name: str) -> None:
    want = {f.name: f for f in gen.fields(gen.load_schema(name))}
    problems = []
    for f in gen.parse_table(DOC, name):
        w = want.get(f.name)
        if w is None:
            continue
        if f.required != w.required:
            problems.append(f"{f.name}: doc says required={f.required}, schema {w.required}")
        if f.type != w.type:
            problems.append(f"{f.name}: doc says type {f.type!r}, schema {w.type!r}")
        if f.description != w.description:
            problems.append(f"{f.name}: description differs from the schema's")
    assert not problems, (
        f"docs/mqtt.md {name} table disagrees with the schema (run python -m "
        "edge_agent.cli._mqtt_doc):\n" + "\n".join(problems)
    )


def test_generator_reports_a_stale_table(tmp_path: Path) -> None:
    """The check the tests rely on really catches drift (a removed row, a flipped flag)."""
    stale = DOC.replace("| `seq` | integer (≥ 1) | yes |", "| `seq` | integer (≥ 1) | no |", 1)
    stale = re.sub(r"\| `boot_id` \| string \| no \|[^\n]*\n", "", stale, count=1)
    assert stale != DOC
    doc = tmp_path / "mqtt.md"
    doc.write_text(stale, "utf-8")
    assert gen.main([str(doc), "--check"]) == 1
    assert doc.read_text("utf-8") == stale, "--check must not write"
    fields = {f.name: f for f in gen.parse_table(stale, "alert-1")}
    assert fields["seq"].required is False and "boot_id" not in fields
    assert gen.main([str(doc)]) == 0
    assert doc.read_text("utf-8") == DOC, "regenerating restores the committed doc"
    assert gen.main([str(DOC_PATH), "--check"]) == 0


def test_type_text_covers_every_schema_construct() -> None:
    assert gen.type_text({"const": "edge-agent/alert/1"}) == '`"edge-agent/alert/1"`'
    assert gen.type_text({"enum": ["a", None]}) == '`"a"` | `null`'
    assert gen.type_text({"type": ["number", "null"]}) == "number | null"
    assert gen.type_text({"type": "integer", "minimum": 1}) == "integer (≥ 1)"
    assert gen.type_text({"type": "array", "items": {"type": "string"}}) == "array of string"
    assert (
        gen.type_text({"type": "string", "format": "date-time", "pattern": "Z$"})
        == "string (date-time, pattern `Z$`)"
    )


@pytest.mark.parametrize("name", gen.PAYLOADS)
def test_every_payload_has_an_example_that_validates(name: str) -> None:
    examples = blocks("example", name)
    assert examples, f"docs/mqtt.md has no '<!-- example {name} -->' block"
    schema = gen.load_schema(name)
    for text in examples:
        payload: dict[str, Any] = json.loads(text)
        jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())
        assert payload["schema"] == schema["properties"]["schema"]["const"]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_example_is_accepted_by_the_agent(name: str) -> None:
    examples = blocks("example", f"cmd {name}")
    assert examples, f"docs/mqtt.md has no example of the {name} command"
    for text in examples:
        cmd = parse_command(name, text.strip().encode("utf-8"))
        assert cmd.args["by"]


def test_every_command_and_topic_is_documented() -> None:
    for name in COMMANDS:
        assert f"`{{base}}/cmd/{name}`" in DOC, f"topic of command {name} missing"
    for topic in (
        "{base}/status",
        "{base}/alerts",
        "{base}/alerts/active/{sensor_id}",
        "{base}/telemetry/{sensor_id}",
        "{base}/cap",
        "{base}/cmd/result",
        "homeassistant/device/",
    ):
        assert f"`{topic}" in DOC, f"topic {topic} missing from the topic table"


def test_signature_snippet_verifies_and_rejects() -> None:
    (code,) = blocks("snippet", "verify-signature")
    ns: dict[str, Any] = {}
    exec(compile(code, "docs/mqtt.md#verify-signature", "exec"), ns)
    key, topic = b"device-key", "edge/jiangchuan-3/bldg7-pi/alerts"
    payload = '{"seq":41,"message":"检测到烟雾"}'.encode()
    sig = hmac.new(key, topic.encode() + b"\n" + payload, hashlib.sha256).hexdigest()
    assert ns["signature"](key, topic, payload) == sig
    assert ns["verify"](key, topic, payload, sig)
    assert ns["verify"](key, topic, payload, sig.upper())
    assert not ns["verify"](key, topic, payload + b" ", sig)
    assert not ns["verify"](key, topic.replace("alerts", "status"), payload, sig)
    assert not ns["verify"](b"other-key", topic, payload, sig)
    assert not ns["verify"](key, topic, payload, None)

    # A real paho MQTT 5 message carrying user properties, as a consumer receives it.
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("trace", "x"), ("sig", sig)]
    msg = mqtt.MQTTMessage(topic=topic.encode())
    msg.payload = payload
    msg.properties = props
    assert ns["sig_of"](msg) == sig
    assert ns["verify"](key, msg.topic, msg.payload, ns["sig_of"](msg))
    assert ns["sig_of"](mqtt.MQTTMessage(topic=topic.encode())) is None
    assert ns["sig_of"](object()) is None


def test_signature_snippet_on_a_message_through_mosquitto(broker: Broker) -> None:
    """The snippet reads the ``sig`` user property of a real MQTT 5 delivery."""
    (code,) = blocks("snippet", "verify-signature")
    ns: dict[str, Any] = {}
    exec(compile(code, "docs/mqtt.md#verify-signature", "exec"), ns)
    key, topic = b"k-bldg7", "edge/doc-site/doc-pi/alerts"
    payload = b'{"seq":1}'
    got: list[Any] = []
    receiver = Collector(broker.port, "edge/doc-site/#")
    receiver.client.on_message = lambda c, u, m: got.append(m)
    sender = Collector(broker.port, "nothing/#")
    try:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("sig", ns["signature"](key, topic, payload))
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            sender.client.publish(topic, payload, qos=1, properties=props).wait_for_publish(5)
            time.sleep(0.2)
        sender.client.publish(topic, payload + b" ", qos=1).wait_for_publish(5)  # unsigned
        receiver.wait(lambda: any(m.payload.endswith(b" ") for m in got), 10, "unsigned")
    finally:
        receiver.close()
        sender.close()
    signed = got[0]
    assert ns["verify"](key, signed.topic, signed.payload, ns["sig_of"](signed))
    assert not ns["verify"](b"wrong", signed.topic, signed.payload, ns["sig_of"](signed))
    unsigned = got[-1]
    assert ns["sig_of"](unsigned) is None
    assert not ns["verify"](key, unsigned.topic, unsigned.payload, ns["sig_of"](unsigned))
