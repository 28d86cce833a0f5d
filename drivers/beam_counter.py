"""People counter from two IR break-beams across a doorway or gate.

The order in which the beams break gives the direction: ``outer`` then
``inner`` is an entry. Edges are timestamped from the injected clock inside
the gpiozero callback (a break can be shorter than any poll) and debounced
and counted on the loop by :class:`~edge_agent.drivers.debounce.BeamPairCounter`.
Reports ``occupancy`` (never below zero), ``entries`` and ``exits`` on every
passage and every ``interval_s``; all three reset daily at ``reset_at`` local
time, when nobody should be inside, to cancel drift from missed passages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any, ClassVar

from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.debounce import BeamPairCounter
from edge_agent.drivers.gpio_base import GpioDriver, input_options, make_input, pin_option

from edge_agent.options import Option

PERSONS = "persons"


def _check_hhmm(value: Any) -> str | None:
    if value == "":
        return None
    try:
        time.fromisoformat(value)
    except ValueError:
        return f'expected HH:MM (24 h) or "" for no reset, got {value!r}'
    return None


def last_reset_instant(now_local: datetime, at: time) -> datetime:
    """The most recent local ``at`` at or before ``now_local``."""
    candidate = now_local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate <= now_local else candidate - timedelta(days=1)


class BeamCounterDriver(GpioDriver):
    """Wiring: two receivers (open collector) on two GPIOs with pull-ups; emitters on 3.3-5 V."""

    name = "beam_counter"
    summary = (
        "people counter from two IR break-beams: occupancy, entries and exits in "
        "persons (direction from the order of breaks)"
    )
    options: ClassVar[Mapping[str, Option]] = {
        "outer_pin": pin_option("receiver of the beam on the outside of the door"),
        "inner_pin": pin_option("receiver of the beam on the inside of the door"),
        **input_options(
            "level of a receiver while its beam is broken (open-collector receivers "
            "with the pull-up read low when broken)"
        ),
        "debounce_s": Option(
            float,
            "changes within this time of the last one are bounces",
            default=0.05,
            min=0,
            max=1,
        ),
        "max_transit_s": Option(
            float, "a passage taking longer than this is not counted", default=5.0, min=0.1, max=120
        ),
        "reset_at": Option(
            str,
            'local time HH:MM to reset the counts daily ("" = never); '
            "skipped while the clock is not NTP-synchronised",
            default="04:00",
            check=_check_hhmm,
        ),
        "interval_s": Option(
            float,
            "seconds between repeated reports of unchanged counts",
            default=60.0,
            min=0.1,
            max=3600,
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"outer_pin": 5, "inner_pin": 6}
    quantities: ClassVar[Mapping[str, str]] = {
        "occupancy": PERSONS,
        "entries": PERSONS,
        "exits": PERSONS,
    }

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self.counter = BeamPairCounter(
            debounce_s=float(self.config.get("debounce_s", 0.05)),
            max_transit_s=float(self.config.get("max_transit_s", 5.0)),
        )
        at = self.config.get("reset_at", "04:00")
        self._reset_at = time.fromisoformat(at) if at else None
        self._last_reset: datetime | None = None

    def open_devices(self) -> None:
        c = self.config
        clock = self.context.clock
        for beam, key in (("outer", "outer_pin"), ("inner", "inner_pin")):
            device, invert = make_input(
                int(c[key]), c.get("pull", "up"), c.get("active", "low"), self.context.pin_factory
            )
            self.own(device)
            # Default arguments bind this beam's values now, not the loop's last ones.
            device.when_activated = lambda b=beam, inv=invert: self.hop(
                self._edge, b, not inv, clock.monotonic()
            )
            device.when_deactivated = lambda b=beam, inv=invert: self.hop(
                self._edge, b, inv, clock.monotonic()
            )
            state = bool(device.is_active) != invert
            self.counter.beams[beam].broken = self.counter.beams[beam].raw = state
        self._last_reset = clock.now().astimezone()

    def _edge(self, beam: str, broken: bool, t: float) -> None:
        if self.counter.edge(beam, broken, t):
            self._report()

    def _report(self) -> None:
        c = self.counter
        self.emit(self.reading("occupancy", c.occupancy, PERSONS))
        self.emit(self.reading("entries", c.entries, PERSONS))
        self.emit(self.reading("exits", c.exits, PERSONS))

    def _maybe_reset(self) -> bool:
        clock = self.context.clock
        if self._reset_at is None or not clock.synced():
            return False
        now = clock.now().astimezone()
        due = last_reset_instant(now, self._reset_at)
        if self._last_reset is None or self._last_reset < due:
            first = self._last_reset is None
            self._last_reset = now
            if not first:
                self.counter.reset()
                return True
        return False

    def on_tick(self, now: float) -> None:
        passed = self.counter.poll(now)
        if self._maybe_reset() or passed or self.heartbeat_due(now):
            self._report()
