"""Per-sensor telemetry summaries: calm-time and emergency-time reporting.

Raw readings stay on the node; the platform gets min/mean/max/last per
interval, which is what a dashboard needs at a fraction of the bytes. While an
alert is open on a sensor its summaries come faster (``alert_interval_s``),
so people watching an incident see it evolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_agent.model import Quality, Reading

_QUALITY_RANK = {Quality.OK: 0, Quality.SUSPECT: 1, Quality.FAULT: 2}


@dataclass(slots=True)
class Window:
    sensor_id: str
    quantity: str
    unit: str
    start_mono: float
    n: int = 0
    total: float = 0.0
    lo: float = float("inf")
    hi: float = float("-inf")
    last: float = 0.0
    worst: Quality = Quality.OK
    last_reading: Reading | None = None

    def add(self, r: Reading) -> None:
        self.n += 1
        self.total += r.value
        self.lo = min(self.lo, r.value)
        self.hi = max(self.hi, r.value)
        self.last = r.value
        if _QUALITY_RANK[r.quality] > _QUALITY_RANK[self.worst]:
            self.worst = r.quality
        self.last_reading = r


class TelemetryAggregator:
    """Summaries of one agent's sensors."""

    def __init__(
        self, interval_s: float, alert_interval_s: float, alerting: Callable[[str], bool]
    ) -> None:
        self.interval_s = interval_s
        self.alert_interval_s = alert_interval_s
        self._alerting = alerting
        self._windows: dict[tuple[str, str], Window] = {}

    def add(self, r: Reading) -> None:
        key = (r.sensor_id, r.quantity)
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = Window(r.sensor_id, r.quantity, r.unit, r.t_mono)
        w.add(r)

    def due(self, now_mono: float) -> list[dict[str, Any]]:
        """Close every window whose interval has passed; return their summaries."""
        out = []
        for key, w in list(self._windows.items()):
            interval = self.alert_interval_s if self._alerting(w.sensor_id) else self.interval_s
            if now_mono - w.start_mono < interval or w.n == 0 or w.last_reading is None:
                continue
            r = w.last_reading
            out.append(
                {
                    "sensor_id": w.sensor_id,
                    "quantity": w.quantity,
                    "unit": w.unit,
                    "n": w.n,
                    "min": w.lo,
                    "mean": w.total / w.n,
                    "max": w.hi,
                    "last": w.last,
                    "quality": w.worst.value,
                    "window_s": round(now_mono - w.start_mono, 3),
                    "ts": r.ts,
                    "clock_synced": r.clock_synced,
                }
            )
            self._windows[key] = Window(w.sensor_id, w.quantity, w.unit, now_mono)
        return out
