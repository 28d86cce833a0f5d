"""Time qualification of digital inputs, on timestamps we control (pure, no I/O).

gpiozero's ``bounce_time`` is ignored by its mock pins and hides the edge
times we need, so debouncing is done here, on timestamps taken from the
injected clock when each edge arrives. Tests drive these classes (or the
drivers using them) with a :class:`~edge_agent.clock.ManualClock`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class LevelQualifier:
    """Accept a level only after it has persisted: longer than ``hold_on_s`` to become
    active, ``hold_off_s`` to become inactive.

    A smoke-alarm interconnect pulse of 300 ms or less is ignored (the alarm IC
    ignores it too); a float switch sloshing on waves never flaps. ``state`` is
    None until the first level has persisted.
    """

    def __init__(self, hold_on_s: float, hold_off_s: float, raw: bool, t: float) -> None:
        self.hold_on_s = hold_on_s
        self.hold_off_s = hold_off_s
        self.state: bool | None = None
        self.raw = raw
        self.raw_since = t

    def observe(self, raw: bool, t: float) -> bool | None:
        """A new raw level at ``t``; returns the newly accepted state, if any."""
        changed = self.poll(t)
        if raw != self.raw:
            self.raw, self.raw_since = raw, t
        return changed

    def poll(self, t: float) -> bool | None:
        """Accept the raw level if it has persisted long enough by ``t``."""
        if self.raw == self.state:
            return None
        hold = self.hold_on_s if self.raw else self.hold_off_s
        if t - self.raw_since > hold or (hold == 0 and t >= self.raw_since):
            self.state = self.raw
            return self.state
        return None


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


@dataclass
class _Beam:
    broken: bool = False
    accepted_at: float = -1e18
    raw: bool = False
    raw_at: float = -1e18


@dataclass
class BeamPairCounter:
    """Count passages through two IR break-beams, ``outer`` then ``inner`` = in.

    Debounce: a change is accepted at once if the beam has been steady for
    ``debounce_s`` (so the break time is the true leading edge); changes inside
    that window are held and reconciled by :meth:`poll`. Direction: a passage
    starts with the first beam broken and ends when both are clear; it counts
    only if both beams were broken and the last beam to clear is not the first
    one broken (someone who steps in and turns back is not counted). Passages
    longer than ``max_transit_s`` are abandoned. Occupancy never goes below zero.
    """

    debounce_s: float = 0.05
    max_transit_s: float = 5.0
    entries: int = 0
    exits: int = 0
    occupancy: int = 0
    abandoned: int = 0
    beams: dict[str, _Beam] = field(default_factory=lambda: {"outer": _Beam(), "inner": _Beam()})
    _first: str | None = None
    _seen: set[str] = field(default_factory=set)
    _start: float = 0.0
    _blocked: bool = False

    def edge(self, beam: str, broken: bool, t: float) -> list[Direction]:
        """A raw edge on ``beam`` at ``t``; returns the passages it completed."""
        out = self.poll(t)
        b = self.beams[beam]
        b.raw, b.raw_at = broken, t
        if broken != b.broken and t - b.accepted_at >= self.debounce_s:
            out += self._accept(beam, broken, t)
        return out

    def poll(self, t: float) -> list[Direction]:
        """Reconcile held changes and abandon over-long passages as of ``t``."""
        out: list[Direction] = []
        pending = sorted(
            (b.accepted_at + self.debounce_s, name)
            for name, b in self.beams.items()
            if b.raw != b.broken and t - b.accepted_at >= self.debounce_s
        )
        for when, name in pending:
            out += self._accept(name, self.beams[name].raw, max(when, self.beams[name].raw_at))
        if self._first is not None and t - self._start > self.max_transit_s:
            self._abandon()
        return out

    def reset(self) -> None:
        """Start counting afresh (daily reset); a passage in progress still completes."""
        self.entries = self.exits = self.occupancy = 0

    def _accept(self, beam: str, broken: bool, t: float) -> list[Direction]:
        b = self.beams[beam]
        b.broken, b.accepted_at = broken, t
        if self._first is not None and t - self._start > self.max_transit_s:
            self._abandon()
        if self._blocked:
            # After an abandoned passage, wait until both beams are clear again.
            self._blocked = any(x.broken for x in self.beams.values())
            return []
        if broken:
            if self._first is None:
                self._first, self._start, self._seen = beam, t, {beam}
            else:
                self._seen.add(beam)
            return []
        if self._first is None or any(x.broken for x in self.beams.values()):
            return []
        first, seen = self._first, self._seen
        self._first, self._seen = None, set()
        if len(seen) < 2 or beam == first:
            return []
        if first == "outer":
            self.entries += 1
            self.occupancy += 1
            return [Direction.IN]
        self.exits += 1
        self.occupancy = max(0, self.occupancy - 1)
        return [Direction.OUT]

    def _abandon(self) -> None:
        self.abandoned += 1
        self._first, self._seen = None, set()
        # Beams still broken start no new passage until both are clear again.
        self._blocked = any(x.broken for x in self.beams.values())
