"""Trigger/echo ultrasonic sensor (HC-SR04, JSN-SR04T mode 1) through gpiozero's DistanceSensor.

Level = mounting height above the datum - distance. Python on Linux times the
echo with jitter of a few millimetres to centimetres, so gpiozero's median of
recent echoes is used, and a UART sensor (``a02yyuw``) is the better choice
for a permanent gauge. gpiozero clips at ``max_distance`` (raised here from
its 1 m default) and silently keeps old values when echoes stop; this driver
tracks echo times itself and reports nothing (the fault rule sees the
silence) when no echo came back recently.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.gpio_base import PolledDriver, pin_option

from edge_agent.model import Quality, Reading
from edge_agent.options import Option


def _tracked_sensor_class() -> type:
    """DistanceSensor that remembers when it last heard a real echo."""
    from gpiozero import DistanceSensor

    class TrackedDistanceSensor(DistanceSensor):  # type: ignore[misc]
        last_echo = -1e18
        no_echo = 0

        def _read(self) -> float | None:
            # gpiozero's queue thread may take one more sample while the sensor
            # closes (its trigger is already gone): that sample is no reading.
            if getattr(self, "_trigger", None) is None:
                return None
            value: float | None = super()._read()
            if value is None:
                self.no_echo += 1
            else:
                self.last_echo = time.monotonic()
            return value

    return TrackedDistanceSensor


class UltrasonicDriver(PolledDriver):
    """Wiring: TRIG <- GPIO, ECHO (5 V!) -> 1 kΩ / 2 kΩ divider -> GPIO; 5 V, GND."""

    name = "ultrasonic"
    summary = (
        "trigger/echo ultrasonic distance sensor (HC-SR04, JSN-SR04T mode 1) on two GPIOs: "
        "water level in m above the datum"
    )
    options: ClassVar[Mapping[str, Option]] = {
        "trigger_pin": pin_option("output to the sensor's TRIG"),
        "echo_pin": pin_option("input from the sensor's ECHO, through a 5 V -> 3.3 V divider"),
        "mounting_height_m": Option(
            float,
            "height of the sensor face above the level datum, m (0 puts the datum at the "
            "sensor face, so levels read as negative distances: set it before deployment)",
            default=0.0,
            min=0,
            max=100,
        ),
        "max_distance_m": Option(
            float,
            "longest distance measured; farther reads as this and is marked suspect",
            default=4.0,
            min=0.1,
            max=10,
        ),
        "interval_s": Option(float, "seconds between readings", default=1.0, min=0.1, max=3600),
        "echo_timeout_s": Option(
            float, "no reading when no echo came back for this long", default=2.0, min=0.1, max=60
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {
        "trigger_pin": 23,
        "echo_pin": 24,
        "mounting_height_m": 2.5,
    }
    quantities: ClassVar[Mapping[str, str]] = {"water_level": "m"}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._sensor: Any = None

    def open_devices(self) -> None:
        import warnings

        c = self.config
        with warnings.catch_warnings():
            # gpiozero warns that software timing is imprecise: the module docstring says so.
            warnings.simplefilter("ignore")
            self._sensor = self.own(
                _tracked_sensor_class()(
                    echo=int(c["echo_pin"]),
                    trigger=int(c["trigger_pin"]),
                    max_distance=float(c.get("max_distance_m", 4.0)),
                    partial=True,
                    pin_factory=self.context.pin_factory,
                )
            )

    def read_blocking(self) -> list[Reading]:
        c = self.config
        sensor = self._sensor
        if time.monotonic() - sensor.last_echo > float(c.get("echo_timeout_s", 2.0)):
            self.frame_stats.timeouts += 1
            self.frame_stats.last_error = f"no echo ({sensor.no_echo} missed)"
            return []
        distance = float(sensor.distance)
        self.frame_stats.frames_ok += 1
        max_d = float(c.get("max_distance_m", 4.0))
        quality = Quality.SUSPECT if distance >= max_d * 0.999 else Quality.OK
        level = float(c["mounting_height_m"]) - distance
        return [self.reading("water_level", round(level, 4), "m", quality)]
