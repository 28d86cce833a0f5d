"""A smoke alarm's interconnect line or relay contact, read through an optocoupler.

Interconnected smoke alarms drive their interconnect wire to ~9 V while
alarming, and their ICs ignore pulses of 300 ms or less; a relay module gives
a dry contact. Either way the node only believes a level that persists longer
than ``min_active_s``, so a glitch on a long wire never raises a smoke alert.
Never wire the interconnect straight to a GPIO: on mains-powered alarms it is
mains-referenced. See hw/smoke.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.debounce import LevelQualifier
from edge_agent.drivers.gpio_base import GpioDriver, input_options, make_input, pin_option

from edge_agent.options import Option


class GpioAlarmDriver(GpioDriver):
    """Wiring: optocoupler output transistor between the GPIO and GND, pull-up on."""

    name = "gpio_alarm"
    summary = (
        "smoke alarm interconnect or relay contact through an optocoupler: "
        "smoke_alarm 1 while the alarm sounds (level must persist > 300 ms)"
    )
    options: ClassVar[Mapping[str, Option]] = {
        "pin": pin_option("input the optocoupler pulls"),
        **input_options(
            "level of the pin while the alarm sounds (an optocoupler to GND with "
            "the pull-up gives low)"
        ),
        "min_active_s": Option(
            float,
            "the alarm level must persist longer than this to count",
            default=0.3,
            min=0,
            max=60,
        ),
        "min_clear_s": Option(
            float,
            "the quiet level must persist this long before the alarm counts as over",
            default=2.0,
            min=0,
            max=600,
        ),
        "interval_s": Option(
            float,
            "seconds between repeated reports of an unchanged state",
            default=30.0,
            min=0.1,
            max=3600,
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"pin": 17}
    quantities: ClassVar[Mapping[str, str]] = {"smoke_alarm": "state"}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._qualifier: LevelQualifier | None = None
        self._invert = False
        self._device: Any = None

    def open_devices(self) -> None:
        c = self.config
        self._device, self._invert = make_input(
            int(c["pin"]), c.get("pull", "up"), c.get("active", "low"), self.context.pin_factory
        )
        self.own(self._device)
        clock = self.context.clock
        self._qualifier = LevelQualifier(
            float(c.get("min_active_s", 0.3)),
            float(c.get("min_clear_s", 2.0)),
            self._level(),
            clock.monotonic(),
        )
        self._device.when_activated = lambda: self.hop(
            self._edge, not self._invert, clock.monotonic()
        )
        self._device.when_deactivated = lambda: self.hop(
            self._edge, self._invert, clock.monotonic()
        )

    def _level(self) -> bool:
        return bool(self._device.is_active) != self._invert

    def _edge(self, alarm: bool, t: float) -> None:
        if self._qualifier is not None:
            self._report(self._qualifier.observe(alarm, t))

    def _report(self, state: bool | None, *, force: bool = False) -> None:
        q = self._qualifier
        if q is None:
            return
        if state is not None or (force and q.state is not None):
            self.emit(self.reading("smoke_alarm", 1.0 if q.state else 0.0, "state"))

    def on_tick(self, now: float) -> None:
        if self._qualifier is None:
            return
        changed = self._qualifier.poll(now)
        if changed is not None:
            self._report(changed)
        elif self.heartbeat_due(now):
            self._report(None, force=True)
