"""Replay recorded data through the daemon's own detection, rules and alert state machine.

The objects are the daemon's (:class:`~edge_agent.pipeline.detect.Detection`,
:class:`~edge_agent.pipeline.evaluate.RuleSet`,
:class:`~edge_agent.pipeline.alerts.AlertBook`), driven synchronously on the
recorded timestamps: each sensor keeps its own models, alert state and
clock, time advances only as its rows do, nothing sleeps and nothing touches
the network or hardware. What replay says an installer's thresholds would
have done is what the daemon would have done.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from edge_agent.config.model import Config
from edge_agent.errors import ConfigError
from edge_agent.model import AlertEvent, EventKind, Level, Quality, Reading
from edge_agent.pipeline.alerts import AlertBook, Timing
from edge_agent.pipeline.detect import Detection, DetectSpec
from edge_agent.pipeline.evaluate import RuleSet
from edge_agent.registry import Registry
from edge_agent.rulepacks import RulePack, load_pack

OUTPUT_HEADER = ("timestamp", "sensor_id", "value", "anomaly_score", "level")
DEFAULT_SENSOR = "series"


class ReplayInputError(ValueError):
    """A row of the input cannot be used; the message names the file, line and column."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    ts: datetime
    sensor_id: str
    value: float
    raw_ts: str
    raw_value: str


@dataclass(frozen=True, slots=True)
class Result:
    row: Row
    score: float | None
    level: Level
    events: list[AlertEvent]


@dataclass
class Summary:
    rows: int = 0
    sensors: set[str] = field(default_factory=set)
    events: list[tuple[str, AlertEvent]] = field(default_factory=list)

    def raised(self) -> list[tuple[str, AlertEvent]]:
        return [(ts, e) for ts, e in self.events if e.event is EventKind.RAISED]


def parse_ts(text: str) -> datetime:
    """ISO 8601 or NAB's ``YYYY-MM-DD HH:MM:SS``; naive stamps are taken as UTC."""
    ts = datetime.fromisoformat(text.strip())
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def read_rows(f: TextIO, name: str) -> Iterator[Row]:
    """Rows of ``timestamp,value`` or ``timestamp,sensor_id,value`` (header required)."""
    reader = csv.reader(f)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ReplayInputError(f"{name}: empty file (expected a header line)") from None
    if header == ["timestamp", "value"]:
        idx_ts, idx_sensor, idx_value = 0, None, 1
    elif header[:3] == ["timestamp", "sensor_id", "value"]:
        idx_ts, idx_sensor, idx_value = 0, 1, 2
    else:
        raise ReplayInputError(
            f"{name}:1: header is {','.join(header)!r}; expected 'timestamp,value' (one series)"
            " or 'timestamp,sensor_id,value'"
        )
    width = max(i for i in (idx_ts, idx_sensor, idx_value) if i is not None) + 1
    for line, rec in enumerate(reader, start=2):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) < width:
            raise ReplayInputError(f"{name}:{line}: expected {width} columns, got {len(rec)}")
        try:
            ts = parse_ts(rec[idx_ts])
        except ValueError:
            raise ReplayInputError(
                f"{name}:{line}: timestamp {rec[idx_ts]!r} is not ISO 8601 "
                "(e.g. 2020-01-22T06:10:00Z or 2014-04-01 00:00:00)"
            ) from None
        text = rec[idx_value].strip()
        try:
            value = float(text)
        except ValueError:
            raise ReplayInputError(f"{name}:{line}: value {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ReplayInputError(f"{name}:{line}: value {text!r} is not a finite number")
        sensor = rec[idx_sensor].strip() if idx_sensor is not None else DEFAULT_SENSOR
        if not sensor:
            raise ReplayInputError(f"{name}:{line}: empty sensor_id")
        yield Row(line, ts, sensor, value, rec[idx_ts].strip(), text)


class Replayer:
    """Per-sensor detection, rules and alert state, driven by recorded rows."""

    def __init__(
        self, *, pack: RulePack, config: Config | None = None, registry: Registry | None = None
    ) -> None:
        self.registry = registry or Registry()
        self.default_pack = pack
        self.config = config
        self._packs: dict[str, tuple[RulePack, dict[str, Any], dict[str, Any]]] = {}
        self.rulesets: dict[str, RuleSet] = {}
        self.book = AlertBook({})
        self.detection = Detection({})
        self._start: dict[str, datetime] = {}
        self._last_mono: dict[str, float] = {}
        self._specs: dict[str, DetectSpec] = {}

    def _sensor(self, sensor_id: str) -> RuleSet:
        rs = self.rulesets.get(sensor_id)
        if rs is not None:
            return rs
        pack, overrides, detection = self.default_pack, {}, {}
        if self.config is not None:
            for s in self.config.sensors:
                if s.id == sensor_id:
                    pack, overrides, detection = s.pack, s.overrides, s.detection
        rs = RuleSet(sensor_id, pack.build_rules(self.registry, overrides), pack.unit)
        self.rulesets[sensor_id] = rs
        self._packs[sensor_id] = (pack, overrides, detection)
        info = pack.info(overrides)
        self.book.set_timing(sensor_id, Timing(info.raise_after_s, info.clear_after_s))
        self._specs[sensor_id] = DetectSpec(pack.quantity, {**pack.detection, **detection})
        self.detection.reconfigure(self._specs)
        return rs

    def step(self, row: Row) -> Result:
        rs = self._sensor(row.sensor_id)
        pack = self._packs[row.sensor_id][0]
        start = self._start.setdefault(row.sensor_id, row.ts)
        # The sensor's own monotonic clock: seconds since its first row, never backwards.
        t = max((row.ts - start).total_seconds(), self._last_mono.get(row.sensor_id, 0.0))
        self._last_mono[row.sensor_id] = t
        reading = Reading(
            row.sensor_id, pack.quantity, row.value, pack.unit, t, row.ts, True, Quality.OK
        )
        scored = self.detection.score(reading)
        events = self.book.update(rs.evaluate(scored, self.book.level))
        level = max((self.book.level(row.sensor_id, h) for h in rs.hazards), default=Level.NONE)
        return Result(row, scored.score, level, events)

    def run(self, rows: Iterable[Row], on_result: Callable[[Result], None]) -> Summary:
        summary = Summary()
        for row in rows:
            res = self.step(row)
            summary.rows += 1
            summary.sensors.add(row.sensor_id)
            for ev in res.events:
                summary.events.append((row.raw_ts, ev))
            on_result(res)
        return summary


def resolve_pack(ref: str, registry: Registry) -> RulePack:
    try:
        return load_pack(ref, Path.cwd(), registry)
    except FileNotFoundError:
        from edge_agent.rulepacks import builtin_pack_names

        raise ConfigError(
            [
                f"--rules: no rule pack {ref!r} (built-in: "
                f"{', '.join(builtin_pack_names())}; or a path to a .toml file)"
            ]
        ) from None


def format_score(score: float | None) -> str:
    """Scores near 1 matter (0.999999 is a threshold): keep enough digits."""
    if score is None:
        return "0"
    return f"{score:.10g}"
