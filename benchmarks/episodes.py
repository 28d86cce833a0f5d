"""Replay recorded series through the agent's own pipeline and summarise its decisions.

Shared by the decision benchmarks (``benchmarks.detection --decisions``,
``--water``, ``--air``, ``--crowd``): rows go through
:class:`edge_agent.replay.Replayer` exactly as ``edge-agent replay`` sends
them, and what staff would have seen is read back from the alert events.

An *episode* is one alert of one (sensor, hazard): from ``raised`` to
``cleared`` (or to the end of the data), with the worst level it reached.
Sensor-fault (``device``) alerts are counted apart: they are about the
sensor, not the hazard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edge_agent.model import AlertEvent, EventKind, Hazard, Level
from edge_agent.replay import Replayer, Result, Row
from edge_agent.rulepacks import RulePack


@dataclass
class Episode:
    """One alert of one (sensor, hazard), raised to cleared."""

    sensor_id: str
    hazard: Hazard
    start: datetime
    end: datetime | None = None
    worst: Level = Level.NONE
    #: (ts, level, rule id) of every raise or escalation, in order.
    steps: list[tuple[datetime, Level, str]] = field(default_factory=list)

    def overlaps(self, lo: datetime, hi: datetime) -> bool:
        end = self.end or datetime.max.replace(tzinfo=self.start.tzinfo)
        return self.start < hi and end >= lo


@dataclass
class ReplayRun:
    """What one replay produced: per-row scores and levels, episodes, timing."""

    rows: int = 0
    episodes: list[Episode] = field(default_factory=list)
    #: Per sensor, per row: 1.0 where an alert of a hazard was raised or escalated.
    rises: dict[str, list[float]] = field(default_factory=dict)
    #: Per sensor: (ts, value) of every row, in order.
    series: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)


def make_rows(sensor_id: str, points: Iterable[tuple[datetime, float]]) -> list[Row]:
    """Replay rows of one sensor (line numbers count from 2, as in a CSV with a header)."""
    return [
        Row(i, ts, sensor_id, value, ts.isoformat(), repr(value))
        for i, (ts, value) in enumerate(points, start=2)
    ]


def _rule_of(ev: AlertEvent) -> str:
    reason: Mapping[str, Any] = ev.reason or {}
    return str(reason.get("rule", "?"))


def replay(pack: RulePack, rows: Iterable[Row], *, keep_series: bool = False) -> ReplayRun:
    """Run ``rows`` through a fresh :class:`Replayer` with ``pack`` and collect its decisions."""
    replayer = Replayer(pack=pack)
    run = ReplayRun()
    open_eps: dict[tuple[str, Hazard], Episode] = {}

    def on_result(res: Result) -> None:
        row = res.row
        run.rows += 1
        rose = 0.0
        for ev in res.events:
            key = (ev.sensor_id, ev.hazard)
            if ev.event is EventKind.RAISED:
                ep = Episode(ev.sensor_id, ev.hazard, row.ts)
                open_eps[key] = ep
                run.episodes.append(ep)
            ep_open = open_eps.get(key)
            if ev.event in (EventKind.RAISED, EventKind.ESCALATED) and ep_open is not None:
                ep_open.worst = max(ep_open.worst, ev.level)
                ep_open.steps.append((row.ts, ev.level, _rule_of(ev)))
                if ev.hazard is not Hazard.DEVICE:
                    rose = 1.0
            if ev.event is EventKind.CLEARED and ep_open is not None:
                ep_open.end = row.ts
                del open_eps[key]
        run.rises.setdefault(row.sensor_id, []).append(rose)
        if keep_series:
            run.series.setdefault(row.sensor_id, []).append((row.ts, row.value))

    replayer.run(rows, on_result)
    return run


def per_month(episodes: Iterable[Episode], sensor_months: float) -> float:
    """Episodes per sensor-month (a month = 30.44 days)."""
    n = sum(1 for _ in episodes)
    return n / sensor_months if sensor_months > 0 else 0.0


def months(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / (30.44 * 86400.0)


def level_counts(episodes: Iterable[Episode]) -> dict[str, int]:
    """Episodes by the worst level they reached, blue..red."""
    out = {lvl.label or "": 0 for lvl in (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)}
    for ep in episodes:
        if ep.worst.label:
            out[ep.worst.label] += 1
    return out
