"""HLK-LD2410 24 GHz presence radar on a UART (256000 baud).

Unlike a PIR it sees people who sit still, so it answers "is anyone in the
room" for evacuation sweeps and occupancy sanity checks. The radar streams
~10 frames a second; this driver reports ``presence`` (1/0) on every change
and, with the nearest target's distance, every ``interval_s``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers import frames_ld2410 as ld
from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.scanner import FrameScanner
from edge_agent.drivers.serial_base import SerialDriver, serial_options

from edge_agent.model import Reading
from edge_agent.options import Option


class Ld2410Driver(SerialDriver[ld.Ld2410Data | ld.Ld2410Ack]):
    """Wiring: radar TX -> Pi RXD (GPIO15), RX -> TXD (GPIO14), 5 V, GND (3.3 V logic)."""

    name = "ld2410"
    summary = "HLK-LD2410 presence radar on a UART: presence 1/0 and target_distance in m"
    options: ClassVar[Mapping[str, Option]] = {
        **serial_options(256000),
        "interval_s": Option(
            float,
            "seconds between reports while presence is unchanged",
            default=5.0,
            min=0.1,
            max=3600,
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"port": "/dev/ttyAMA0"}
    quantities: ClassVar[Mapping[str, str]] = {"presence": "state", "target_distance": "m"}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._present: bool | None = None
        self._last_report = -1e18

    def make_scanner(self) -> FrameScanner[ld.Ld2410Data | ld.Ld2410Ack]:
        return ld.Ld2410Scanner(self.frame_stats)

    def decode(self, frame: ld.Ld2410Data | ld.Ld2410Ack) -> list[Reading]:
        if isinstance(frame, ld.Ld2410Ack):
            return []
        now = time.monotonic()
        changed = frame.present != self._present
        if not changed and now - self._last_report < float(self.config.get("interval_s", 5.0)):
            return []
        self._present = frame.present
        self._last_report = now
        out = [self.reading("presence", 1.0 if frame.present else 0.0, "state")]
        if frame.present:
            out.append(self.reading("target_distance", frame.detect_cm / 100.0, "m"))
        return out
