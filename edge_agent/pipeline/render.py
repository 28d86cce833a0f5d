"""Turn a committed alert event into what people and platforms receive.

Runs on the store's thread inside the commit, once the event has its seq, so
the payload that is audited is byte for byte the one that is published.
"""

from __future__ import annotations

from typing import Any

from edge_agent.config.model import Config
from edge_agent.model import AlertEvent
from edge_agent.mqtt.payloads import Topics, alert_payload, dumps
from edge_agent.store.db import PRIORITY_ALERT, PRIORITY_TELEMETRY, OutboxRow


class EventRenderer:
    """Builds the alert payload (with its human text) and its outbox rows."""

    def __init__(self, config: Config, boot_id: str) -> None:
        self.config = config
        self.topics = Topics(config.base_topic)
        self.boot_id = boot_id
        self._sensors = {s.id: s for s in config.sensors}

    def lang_for(self, sensor_id: str) -> str:
        s = self._sensors.get(sensor_id)
        return (s.locale if s and s.locale else None) or self.config.agent.locale

    def location_for(self, sensor_id: str) -> dict[str, Any]:
        s = self._sensors.get(sensor_id)
        return dict(s.location) if s else {}

    def payload(self, ev: AlertEvent) -> dict[str, Any]:
        from edge_agent.text import render_message

        lang = self.lang_for(ev.sensor_id)
        s = self._sensors.get(ev.sensor_id)
        draft = alert_payload(
            ev,
            site_id=self.config.agent.site_id,
            device_id=self.config.agent.device_id,
            lang=lang,
            title="",
            message="",
            location=self.location_for(ev.sensor_id),
            boot_id=self.boot_id,
        )
        msg = render_message(draft, lang, sensor_name=s.name if s else None)
        draft["title"] = msg.title
        draft["message"] = msg.body
        return draft

    def __call__(self, ev: AlertEvent) -> tuple[dict[str, Any], list[OutboxRow]]:
        payload = self.payload(ev)
        rows = [
            OutboxRow(
                "alert",
                self.topics.alerts,
                dumps(payload),
                qos=1,
                retain=False,
                priority=PRIORITY_ALERT,
            )
        ]
        if self.config.cap.enabled:
            first = ev.extra.get("first_payload")
            rows.append(
                OutboxRow(
                    "cap",
                    self.topics.cap,
                    self.cap_xml(payload, first),
                    qos=1,
                    retain=False,
                    priority=PRIORITY_ALERT,
                )
            )
        return payload, rows

    @property
    def cap_sender(self) -> str:
        return f"{self.config.agent.device_id}@{self.config.agent.site_id}.edge-agent"

    def cap_xml(self, payload: dict[str, Any], first: dict[str, Any] | None = None) -> bytes:
        """CAP 1.2 XML; updates and cancels reference the alert's first message."""
        from edge_agent.cap import build_cap, cap_reference

        refs = cap_reference(first, sender=self.cap_sender) if first else None
        return build_cap(
            payload, sender=self.cap_sender, langs=self.config.cap.langs, references=refs
        )

    def telemetry_row(self, summary: dict[str, Any], seq: int) -> OutboxRow:
        from edge_agent.mqtt.payloads import TELEMETRY_SCHEMA, iso

        body = {
            "schema": TELEMETRY_SCHEMA,
            "seq": seq,
            "site_id": self.config.agent.site_id,
            "device_id": self.config.agent.device_id,
            **summary,
            "ts": iso(summary["ts"]),
        }
        return OutboxRow(
            "telemetry",
            self.topics.telemetry(summary["sensor_id"]),
            dumps(body),
            qos=1,
            retain=False,
            priority=PRIORITY_TELEMETRY,
        )
