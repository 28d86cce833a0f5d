"""Topics and payloads of the MQTT contract (docs/mqtt.md, edge_agent/schemas/).

Payloads are versioned by their ``schema`` key (``edge-agent/alert/1``):
new keys may be added within a version, so consumers must ignore keys they do
not know; removing or changing a key bumps the version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge_agent import __version__
from edge_agent.model import AlertEvent

ALERT_SCHEMA = "edge-agent/alert/1"
STATUS_SCHEMA = "edge-agent/status/1"
TELEMETRY_SCHEMA = "edge-agent/telemetry/1"
CMD_RESULT_SCHEMA = "edge-agent/cmd-result/1"


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic of one agent, derived from ``{prefix}/{site_id}/{device_id}``."""

    base: str

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def alerts(self) -> str:
        return f"{self.base}/alerts"

    def active(self, sensor_id: str) -> str:
        return f"{self.base}/alerts/active/{sensor_id}"

    def telemetry(self, sensor_id: str) -> str:
        return f"{self.base}/telemetry/{sensor_id}"

    @property
    def cap(self) -> str:
        return f"{self.base}/cap"

    @property
    def cmd_filter(self) -> str:
        return f"{self.base}/cmd/+"

    def cmd(self, name: str) -> str:
        return f"{self.base}/cmd/{name}"

    @property
    def cmd_result(self) -> str:
        return f"{self.base}/cmd/result"


def iso(ts: datetime) -> str:
    """ISO 8601 UTC with a ``Z``, millisecond precision."""
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_payload(
    ev: AlertEvent,
    *,
    site_id: str,
    device_id: str,
    lang: str,
    title: str,
    message: str,
    location: Mapping[str, Any],
    boot_id: str,
) -> dict[str, Any]:
    """The alert event of the contract. Every key is always present."""
    return {
        "schema": ALERT_SCHEMA,
        "alert_id": ev.alert_id,
        "seq": ev.seq,
        "site_id": site_id,
        "device_id": device_id,
        "sensor_id": ev.sensor_id,
        "hazard": ev.hazard.value,
        "event": ev.event.value,
        "level": ev.level.label,
        "severity": ev.level.severity,
        "value": ev.value,
        "unit": ev.unit,
        "reason": ev.reason,
        "title": title,
        "message": message,
        "lang": lang,
        "location": dict(location),
        "ts": iso(ev.ts),
        "clock_synced": ev.clock_synced,
        "previous_level": ev.extra.get("previous_level"),
        "boot_id": boot_id,
        "t_mono": round(ev.t_mono, 3),
    }


def status_payload(
    state: str,
    *,
    site_id: str,
    device_id: str,
    ts: datetime,
    clock_synced: bool,
    boot_id: str,
    sensors: Sequence[str],
) -> dict[str, Any]:
    return {
        "schema": STATUS_SCHEMA,
        "state": state,
        "site_id": site_id,
        "device_id": device_id,
        "ts": iso(ts),
        "clock_synced": clock_synced,
        "version": __version__,
        "boot_id": boot_id,
        "sensors": list(sensors),
    }


def dumps(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; Chinese text stays readable on the wire."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
