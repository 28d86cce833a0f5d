"""DFRobot A02YYUW waterproof ultrasonic distance sensor (and JSN-SR04T serial modes).

Mounted above a river, culvert or tank, it measures the distance down to the
water; the level is the sensor's height above the datum minus that distance.
UART output is immune to the timing jitter that spoils trigger/echo sensors
on Linux. Turbulence and rain make single echoes jumpy, so frames within
``interval_s`` are reduced to their median.

Below the lower limit (30 mm) the water is in the blind zone, i.e. as high as
it can be measured: that reading is kept (level at its upper bound) but
marked ``suspect``, never dropped. A distance beyond ``max_mm`` is no echo
and is marked ``fault``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers import frames_a02 as a02
from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.scanner import FrameScanner
from edge_agent.drivers.serial_base import SerialDriver, serial_options

from edge_agent.model import Quality, Reading
from edge_agent.options import Option


class A02yyuwDriver(SerialDriver[int]):
    """Wiring: sensor TX (white) -> Pi RXD (GPIO15); sensor RX (yellow) high/open = auto output."""

    name = "a02yyuw"
    summary = (
        "DFRobot A02YYUW / JSN-SR04T ultrasonic distance sensor on a UART: water level in "
        "m above the datum"
    )
    options: ClassVar[Mapping[str, Option]] = {
        **serial_options(9600),
        "mounting_height_m": Option(
            float,
            "height of the sensor face above the level datum, m (0 puts the datum at the "
            "sensor face, so levels read as negative distances: set it before deployment)",
            default=0.0,
            min=0,
            max=100,
        ),
        "mode": Option(
            str,
            "auto: the sensor streams frames (A02YYUW RX open, JSN-SR04T mode 2); "
            "trigger: send 0x55 every interval_s (JSN-SR04T v3 serial-on-request)",
            default="auto",
            choices=("auto", "trigger"),
        ),
        "interval_s": Option(
            float,
            "seconds per reading: frames in between are reduced to their "
            "median (0 = report every frame)",
            default=1.0,
            min=0,
            max=3600,
        ),
        "min_mm": Option(
            int, "lower limit of the sensor (blind zone), mm", default=30, min=0, max=10000
        ),
        "max_mm": Option(
            int,
            "upper limit of the sensor, mm (beyond = no echo)",
            default=4500,
            min=100,
            max=20000,
        ),
        "emit_distance": Option(
            bool, "also report the raw distance as quantity 'distance' (m)", default=False
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"port": "/dev/serial0", "mounting_height_m": 3.2}
    quantities: ClassVar[Mapping[str, str]] = {"water_level": "m", "distance": "m"}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._window: list[int] = []
        self._window_end = 0.0
        self._next_trigger = 0.0

    def make_scanner(self) -> FrameScanner[int]:
        return a02.A02Scanner(self.frame_stats)

    def on_open(self, port: Any) -> None:
        self._window.clear()
        self._window_end = 0.0
        self._next_trigger = time.monotonic()

    def on_idle(self, port: Any, now: float) -> None:
        if self.config.get("mode", "auto") == "trigger" and now >= self._next_trigger:
            self.write(port, a02.TRIGGER)
            self._next_trigger = now + max(float(self.config.get("interval_s", 1.0)), 0.1)

    def decode(self, frame: int) -> list[Reading]:
        interval = float(self.config.get("interval_s", 1.0))
        trigger = self.config.get("mode", "auto") == "trigger"
        if interval <= 0 or trigger:
            return self.level_readings(frame)
        now = time.monotonic()
        if not self._window:
            self._window_end = now + interval
        self._window.append(frame)
        if now < self._window_end:
            return []
        distance = int(statistics.median_low(self._window))
        self._window.clear()
        return self.level_readings(distance)

    def level_readings(self, distance_mm: int) -> list[Reading]:
        """Readings for one distance: level = mounting height - distance."""
        min_mm = int(self.config.get("min_mm", 30))
        max_mm = int(self.config.get("max_mm", 4500))
        quality = Quality.OK
        used = distance_mm
        if distance_mm <= min_mm:
            quality, used = Quality.SUSPECT, min_mm
        elif distance_mm > max_mm:
            quality = Quality.FAULT
        height = float(self.config["mounting_height_m"])
        out = [self.reading("water_level", round(height - used / 1000.0, 4), "m", quality)]
        if self.config.get("emit_distance", False):
            out.append(self.reading("distance", distance_mm / 1000.0, "m", quality))
        return out
