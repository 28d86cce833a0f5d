"""Build a real store the way the daemon fills it, for status and audit tests.

Alert events go through the real renderer (payload and message text, outbox
rows, retained active topic) and the real Store; commands through
``Store.record_command``; nothing is written with hand-made SQL.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge_agent.config.load import build_config
from edge_agent.config.model import Config
from edge_agent.model import AlertEvent, EventKind, Hazard, Level
from edge_agent.mqtt.payloads import Topics, dumps
from edge_agent.pipeline.alerts import OpenAlert
from edge_agent.pipeline.render import EventRenderer
from edge_agent.store.db import PRIORITY_TELEMETRY, EventCommit, OutboxRow, Store
from tests.agent_helpers import sim_config

BOOT = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def config(state_dir: Path) -> Config:
    text = sim_config(state_dir, "mqtt://127.0.0.1:1", scenarios=("smoke", "water"))
    return build_config(tomllib.loads(text), check_files=False)


@dataclass
class Built:
    """What was written, to compare the commands' output with."""

    state_dir: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    commands: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    marks: dict[str, datetime] = field(default_factory=dict)
    backlog: dict[str, dict[str, int]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)


class Builder:
    def __init__(self, state_dir: Path, *, outbox_max_bytes: int = 64 * 1024 * 1024) -> None:
        self.cfg = config(state_dir)
        self.store, _ = Store.open(state_dir, outbox_max_bytes=outbox_max_bytes)
        self.renderer = EventRenderer(self.cfg, BOOT)
        self.topics = Topics(self.cfg.base_topic)
        self.built = Built(state_dir)
        self.t_mono = 100.0

    def event(
        self,
        sensor: str,
        hazard: Hazard,
        kind: EventKind,
        level: Level,
        value: float | None,
        reason: dict[str, Any],
        *,
        alert_id: str,
        acknowledged: bool = False,
        open_after: bool = True,
        clock_synced: bool = True,
    ) -> dict[str, Any]:
        self.t_mono += 1.5
        unit = "µg/m³" if hazard is Hazard.SMOKE else "m"
        prev = None if kind is EventKind.RAISED else "orange"
        ev = AlertEvent(
            alert_id,
            sensor,
            hazard,
            kind,
            level,
            value,
            unit,
            reason,
            datetime.now(UTC),
            clock_synced,
            self.t_mono,
            extra={"previous_level": prev},
        )
        state = OpenAlert(sensor, hazard, alert_id, level, acknowledged) if open_after else None
        (committed,) = self.store.commit_events(
            [EventCommit(ev, self.renderer, state, self.topics.active(sensor))], BOOT
        )
        self.built.events.append(committed.payload)
        time.sleep(0.002)  # distinct stamps, as real events are
        return committed.payload

    def command(self, name: str, payload: dict[str, Any] | str, outcome: str, detail: str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        cmd_id = None if isinstance(payload, str) else payload.get("id")
        self.store.record_command(
            name, None if cmd_id is None else str(cmd_id), text, outcome, detail
        )
        self.built.commands.append((name, None if cmd_id is None else str(cmd_id), outcome, detail))
        time.sleep(0.002)

    def mark(self, name: str) -> None:
        self.built.marks[name] = datetime.now(UTC)
        time.sleep(0.002)


def incident(state_dir: Path) -> Built:
    """A smoke alert's whole life with staff commands, plus an open water alert.

    smoke-1: raised orange -> acknowledged (ack command) -> escalated red ->
    a rejected resolve -> resolved as a false alarm. water-1: raised yellow,
    still open and unacknowledged. Telemetry overflows the small outbox so
    some is shed; one telemetry row is refused by the "broker".
    """
    b = Builder(state_dir)
    s = b.store
    s.set_meta_many(
        {
            "version": "9.8.7",
            "boot_id": BOOT,
            "clock_synced": "true",
            "started_ts": datetime.now(UTC).isoformat(),
            "config": "/etc/x.toml",
        }
    )
    threshold = {"rule": "pm25-level", "kind": "threshold", "direction": "above"}
    b.mark("start")
    b.event(
        "smoke-1",
        Hazard.SMOKE,
        EventKind.RAISED,
        Level.ORANGE,
        281.4,
        {**threshold, "threshold": 250.0, "value": 281.4},
        alert_id="smoke-a1",
    )
    b.command(
        "ack",
        {"id": "c-1", "by": "Wang Fang", "alert_id": "smoke-a1", "note": "on my way"},
        "ok",
        "ack: 1 alert(s): smoke-a1",
    )
    b.event(
        "smoke-1",
        Hazard.SMOKE,
        EventKind.ACKNOWLEDGED,
        Level.ORANGE,
        281.4,
        {"by": "Wang Fang", "note": "on my way", "verdict": None},
        alert_id="smoke-a1",
        acknowledged=True,
    )
    b.mark("after_ack")
    b.event(
        "smoke-1",
        Hazard.SMOKE,
        EventKind.ESCALATED,
        Level.RED,
        512.0,
        {**threshold, "threshold": 500.0, "value": 512.0},
        alert_id="smoke-a1",
        acknowledged=True,
    )
    b.command("resolve", "{not json", "error", "payload is not JSON: Expecting property name")
    b.command(
        "resolve",
        {
            "id": 7,
            "by": "Li Wei",
            "sensor_id": "smoke-1",
            "verdict": "false_alarm",
            "note": "canteen smoke",
        },
        "ok",
        "resolve: 1 alert(s): smoke-a1",
    )
    b.event(
        "smoke-1",
        Hazard.SMOKE,
        EventKind.RESOLVED,
        Level.RED,
        512.0,
        {"by": "Li Wei", "note": "canteen smoke", "verdict": "false_alarm"},
        alert_id="smoke-a1",
        open_after=False,
    )
    b.mark("after_resolve")
    b.event(
        "water-1",
        Hazard.WATER,
        EventKind.RAISED,
        Level.YELLOW,
        0.42,
        {"rule": "depth", "kind": "threshold", "threshold": 0.3, "value": 0.42},
        alert_id="water-a1",
        clock_synced=False,
    )
    b.mark("end")

    now = datetime.now(UTC).isoformat()
    s.add_readings(
        [
            ("smoke-1", "pm2_5", 512.0, "µg/m³", "ok", 0.9, now, 1, 1.0, BOOT),
            ("smoke-1", "pm2_5", 35.5, "µg/m³", "ok", 0.1, now, 1, 2.0, BOOT),
            ("water-1", "water_level", 0.42, "m", "suspect", None, now, 1, 2.0, BOOT),
        ]
    )
    # Deliver the first alert row, as the publisher does on PUBACK: sets last_publish_ts.
    first = s.outbox_batch(1)
    s.outbox_done([first[0].id])
    # Telemetry past the outbox bound (room for about two summaries beside the alert
    # rows, which are never shed): the oldest is shed and counted.
    s.outbox_max_bytes = s.outbox_bytes + 1000
    for i in range(6):
        body = dumps({"i": i, "pad": "x" * 300})
        s.add_telemetry(
            [
                lambda seq, body=body: OutboxRow(
                    "telemetry",
                    b.topics.telemetry("smoke-1"),
                    body,
                    qos=1,
                    priority=PRIORITY_TELEMETRY,
                )
            ]
        )
    # A row the broker refused (an ACL deny) stays parked and is reported.
    refused = [i for i in s.outbox_batch(50) if i.kind == "telemetry"][-1]
    s.outbox_failed(refused.id, "refused: Not authorized")
    s.set_meta_many(
        {
            "broker_state": "disconnected",
            "broker_state_ts": datetime.now(UTC).isoformat(),
            "broker_error": "[Errno 111] Connection refused",
        }
    )
    b.built.backlog = s.backlog()
    b.built.counters = s.counters()
    s.close()
    return b.built
