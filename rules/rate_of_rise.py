"""Rule kind ``rate_of_rise``: how much the value rose over the last ``window_s`` seconds.

Why: a river that rises 30 cm in ten minutes or particulates that climb
50 µg/m³ in a minute are dangerous before any absolute level is reached.
The rise is the current value minus the oldest reading still inside the
window (a rise over at most ``window_s``), measured on ``Reading.t_mono``
so clock jumps do not matter. It is
given no opinion until readings span at least ``min_span`` of the window
(just after start or after a gap), so two close noisy samples cannot fake a
rate. Memory is bounded by ``max_samples``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.rules.anomaly import (
    check_ascending,
    grade,
    level_options,
    target_options,
    thresholds_of,
)
from edge_agent.rules.base import PackInfo, Rule, Verdict

from edge_agent.model import Level, Scored
from edge_agent.options import Option, positive


class RateOfRiseRule(Rule):
    """Levels from the rise of the value over a time window."""

    kind: ClassVar[str] = "rate_of_rise"
    summary: ClassVar[str] = "grade the rise of the value over a time window"
    params: ClassVar[Mapping[str, Option]] = {
        "window_s": Option(
            float,
            "length of the window the rise is measured over, seconds",
            default=600.0,
            check=positive,
        ),
        "min_span": Option(
            float,
            "fraction of the window readings must span before judging",
            default=0.5,
            min=0.0,
            max=1.0,
        ),
        "max_samples": Option(
            int,
            "readings kept at most (bounds memory on fast sensors)",
            default=4096,
            min=2,
            max=1_000_000,
        ),
        "hysteresis": Option(
            float,
            "keep the current level while the rise stays above its "
            "threshold minus this (pack units)",
            default=0.0,
            min=0.0,
        ),
        **level_options("pack units per window", {}),
        **target_options(),
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], pack: PackInfo) -> None:
        super().__init__(rule_id, params, pack)
        self.thresholds = thresholds_of(params)
        self.window_s = float(params.get("window_s", 600.0))
        self.min_span = float(params.get("min_span", 0.5))
        self.hysteresis = float(params.get("hysteresis", 0.0))
        self.samples: deque[tuple[float, float]] = deque(
            maxlen=int(params.get("max_samples", 4096))
        )

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check_ascending(params)

    def evaluate(self, scored: Scored, current: Level) -> Verdict | None:
        reading = scored.reading
        now = reading.t_mono
        samples = self.samples
        if samples and now < samples[-1][0]:
            samples.clear()  # monotonic time went back: a new process; start over
        samples.append((now, reading.value))
        while samples[0][0] < now - self.window_s:
            samples.popleft()  # never empties: the current reading is inside
        t0, v0 = samples[0]
        span = now - t0
        if span < self.min_span * self.window_s or span <= 0:
            return None
        rise = reading.value - v0
        level, threshold = grade(rise, self.thresholds, current, self.hysteresis)
        reason = {
            "rule": self.rule_id,
            "kind": self.kind,
            "rise": round(rise, 6),
            "window_s": self.window_s,
            "span_s": round(now - t0, 3),
            "threshold": threshold,
            "unit": self.pack.unit,
        }
        return Verdict(self.hazard, level, reading.value, reason)
