"""Rules: from a scored reading to one candidate level per hazard.

Each sensor has its own rule instances (built from its pack and overrides);
per hazard the candidate is the worst level any rule asks for, and its reason
is that rule's reason. A reading of ``fault`` quality reaches only rules that
accept faulty readings (the sensor-fault rule): a broken sensor must raise a
``device`` alert, never a smoke alarm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from edge_agent.model import Candidate, Hazard, Level, Quality, Scored
from edge_agent.pipeline.messages import Evaluated, StaffCommand, Stop, Tick

if TYPE_CHECKING:
    from edge_agent.clock import Clock
    from edge_agent.drivers.base import FrameStats
    from edge_agent.rules.base import Rule, Verdict

CurrentLevel = Callable[[str, Hazard], Level]


class RuleSet:
    """The rules of one sensor."""

    def __init__(self, sensor_id: str, rules: Iterable[Rule], unit: str) -> None:
        self.sensor_id = sensor_id
        self.rules = list(rules)
        self.unit = unit
        self.hazards = sorted({r.hazard for r in self.rules}, key=lambda h: h.value)

    def evaluate(self, scored: Scored, current: CurrentLevel) -> list[Candidate]:
        r = scored.reading
        faulty = r.quality is Quality.FAULT
        verdicts: list[Verdict] = []
        for rule in self.rules:
            if faulty and not rule.accepts_faulty:
                continue
            if not rule.applies_to(r.quantity):
                continue
            v = rule.evaluate(scored, current(self.sensor_id, rule.hazard))
            if v is not None:
                verdicts.append(v)
        return self._combine(verdicts, r.t_mono, r.ts, r.clock_synced, r.unit)

    def tick(
        self, clock: Clock, stats: FrameStats | None, current: CurrentLevel
    ) -> list[Candidate]:
        now = clock.monotonic()
        verdicts = [
            v
            for rule in self.rules
            if (v := rule.tick(now, current(self.sensor_id, rule.hazard), stats)) is not None
        ]
        if not verdicts:
            return []
        return self._combine(verdicts, now, clock.now(), clock.synced(), None)

    def _combine(
        self, verdicts: list[Verdict], t_mono: float, ts: datetime, synced: bool, unit: str | None
    ) -> list[Candidate]:
        best: dict[Hazard, Verdict] = {}
        for v in verdicts:
            cur = best.get(v.hazard)
            if cur is None or v.level > cur.level:
                best[v.hazard] = v
        return [
            Candidate(
                sensor_id=self.sensor_id,
                hazard=hz,
                level=v.level,
                value=v.value,
                unit=unit if hz is not Hazard.DEVICE else None,
                reason=v.reason,
                t_mono=t_mono,
                ts=ts,
                clock_synced=synced,
                raise_after_s=v.raise_after_s,
            )
            for hz, v in best.items()
        ]


async def rules_stage(
    rulesets: Mapping[str, RuleSet],
    current: CurrentLevel,
    stats: Callable[[str], FrameStats | None],
    clock: Clock,
    inq: asyncio.Queue[Scored | Tick | Stop],
    outq: asyncio.Queue[Evaluated | Tick | StaffCommand | Stop],
    heartbeat: Callable[[], None],
) -> None:
    """Evaluate each reading against its sensor's rules; on ticks, the time-based rules."""
    while True:
        item = await inq.get()
        heartbeat()
        if isinstance(item, Stop):
            await outq.put(item)
            return
        if isinstance(item, Tick):
            for sid, rs in rulesets.items():
                cands = rs.tick(clock, stats(sid), current)
                if cands:
                    await outq.put(Evaluated(None, cands))
            await outq.put(item)
            continue
        own = rulesets.get(item.reading.sensor_id)
        cands = own.evaluate(item, current) if own is not None else []
        await outq.put(Evaluated(item, cands))
