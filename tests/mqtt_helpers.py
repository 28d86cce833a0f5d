"""A test subscriber: a real MQTT client recording everything it receives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

SCHEMAS = Path(__file__).resolve().parent.parent / "edge_agent" / "schemas"


@dataclass(frozen=True)
class Msg:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Collector:
    """Subscribes to ``topic`` on 127.0.0.1:port and keeps every message."""

    def __init__(self, port: int, topic: str = "#", *, client_id: str | None = None) -> None:
        self.msgs: list[Msg] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or "",
            protocol=mqtt.MQTTv5,
        )
        self.topic = topic
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(self.topic, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self.msgs.append(Msg(msg.topic, bytes(msg.payload), bool(msg.retain)))

    def messages(self, suffix: str = "") -> list[Msg]:
        with self._lock:
            return [m for m in self.msgs if m.topic.endswith(suffix)]

    def alerts(self) -> list[dict[str, Any]]:
        return [m.json() for m in self.messages("/alerts")]

    def wait(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def publish(self, topic: str, payload: bytes | str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    return data


def validate(payload: dict[str, Any], name: str) -> None:
    import jsonschema

    jsonschema.validate(payload, schema(name), format_checker=jsonschema.FormatChecker())
