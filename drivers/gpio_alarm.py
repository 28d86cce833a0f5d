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

from edge_agent.drivers.gpio_base import QualifiedInputDriver, input_options, pin_option

from edge_agent.options import Option


class GpioAlarmDriver(QualifiedInputDriver):
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
    quantity: ClassVar[str] = "smoke_alarm"

    def hold_times(self) -> tuple[float, float]:
        return float(self.config.get("min_active_s", 0.3)), float(
            self.config.get("min_clear_s", 2.0)
        )
