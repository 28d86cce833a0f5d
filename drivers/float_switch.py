"""A float switch (dry contact) on a GPIO: water above or below one mark.

Cheap, needs no power, and keeps working when an ultrasonic sensor is
drowned. Waves and slosh make the contact chatter, so a change counts only
after it has persisted for ``settle_s``. Reports ``float_raised`` 1 or 0, on
every change and every ``interval_s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.gpio_base import QualifiedInputDriver, input_options, pin_option

from edge_agent.options import Option


class FloatSwitchDriver(QualifiedInputDriver):
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
    quantity: ClassVar[str] = "float_raised"

    def hold_times(self) -> tuple[float, float]:
        settle = float(self.config.get("settle_s", 2.0))
        return settle, settle
