"""The streaming detector: robust z-scores of cheap features, habituation, calibration.

Why this shape (measurements in docs/detection.md, NAB standard 43.5 -> 61.8):
a raw HalfSpaceTrees on the value scores like a random detector on NAB. What
measured best, and costs a few microseconds a reading, is:

* features: the value itself (``level``); its change over each horizon in
  ``horizons`` (``rate_h``); with seasonality on, the distance from the value
  usually seen in this half-hour of the day or week (``season``); and the
  mean of the last ``smooth`` levels and seasonal distances (``level_mean``,
  ``season_mean``), which turn a small but *sustained* shift into a large
  deviation where single readings drown in noise;
* a seasonally explained rate: with seasonality on, a change that the
  profile expects (the daily 9 o'clock rise) is measured against the
  profile's own change, whichever explains the reading better. Without it a
  square-wave day reports every edge; with it, a missing edge is what stands
  out (the ``season`` feature catches it);
* each feature scaled by its own exponentially weighted mean and variance
  (``river.stats.EWMean`` / ``EWVar``); levels learn values winsorised at
  ``clip`` deviations so one wild reading cannot blow the scale up;
* the raw measure is the largest scaled deviation, rate features weighted by
  ``rate_weight``, each divided by that feature's feedback damping;
* *habituation, per feature*: flagged readings are never learnt, so on their
  own they would keep a lasting change anomalous for ever. Instead each
  feature has a term ``hab`` absorbing its own flagged deviations
  (``hab += alpha * z**2``, decaying by ``1 - alpha`` a reading) and its
  deviation is divided by ``sqrt(1 + hab)``: an event reports loudly, then
  relaxes, and the model itself stays clean. Per feature, because a pattern
  that recurs in one feature (daily edges in the rate) must not deafen the
  others (a missing edge in the seasonal distance): one shared term measured
  22.7 instead of 61.8;
* calibration: ``score = erf(z / sqrt(2))``, i.e. ``1 - p`` where ``p`` is the
  two-sided Gaussian tail probability of the robust z. The same threshold
  therefore means the same rarity on every sensor;
* refractory period: once a score reaches :data:`REPORT_SCORE` the event has
  been reported; the next ``refractory`` readings score 0 (they are still
  learnt or flagged exactly as without it). NAB, like the staff reading the
  alerts, rewards the first detection of an event and counts every later one
  as a false positive; this alone measured 45.9 -> 61.8.

Prequential: a reading is scored with what was known before it, then learnt
unless its score reached ``learn_below``. A flagged reading still enters the
short history the rates and means are computed from: that is the context
needed to describe the next reading, not something learnt.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from river import stats

#: Multiplicative step of the feedback damping, and its bound: at most
#: ``FEEDBACK_MAX_STEPS`` false alarms are learnt per feature (damping <= 1.5**3).
FEEDBACK_STEP = 1.5
FEEDBACK_MAX_STEPS = 3

#: A score at or above this starts the refractory period: 1 - 1e-6, the
#: generic pack's ``yellow`` (about 4.9 sigma). Measured on NAB: the same
#: result for any trigger from 4.9 to 5.5 sigma, worse from 4.75 sigma down.
REPORT_SCORE = 0.999999

#: Half-hour slots of the seasonal profile.
_SLOTS = {"none": 0, "daily": 48, "weekly": 48 * 7}


class _Scaler:
    """EW mean and variance of one feature, learnt from winsorised values."""

    __slots__ = ("mean", "n", "var")

    def __init__(self, alpha: float) -> None:
        self.mean = stats.EWMean(fading_factor=alpha)
        self.var = stats.EWVar(fading_factor=alpha)
        self.n = 0

    def z(self, x: float, floor: float) -> float:
        if self.n < 2:
            return 0.0
        return abs(x - self.mean.get()) / (math.sqrt(max(self.var.get(), 0.0)) + floor)

    def winsorise(self, x: float, floor: float, clip: float) -> float:
        if clip > 0 and self.n > 10:
            mu = self.mean.get()
            span = clip * (math.sqrt(max(self.var.get(), 0.0)) + floor)
            return min(max(x, mu - span), mu + span)
        return x

    def learn(self, x: float, floor: float, clip: float) -> None:
        x = self.winsorise(x, floor, clip)
        self.mean.update(x)
        self.var.update(x)
        self.n += 1


class _Window:
    """Mean of the last ``size`` values of one feature; None until full.

    A missing value (a gap, an unknown seasonal slot) restarts the window, so
    a mean never spans a hole. The running sum is recomputed from the values
    once per window so float drift cannot build up over months.
    """

    __slots__ = ("count", "size", "total", "values")

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: deque[float] = deque(maxlen=size)
        self.total = 0.0
        self.count = 0

    def push(self, x: float | None) -> float | None:
        if x is None:
            self.values.clear()
            self.total = 0.0
            return None
        if len(self.values) == self.size:
            self.total -= self.values[0]
        self.values.append(x)
        self.count += 1
        if self.count % self.size == 0:
            self.total = math.fsum(self.values)
        else:
            self.total += x
        return self.total / self.size if len(self.values) == self.size else None


class StreamingDetector:
    """Per (sensor, quantity) detector; the module docstring says why it looks like this."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.warmup = int(params["warmup"])
        self.learn_below = float(params["learn_below"])
        self.horizons = tuple(sorted({int(h) for h in params["horizons"]}))
        self.rate_weight = float(params["rate_weight"])
        self.seasonality = str(params["seasonality"])
        self.alpha = float(params["alpha"])
        self.clip = float(params["clip"])
        self.season_alpha = float(params["season_alpha"])
        self.refractory = int(params["refractory"])
        smooth = int(params["smooth"])
        seasonal = self.seasonality != "none"
        self.names = ["level"] + [f"rate_{h}" for h in self.horizons]
        self.weights = [1.0] + [self.rate_weight] * len(self.horizons)
        # Rates learn unclipped: clipping them measured worse on NAB (39.2 vs 43.5).
        self.clips = [self.clip] + [0.0] * len(self.horizons)
        if seasonal:
            self.names.append("season")
            self.weights.append(1.0)
            self.clips.append(self.clip)
        # Windowed means of the level and the seasonal distance (indexes into names).
        self.smoothed = [0, len(self.names) - 1] if seasonal else [0]
        self.windows = [_Window(smooth) for _ in self.smoothed] if smooth > 1 else []
        for k in self.smoothed if self.windows else []:
            self.names.append(f"{self.names[k]}_mean")
            self.weights.append(1.0)
            self.clips.append(self.clip)
        self.scalers = [_Scaler(self.alpha) for _ in self.names]
        self.hab = [0.0] * len(self.names)
        # (t_mono, value, seasonal slot) of the last readings, for the rates.
        self.history: deque[tuple[float, float, int]] = deque(
            maxlen=max(self.horizons, default=0) + 1
        )
        self.season: list[float | None] = [None] * _SLOTS[self.seasonality]
        self.magnitude = stats.EWMean(fading_factor=self.alpha)
        self.step = stats.EWMean(fading_factor=0.01)
        self.max_gap = float(params["max_gap"])
        self.damping = [0] * len(self.names)
        self.last_flag_feature: int | None = None
        self.quiet = 0
        self.n = 0

    def _slot(self, ts: datetime) -> int:
        if not self.season:
            return 0
        slot = (ts.hour * 60 + ts.minute) // 30
        if self.seasonality == "weekly":
            slot += 48 * ts.weekday()
        return slot

    def _features(self, value: float, slot: int, t_mono: float, floor: float) -> list[float | None]:
        feats: list[float | None] = [value]
        hist = self.history
        ref = self.season[slot] if self.season else None
        for h in self.horizons:
            if len(hist) < h:
                feats.append(None)
                continue
            t0, v0, slot0 = hist[-h]
            # Plain change over h readings: dividing by elapsed time measured
            # worse (irregular steps turn into noise). A gap of more than
            # ``max_gap`` typical steps makes the change meaningless: no opinion.
            if self.n > 1 and t_mono - t0 > self.max_gap * h * self.step.get():
                feats.append(None)
                continue
            change = value - v0
            ref0 = self.season[slot0] if self.season else None
            if ref is not None and ref0 is not None:
                # The change the seasonal profile expects, if it explains more.
                explained = change - (ref - ref0)
                if abs(explained) < abs(change):
                    change = explained
            feats.append(change)
        if self.season:
            feats.append(None if ref is None else value - ref)
        for k, window in zip(self.smoothed, self.windows, strict=False):
            f = feats[k]
            if f is not None:
                # Winsorised like the learnt values, so one wild reading moves
                # the mean by at most clip/smooth deviations.
                f = self.scalers[k].winsorise(f, floor, self.clips[k])
            feats.append(window.push(f))
        return feats

    def score_learn(self, value: float, ts: datetime, t_mono: float) -> float | None:
        """Score this reading with what was known before it, then learn it unless flagged."""
        value = float(value)
        if not math.isfinite(value):
            return None
        slot = self._slot(ts)
        # A floor on the deviation so a flat signal does not turn 1e-12 into a storm.
        floor = 1e-6 * (abs(self.magnitude.get()) + 1.0)
        feats = self._features(value, slot, t_mono, floor)
        keep = 1.0 - self.alpha
        zs = [0.0] * len(feats)
        best, best_k = 0.0, -1
        for k, f in enumerate(feats):
            self.hab[k] *= keep
            if f is None:
                continue
            z = self.weights[k] * self.scalers[k].z(f, floor) / FEEDBACK_STEP ** self.damping[k]
            zs[k] = z
            z_eff = z / math.sqrt(1.0 + self.hab[k])
            if z_eff > best:
                best, best_k = z_eff, k
        score: float | None = None
        flagged = False
        if self.n >= self.warmup:
            score = math.erf(best / math.sqrt(2.0))
            flagged = score >= self.learn_below
            if self.quiet > 0:
                self.quiet -= 1
                score = 0.0
            elif score >= REPORT_SCORE and self.refractory > 0:
                self.quiet = self.refractory
        if flagged:
            self.last_flag_feature = best_k
            for k, z in enumerate(zs):
                if math.erf(z / math.sqrt(2.0 + 2.0 * self.hab[k])) >= self.learn_below:
                    self.hab[k] += self.alpha * z * z
        else:
            for k, f in enumerate(feats):
                if f is not None:
                    self.scalers[k].learn(f, floor, self.clips[k])
            if self.season:
                ref = self.season[slot]
                a = self.season_alpha
                self.season[slot] = value if ref is None else (1.0 - a) * ref + a * value
            self.magnitude.update(abs(value))
        if self.history:
            self.step.update(max(t_mono - self.history[-1][0], 0.0))
        self.history.append((t_mono, value, slot))
        self.n += 1
        return score

    def feedback(self, verdict: Literal["false_alarm", "true_alarm"]) -> None:
        """Staff verdict on the latest alert: damp (or undamp) the feature that drove it.

        ``false_alarm`` divides that feature's deviations by a further
        ``FEEDBACK_STEP``, at most ``FEEDBACK_MAX_STEPS`` times (bounded);
        ``true_alarm`` takes one step back, never below none (reversible).
        """
        if verdict not in ("false_alarm", "true_alarm"):
            raise ValueError(f"unknown verdict {verdict!r}: expected false_alarm or true_alarm")
        k = self.last_flag_feature
        if k is None:
            return
        if verdict == "false_alarm":
            self.damping[k] = min(FEEDBACK_MAX_STEPS, self.damping[k] + 1)
        else:
            self.damping[k] = max(0, self.damping[k] - 1)

    def sensitivity(self) -> dict[str, float]:
        """Per feature, the factor its deviations are divided by (1.0 = as shipped)."""
        return {n: FEEDBACK_STEP**d for n, d in zip(self.names, self.damping, strict=True)}

    def memory_bytes(self) -> int:
        """Approximate: fixed objects plus the bounded history, windows and seasonal profile."""
        windows = sum(24 * w.size for w in self.windows)
        return (
            1500
            + 240 * len(self.scalers)
            + 96 * len(self.history)
            + windows
            + 24 * len(self.season)
        )
