"""The alert state machine: turns candidate levels into few, trustworthy alert events.

One machine per (sensor, hazard). It raises only after the level has held
for ``raise_after_s`` (one dusty frame is not a fire), escalates at once (a
worsening hazard is never delayed), and de-escalates or clears only after the
rules' hysteresis *and* ``clear_after_s`` of calmer readings (no flapping).
Time is the readings' monotonic time, so replay runs the same machine on
recorded time. Timers advance only on readings: a sensor that goes silent
never clears its alert (silence is not "all clear"; the fault rule raises a
device alert instead).

Open alerts are persisted by the store after every event and restored with
:meth:`AlertBook.restore`, so a restart neither re-raises nor forgets them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from edge_agent.model import AlertEvent, Candidate, EventKind, Hazard, Level


@dataclass(slots=True)
class OpenAlert:
    """What survives a restart: the open alert on one (sensor, hazard)."""

    sensor_id: str
    hazard: Hazard
    alert_id: str
    level: Level
    acknowledged: bool = False
    #: After a staff ``resolve`` while the condition persists: do not re-raise
    #: until the level has dropped to none, unless it gets worse than this.
    suppressed_level: Level = Level.NONE


@dataclass(slots=True)
class Timing:
    raise_after_s: float
    clear_after_s: float


@dataclass(slots=True)
class AlertMachine:
    """State machine for one (sensor, hazard)."""

    sensor_id: str
    hazard: Hazard
    timing: Timing
    alert_id: str | None = None
    level: Level = Level.NONE
    acknowledged: bool = False
    suppressed_level: Level = Level.NONE
    _pending_since: float | None = None
    _below_since: float | None = None
    _below_max: Level = Level.NONE
    _last: Candidate | None = field(default=None, repr=False)

    def update(self, c: Candidate) -> AlertEvent | None:
        """Feed one candidate; return the event it causes, if any."""
        self._last = c
        t = c.t_mono
        if self.level is Level.NONE:
            return self._idle(c, t)
        if c.level > self.level:
            self._below_since = None
            return self._emit(EventKind.ESCALATED, c.level, c)
        if c.level == self.level:
            self._below_since = None
            return None
        # Calmer than the alert's level: wait clear_after_s, never going below
        # the worst level seen while waiting.
        if self._below_since is None:
            self._below_since, self._below_max = t, c.level
            if self.timing.clear_after_s > 0:
                return None
        self._below_max = max(self._below_max, c.level)
        if t - self._below_since < self.timing.clear_after_s:
            return None
        target = self._below_max
        # The wait for the next step down starts now, if this reading is below
        # the new level already.
        if c.level < target:
            self._below_since, self._below_max = t, c.level
        else:
            self._below_since, self._below_max = None, Level.NONE
        if target is Level.NONE:
            return self._emit(EventKind.CLEARED, Level.NONE, c)
        return self._emit(EventKind.DEESCALATED, target, c)

    def _idle(self, c: Candidate, t: float) -> AlertEvent | None:
        if self.suppressed_level is not Level.NONE:
            if c.level is Level.NONE:
                self.suppressed_level = Level.NONE
            elif c.level <= self.suppressed_level:
                return None
        if c.level is Level.NONE:
            self._pending_since = None
            return None
        if self._pending_since is None:
            self._pending_since = t
        dwell = c.raise_after_s if c.raise_after_s is not None else self.timing.raise_after_s
        if t - self._pending_since < dwell:
            return None
        self._pending_since = None
        self.suppressed_level = Level.NONE
        return self._emit(EventKind.RAISED, c.level, c)

    def tick(self, now_mono: float) -> AlertEvent | None:
        """Raise a pending alert whose dwell has passed, without waiting for the next reading.

        A sensor that reports every few minutes (or only on change, like an
        alarm interconnect) must not delay an alert by one reporting interval.
        Only raising is done here: clearing always needs calm *readings*.
        """
        c = self._last
        if self.level is not Level.NONE or self._pending_since is None or c is None:
            return None
        if c.level is Level.NONE or now_mono < c.t_mono:
            return None
        later = replace(c, t_mono=now_mono)
        return self._idle(later, now_mono)

    def _emit(self, kind: EventKind, level: Level, c: Candidate) -> AlertEvent:
        if kind is EventKind.RAISED:
            self.alert_id = uuid.uuid4().hex
            self.acknowledged = False
        assert self.alert_id is not None
        event = AlertEvent(
            alert_id=self.alert_id,
            sensor_id=self.sensor_id,
            hazard=self.hazard,
            event=kind,
            level=level,
            value=c.value,
            unit=c.unit,
            reason=dict(c.reason),
            ts=c.ts,
            clock_synced=c.clock_synced,
            t_mono=c.t_mono,
            extra={"previous_level": self.level.label},
        )
        if kind is EventKind.CLEARED:
            self._close()
        else:
            self.level = level
        return event

    def _close(self) -> None:
        self.alert_id = None
        self.level = Level.NONE
        self.acknowledged = False
        self._below_since = None
        self._pending_since = None

    def staff_event(
        self,
        kind: EventKind,
        *,
        by: str,
        note: str | None,
        verdict: str | None,
        ts: datetime,
        clock_synced: bool,
        t_mono: float,
    ) -> AlertEvent:
        """An ``acknowledged`` or ``resolved`` event from a person on duty."""
        if self.alert_id is None:
            raise LookupError(f"no open {self.hazard.value} alert on sensor {self.sensor_id!r}")
        last = self._last
        event = AlertEvent(
            alert_id=self.alert_id,
            sensor_id=self.sensor_id,
            hazard=self.hazard,
            event=kind,
            level=self.level,
            value=last.value if last else None,
            unit=last.unit if last else None,
            reason={"by": by, "note": note, "verdict": verdict},
            ts=ts,
            clock_synced=clock_synced,
            t_mono=t_mono,
            extra={"previous_level": self.level.label},
        )
        if kind is EventKind.ACKNOWLEDGED:
            self.acknowledged = True
        elif kind is EventKind.RESOLVED:
            self.suppressed_level = self.level
            self._close()
        return event

    def snapshot(self) -> OpenAlert | None:
        if self.alert_id is None:
            return None
        return OpenAlert(
            self.sensor_id,
            self.hazard,
            self.alert_id,
            self.level,
            self.acknowledged,
            self.suppressed_level,
        )


class AlertBook:
    """All machines of one agent, created on first use, keyed by (sensor, hazard)."""

    def __init__(self, timings: Mapping[str, Timing]) -> None:
        self._timings = dict(timings)
        self._machines: dict[tuple[str, Hazard], AlertMachine] = {}

    def machine(self, sensor_id: str, hazard: Hazard) -> AlertMachine:
        key = (sensor_id, hazard)
        m = self._machines.get(key)
        if m is None:
            timing = self._timings.get(sensor_id) or Timing(0.0, 0.0)
            m = self._machines[key] = AlertMachine(sensor_id, hazard, timing)
        return m

    def set_timing(self, sensor_id: str, timing: Timing) -> None:
        self._timings[sensor_id] = timing
        for (sid, _), m in self._machines.items():
            if sid == sensor_id:
                m.timing = timing

    def level(self, sensor_id: str, hazard: Hazard) -> Level:
        m = self._machines.get((sensor_id, hazard))
        return m.level if m else Level.NONE

    def update(self, candidates: Iterable[Candidate]) -> list[AlertEvent]:
        events = []
        for c in candidates:
            event = self.machine(c.sensor_id, c.hazard).update(c)
            if event is not None:
                events.append(event)
        return events

    def tick(self, now_mono: float) -> list[AlertEvent]:
        """Let every machine act on the passage of time (pending raises)."""
        return [ev for m in self._machines.values() if (ev := m.tick(now_mono)) is not None]

    def restore(self, open_alerts: Iterable[OpenAlert]) -> None:
        for a in open_alerts:
            m = self.machine(a.sensor_id, a.hazard)
            m.alert_id, m.level, m.acknowledged = a.alert_id, a.level, a.acknowledged
            m.suppressed_level = a.suppressed_level

    def open_alerts(self) -> list[OpenAlert]:
        return [s for m in self._machines.values() if (s := m.snapshot()) is not None]

    def levels(self) -> dict[tuple[str, str], Level]:
        """Current level of every open alert, for the local alarm and status."""
        return {
            (sid, hz.value): m.level
            for (sid, hz), m in self._machines.items()
            if m.level is not Level.NONE
        }

    def find(
        self, alert_id: str | None = None, sensor_id: str | None = None, hazard: str | None = None
    ) -> list[AlertMachine]:
        """Open alerts matching a staff command's target."""
        out = []
        for (sid, hz), m in self._machines.items():
            if m.alert_id is None:
                continue
            if alert_id and m.alert_id != alert_id:
                continue
            if sensor_id and sid != sensor_id:
                continue
            if hazard and hz.value != hazard:
                continue
            out.append(m)
        return out
