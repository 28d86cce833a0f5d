"""HLK-LD2450 24 GHz tracking radar on a UART: people counted by tracks crossing a line.

The radar tracks up to three targets (x across, y away from the radar, in mm)
about ten times a second. A virtual line at ``line_y_mm`` across the doorway
or path turns tracks into counts: a track that moves from one side of the
line to the other (beyond ``hysteresis_mm`` on both sides, so someone
hovering on the line is counted once) is an entry or an exit. Reports
``targets`` (tracked now), ``entries``, ``exits`` and ``occupancy`` (never
below zero) on every change and every ``interval_s``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers import frames_ld2450 as ld
from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.scanner import FrameScanner
from edge_agent.drivers.serial_base import SerialDriver, serial_options

from edge_agent.model import Reading
from edge_agent.options import Option

PERSONS = "persons"


class LineCounter:
    """Per-slot side of the line; counts side changes (pure)."""

    def __init__(self, line_y_mm: float, hysteresis_mm: float, in_when: str) -> None:
        self.line = line_y_mm
        self.band = hysteresis_mm
        self.in_when = in_when
        self.sides: list[int | None] = [None, None, None]
        self.entries = 0
        self.exits = 0
        self.occupancy = 0

    def update(self, frame: ld.Ld2450Frame) -> bool:
        """Feed one frame; True when a count changed."""
        changed = False
        for i, target in enumerate(frame.targets):
            if target is None:
                self.sides[i] = None  # track lost: a new target in this slot starts afresh
                continue
            if target.y_mm > self.line + self.band:
                side = 1  # beyond the line, away from the radar
            elif target.y_mm < self.line - self.band:
                side = -1
            else:
                continue  # inside the hysteresis band: keep the previous side
            before = self.sides[i]
            self.sides[i] = side
            if before is None or before == side:
                continue
            toward = side == -1
            if toward == (self.in_when == "toward"):
                self.entries += 1
                self.occupancy += 1
            else:
                self.exits += 1
                self.occupancy = max(0, self.occupancy - 1)
            changed = True
        return changed


class Ld2450Driver(SerialDriver[ld.Ld2450Frame]):
    """Wiring: radar TX -> Pi RXD (GPIO15), RX -> TXD (GPIO14), 5 V, GND (3.3 V logic)."""

    name = "ld2450"
    summary = (
        "HLK-LD2450 tracking radar on a UART: targets, and entries/exits/occupancy from "
        "tracks crossing a line"
    )
    options: ClassVar[Mapping[str, Option]] = {
        **serial_options(256000),
        "line_y_mm": Option(
            float,
            "distance of the counting line from the radar, mm",
            default=1500.0,
            min=100,
            max=8000,
        ),
        "hysteresis_mm": Option(
            float,
            "a track must pass this far beyond the line to count",
            default=150.0,
            min=0,
            max=2000,
        ),
        "in_direction": Option(
            str,
            "which crossing is an entry: toward the radar or away from it",
            default="toward",
            choices=("toward", "away"),
        ),
        "interval_s": Option(
            float, "seconds between reports while nothing changes", default=5.0, min=0.1, max=3600
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"port": "/dev/ttyAMA0", "line_y_mm": 1500.0}
    quantities: ClassVar[Mapping[str, str]] = {
        "targets": PERSONS,
        "entries": PERSONS,
        "exits": PERSONS,
        "occupancy": PERSONS,
    }

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        c = self.config
        self.counter = LineCounter(
            float(c.get("line_y_mm", 1500.0)),
            float(c.get("hysteresis_mm", 150.0)),
            str(c.get("in_direction", "toward")),
        )
        self._targets: int | None = None
        self._last_report = -1e18

    def make_scanner(self) -> FrameScanner[ld.Ld2450Frame]:
        return ld.Ld2450Scanner(self.frame_stats)

    def decode(self, frame: ld.Ld2450Frame) -> list[Reading]:
        now = time.monotonic()
        counted = self.counter.update(frame)
        changed = counted or frame.count != self._targets
        if not changed and now - self._last_report < float(self.config.get("interval_s", 5.0)):
            return []
        self._targets = frame.count
        self._last_report = now
        c = self.counter
        return [
            self.reading("targets", frame.count, PERSONS),
            self.reading("entries", c.entries, PERSONS),
            self.reading("exits", c.exits, PERSONS),
            self.reading("occupancy", c.occupancy, PERSONS),
        ]
