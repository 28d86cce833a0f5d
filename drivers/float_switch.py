"""A float switch (dry contact) on a GPIO: water above or below one mark.

Cheap, needs no power, and keeps working when an ultrasonic sensor is
drowned. Waves and slosh make the contact chatter, so a change counts only
after it has persisted for ``settle_s``. Reports ``float_raised`` 1 or 0, on
every change and every ``interval_s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.debounce import LevelQualifier
from edge_agent.drivers.gpio_base import GpioDriver, input_options, make_input, pin_option

from edge_agent.options import Option


class FloatSwitchDriver(GpioDriver):
    """Wiring: switch between the GPIO and GND, internal pull-up on."""

    name = "float_switch"
    summary = "float switch (dry contact) on a GPIO: float_raised 1 when water lifts the float"
    options: ClassVar[Mapping[str, Option]] = {
        "pin": pin_option("input the switch connects to GND"),
        **input_options(
            "level of the pin while the float is raised (a normally-open switch to "
            "GND with the pull-up gives low)"
        ),
        "settle_s": Option(
            float,
            "a change must persist this long to count (slosh, waves)",
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
    sample: ClassVar[Mapping[str, Any]] = {"pin": 27, "settle_s": 2.0}
    quantities: ClassVar[Mapping[str, str]] = {"float_raised": "state"}

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
        settle = float(c.get("settle_s", 2.0))
        raised = bool(self._device.is_active) != self._invert
        self._qualifier = LevelQualifier(settle, settle, raised, clock.monotonic())
        self._device.when_activated = lambda: self.hop(
            self._edge, not self._invert, clock.monotonic()
        )
        self._device.when_deactivated = lambda: self.hop(
            self._edge, self._invert, clock.monotonic()
        )

    def _edge(self, raised: bool, t: float) -> None:
        if self._qualifier is not None and self._qualifier.observe(raised, t) is not None:
            self._report()

    def _report(self) -> None:
        q = self._qualifier
        if q is not None and q.state is not None:
            self.emit(self.reading("float_raised", 1.0 if q.state else 0.0, "state"))

    def on_tick(self, now: float) -> None:
        if self._qualifier is None:
            return
        if self._qualifier.poll(now) is not None or self.heartbeat_due(now):
            self._report()
