"""A sensor's own slow baseline: a low quantile of its calm readings over a long window.

Why: a river gauge's zero is arbitrary (Hub'Eau gauges read anything from
-2.4 m to +7.6 m at ordinary flow), so "1 m above the datum" means nothing
there; "1 m above this river's ordinary level" does. The baseline is what the
sensor itself has read when nothing was wrong:

* it samples one reading per ``sample_s`` (so a fast sensor costs no more
  than a slow one: between samples a reading costs one comparison);
* it keeps the samples of the last ``window_s`` seconds (bounded:
  ``window_s / sample_s`` of them) and reports their ``quantile``. A low
  quantile follows the base flow and ignores the short rises of ordinary
  rain, which a mean would chase;
* the caller offers only *calm* readings (no alert in force, none asked for),
  so a flood never teaches the baseline that floods are normal; a lasting
  flood freezes it at the level before the flood;
* it has no opinion (None) until its samples span ``warmup_s``.

Time is the reading's ``t_mono``; if it goes backwards (a new process) the
estimate starts over.
"""

from __future__ import annotations

import bisect
from collections import deque


class RunningBaseline:
    """Quantile of calm samples over a sliding time window."""

    __slots__ = (
        "last_t",
        "quantile",
        "sample_s",
        "samples",
        "sorted_values",
        "warmup_s",
        "window_s",
    )

    def __init__(
        self, *, quantile: float, window_s: float, sample_s: float, warmup_s: float
    ) -> None:
        self.quantile = quantile
        self.window_s = window_s
        self.sample_s = sample_s
        self.warmup_s = warmup_s
        self.samples: deque[tuple[float, float]] = deque()
        self.sorted_values: list[float] = []
        self.last_t: float | None = None

    def value(self) -> float | None:
        """The baseline, or None until the calm samples span ``warmup_s``."""
        s = self.samples
        if len(s) < 3 or s[-1][0] - s[0][0] < self.warmup_s:
            return None
        vals = self.sorted_values
        return vals[min(len(vals) - 1, int(self.quantile * len(vals)))]

    def offer(self, t: float, value: float) -> None:
        """A calm reading: kept if a sample is due, evicting samples older than the window."""
        if self.last_t is not None and t < self.last_t:
            self.samples.clear()
            self.sorted_values.clear()
            self.last_t = None
        if self.last_t is not None and t - self.last_t < 0.95 * self.sample_s:
            return  # 5 % slack: a sensor's period jitters
        self.last_t = t
        s, vals = self.samples, self.sorted_values
        while s and s[0][0] < t - self.window_s:
            _, old = s.popleft()
            del vals[bisect.bisect_left(vals, old)]
        s.append((t, value))
        bisect.insort(vals, value)
