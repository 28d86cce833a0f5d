"""The values that flow through the pipeline.

Every stage speaks these types and nothing else, so a stage can be tested by
feeding it plain values and a driver written by a third party only has to
produce :class:`Reading` objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Level(enum.IntEnum):
    """Alert levels, ordered so that ``max()`` and ``>`` mean "worse".

    China's emergency warning levels IV..I map to blue..red; each maps to a
    CAP 1.2 severity so platforms that speak CAP need no table of their own.
    """

    NONE = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def label(self) -> str | None:
        """The wire name (``"orange"``) or None for no alert."""
        return None if self is Level.NONE else self.name.lower()

    @property
    def severity(self) -> str | None:
        """CAP 1.2 severity for this level."""
        return _SEVERITY[self]

    @classmethod
    def parse(cls, name: str | None) -> Level:
        """Parse a wire name; None and "" mean :attr:`NONE`."""
        if not name:
            return cls.NONE
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(
                f"unknown level {name!r}: expected one of blue, yellow, orange, red"
            ) from None


_SEVERITY: dict[Level, str | None] = {
    Level.NONE: None,
    Level.BLUE: "Minor",
    Level.YELLOW: "Moderate",
    Level.ORANGE: "Severe",
    Level.RED: "Extreme",
}

#: Levels that an alert can be at, lowest first.
ALERT_LEVELS: tuple[Level, ...] = (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)


class Hazard(enum.StrEnum):
    """What an alert is about. ``DEVICE`` is the node itself or a sensor failing."""

    SMOKE = "smoke"
    WATER = "water"
    CROWD = "crowd"
    AIR_QUALITY = "air_quality"
    GENERIC = "generic"
    DEVICE = "device"


class Quality(enum.StrEnum):
    """How far a reading can be trusted, as judged by its driver."""

    OK = "ok"
    SUSPECT = "suspect"
    FAULT = "fault"


class EventKind(enum.StrEnum):
    """Lifecycle events of one alert."""

    RAISED = "raised"
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(slots=True, frozen=True)
class Reading:
    """One measurement of one quantity by one sensor.

    ``t_mono`` (``time.monotonic()``) orders readings and measures intervals;
    ``ts`` is an aware UTC stamp for people and platforms, trustworthy only
    when ``clock_synced`` is true (a Pi has no RTC before NTP syncs).
    """

    sensor_id: str
    quantity: str
    value: float
    unit: str
    t_mono: float
    ts: datetime
    clock_synced: bool
    quality: Quality = Quality.OK


@dataclass(slots=True)
class Scored:
    """A reading after detection: ``score`` is the calibrated anomaly score in [0, 1].

    ``score`` is None while the detector warms up or when detection is off
    for this sensor; rules treat None as "no opinion".
    """

    reading: Reading
    score: float | None = None


@dataclass(slots=True, frozen=True)
class Candidate:
    """What the rules say the level should be for one hazard right now.

    ``reason`` is machine readable (rule id, kind, observed value, threshold)
    and ends up in the alert event's ``reason`` key.
    """

    sensor_id: str
    hazard: Hazard
    level: Level
    value: float | None
    unit: str | None
    reason: dict[str, Any]
    t_mono: float
    ts: datetime
    clock_synced: bool
    #: Dwell override from the deciding rule (None: the pack's raise_after_s).
    raise_after_s: float | None = None


@dataclass(slots=True)
class AlertEvent:
    """One lifecycle event of one alert, before it has a ``seq``.

    The store assigns ``seq`` when it commits the event; only then is the
    event published or shown to anyone.
    """

    alert_id: str
    sensor_id: str
    hazard: Hazard
    event: EventKind
    level: Level
    value: float | None
    unit: str | None
    reason: dict[str, Any]
    ts: datetime
    clock_synced: bool
    t_mono: float
    seq: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
