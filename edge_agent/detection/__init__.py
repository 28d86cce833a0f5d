"""Streaming anomaly detection: one detector per (sensor, quantity).

This module stays free of river/numpy imports so ``import edge_agent`` and CLI
start-up stay fast; :func:`make_detector` and :func:`detector_from_bytes`
import the detector (and river.stats) on first use.

The lead's pipeline calls::

    det = make_detector(params)            # params validated against DETECTION_OPTIONS
    score = det.score_learn(value, ts, t_mono)   # None during warm-up / when disabled
    det.feedback("false_alarm")            # staff verdict on the latest alert
    blob = det.to_bytes(); det = detector_from_bytes(blob)
    detector_fingerprint(params)           # store with the blob; discard on mismatch
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from edge_agent.options import Option

#: Bump when the detector's code changes what a checkpoint means.
DETECTOR_VERSION = 2


def _check_horizons(value: Any) -> str | None:
    if not value or len(value) > 8:
        return "must list 1 to 8 horizons"
    for h in value:
        if not isinstance(h, int) or isinstance(h, bool) or not 1 <= h <= 1000:
            return f"each horizon must be an integer in 1..1000 readings, got {h!r}"
    return None


DETECTION_OPTIONS: Mapping[str, Option] = {
    "enabled": Option(bool, "run the anomaly detector on this sensor's readings", default=True),
    "warmup": Option(
        int,
        "readings learnt before scores count (score is None until then)",
        default=150,
        min=10,
        max=100_000,
    ),
    "seasonality": Option(
        str,
        "learn a half-hourly profile of the day or week and score "
        "distance from it (people counts: weekly; none for signals with no daily rhythm)",
        default="daily",
        choices=("none", "daily", "weekly"),
    ),
    "horizons": Option(
        list, "rate-of-change horizons, in readings", default=[1], check=_check_horizons
    ),
    "rate_weight": Option(
        float,
        "weight of rate-of-change deviations against level ones",
        default=0.5,
        min=0.0,
        max=10.0,
    ),
    "alpha": Option(
        float,
        "fading factor of the feature statistics (1/alpha ~ memory in readings)",
        default=0.002,
        min=1e-5,
        max=0.5,
    ),
    "clip": Option(
        float,
        "winsorise learnt values at this many deviations (robust scaling)",
        default=4.0,
        min=1.0,
        max=100.0,
    ),
    "learn_below": Option(
        float,
        "readings scoring at or above this are flagged and not learnt",
        default=0.9999,
        min=0.5,
        max=1.0,
    ),
    "smooth": Option(
        int,
        "also score the mean of the last this-many levels and seasonal distances "
        "(sustained shifts); 1 turns it off",
        default=30,
        min=1,
        max=1000,
    ),
    "refractory": Option(
        int,
        "readings scored 0 after a score reaches 0.999999 (one report per event); 0: off",
        default=30,
        min=0,
        max=100_000,
    ),
    "season_alpha": Option(
        float, "fading factor of each seasonal slot", default=0.1, min=0.001, max=1.0
    ),
    "max_gap": Option(
        float,
        "a gap longer than this many typical steps voids rate features",
        default=5.0,
        min=1.0,
        max=1e6,
    ),
}


class Detector(Protocol):
    """What the pipeline needs from a detector."""

    def score_learn(self, value: float, ts: datetime, t_mono: float) -> float | None: ...

    def feedback(self, verdict: Literal["false_alarm", "true_alarm"]) -> None: ...

    def to_bytes(self) -> bytes: ...

    def memory_bytes(self) -> int: ...


def defaults() -> dict[str, Any]:
    """Every option at its default (handy for tests and benchmarks)."""
    return {k: o.default for k, o in DETECTION_OPTIONS.items()}


def detector_fingerprint(params: Mapping[str, Any]) -> str:
    """Hash of the full parameter set and :data:`DETECTOR_VERSION`."""
    import hashlib  # here, not at the top: config validation imports this module
    import json

    full = defaults()
    full.update(params)
    text = json.dumps({"v": DETECTOR_VERSION, "p": full}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_detector(params: Mapping[str, Any]) -> Detector:
    """A fresh detector for ``params`` (already validated; missing keys take defaults)."""
    from edge_agent.detection.checkpoint import CheckpointedDetector, DisabledDetector

    full = defaults()
    full.update(params)
    if not full["enabled"]:
        return DisabledDetector(full)
    return CheckpointedDetector(full)


def detector_from_bytes(data: bytes) -> Detector:
    """Restore a detector saved by ``to_bytes``; raises ValueError on bad or foreign data."""
    from edge_agent.detection.checkpoint import load

    return load(data)
