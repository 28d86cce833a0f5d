"""Local alarm outputs: buzzer, relay (siren, strobe), LED, and a silence button.

Importing this package is cheap: gpiozero is imported only when a
:class:`LocalAlarm` is built, so ``check-config`` can use
:data:`OUTPUT_OPTIONS` without touching GPIO.
"""

from edge_agent.outputs.local_alarm import LocalAlarm, LocalAlarmClosedError
from edge_agent.outputs.options import (
    HARD_MAX_SILENCE_S,
    OUTPUT_OPTIONS,
    check_outputs,
    normalise_pin,
    output_name,
)

__all__ = [
    "HARD_MAX_SILENCE_S",
    "OUTPUT_OPTIONS",
    "LocalAlarm",
    "LocalAlarmClosedError",
    "check_outputs",
    "normalise_pin",
    "output_name",
]
