"""A scorer for the Numenta Anomaly Benchmark (NAB), written from NAB's own rules.

Why our own: NAB's code is Python 2 era, pulls pandas and scores from result
files on disk; we need a scorer that takes per-row scores in memory so a
detector variant can be measured in seconds. The rules, as in NAB's
``sweeper.py``:

* Windows come from ``combined_windows.json`` (``[start, end]`` timestamps).
* The first 15 % of each file (at most 750 rows) is a probation period: a
  detection there outside a window is not counted.
* Inside a window only the earliest detection counts, weighted by
  ``scaled_sigmoid(position)`` where ``position`` runs from -1 at the left edge
  towards 0 at the right edge, normalised so the left edge is worth ``tp``.
  A window with no detection costs ``-fn``.
* A detection outside any window costs ``fp * scaled_sigmoid(distance)``
  (a negative number), ``distance`` being the rows past the previous window's
  right edge divided by that window's width minus one; with no previous window
  it costs the full ``-fp``.
* One threshold per detector and profile is chosen over the whole corpus (the
  oracle), and the total is normalised as
  ``100 * (S - S_null) / (S_perfect - S_null)``.

A detection is a row whose score is at or above the threshold.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

#: NAB's profiles as (tp weight, fn weight, fp weight).
PROFILES: dict[str, tuple[float, float, float]] = {
    "standard": (1.0, 1.0, 0.11),
    "reward_low_FP_rate": (1.0, 1.0, 0.22),
    "reward_low_FN_rate": (1.0, 2.0, 0.11),
}

PROBATION_PERCENT = 0.15


def scaled_sigmoid(position: float) -> float:
    """NAB's ``2*sigmoid(-5*position) - 1``, clamped to -1 beyond 3 window widths."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n_rows: int) -> int:
    """Rows at the start of a file where false positives are not counted."""
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * 5000))


@dataclass(frozen=True, slots=True)
class Series:
    """One NAB file: its timestamps, values and anomaly windows as row indexes."""

    name: str
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[int, int]]


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def load_corpus(root: Path) -> list[Series]:
    """Read every file named in ``combined_windows.json`` under ``root`` (``.../nab``)."""
    windows_by_file: dict[str, list[list[str]]] = json.loads(
        (root / "combined_windows.json").read_text()
    )
    out = []
    for name in sorted(windows_by_file):
        timestamps: list[datetime] = []
        values: list[float] = []
        with open(root / "data" / name, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            if header[:2] != ["timestamp", "value"]:
                raise ValueError(f"{name}: expected header timestamp,value, got {header}")
            for row in reader:
                timestamps.append(_parse_ts(row[0]))
                values.append(float(row[1]))
        out.append(
            Series(name, timestamps, values, windows_to_rows(timestamps, windows_by_file[name]))
        )
    return out


def windows_to_rows(
    timestamps: Sequence[datetime], windows: Sequence[Sequence[str]]
) -> list[tuple[int, int]]:
    """Map ``[start, end]`` timestamps to inclusive row ranges (rows inside the window)."""
    import bisect

    rows = []
    for start, end in windows:
        left = bisect.bisect_left(timestamps, _parse_ts(start))
        right = bisect.bisect_right(timestamps, _parse_ts(end)) - 1
        if right >= left:
            rows.append((left, right))
    return sorted(rows)


@dataclass(frozen=True, slots=True)
class RowWeights:
    """Per-row scoring facts of one file, independent of the detector.

    ``window[i]`` is the window index of row i or -1; ``fp_cost[i]`` is the
    unweighted (negative) cost of a false positive at row i, 0 in probation.
    ``tp_gain[i]`` is the unweighted value of a first detection at row i.
    """

    window: list[int]
    tp_gain: list[float]
    fp_cost: list[float]
    n_windows: int


def row_weights(n_rows: int, windows: Sequence[tuple[int, int]]) -> RowWeights:
    """Compute what a detection at each row is worth, following NAB's sweeper."""
    window = [-1] * n_rows
    tp_gain = [0.0] * n_rows
    fp_cost = [0.0] * n_rows
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_rows(n_rows)
    prev_right: int | None = None
    prev_width: float | None = None
    for k, (left, right) in enumerate(windows):
        width = float(right - left + 1)
        for i in range(left, right + 1):
            window[i] = k
            tp_gain[i] = scaled_sigmoid(-(right - i + 1) / width) / max_tp
    for i in range(n_rows):
        if window[i] >= 0:
            k = window[i]
            prev_right = windows[k][1]
            prev_width = float(windows[k][1] - windows[k][0] + 1)
            continue
        if i < probation:
            continue
        if prev_right is None or prev_width is None:
            fp_cost[i] = -1.0
        else:
            fp_cost[i] = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1.0))
    return RowWeights(window, tp_gain, fp_cost, len(windows))


@dataclass(frozen=True, slots=True)
class ProfileResult:
    """Best total score of one profile, its threshold and the normalised score."""

    profile: str
    threshold: float
    raw: float
    normalised: float
    tp: int
    fp: int
    fn: int


def _events(
    scores: Sequence[float], weights: RowWeights, tp_w: float, fn_w: float, fp_w: float
) -> list[tuple[float, float]]:
    """(threshold, change of total score) events of one file as the threshold is lowered.

    A window's value is that of its earliest row with score >= threshold, so it
    only changes at rows whose score beats every earlier row of the window.
    """
    events: list[tuple[float, float]] = []
    records: dict[int, list[tuple[float, float]]] = {}
    best: dict[int, float] = {}
    for i, s in enumerate(scores):
        k = weights.window[i]
        if k >= 0:
            if k not in best or s > best[k]:
                best[k] = s
                records.setdefault(k, []).append((s, tp_w * weights.tp_gain[i]))
        elif weights.fp_cost[i] != 0.0:
            events.append((s, fp_w * weights.fp_cost[i]))
    for recs in records.values():
        # Highest record (rightmost) is crossed first: from a miss to a late hit.
        previous = -fn_w
        for s, value in reversed(recs):
            events.append((s, value - previous))
            previous = value
    return events


def _counts(
    all_scores: Sequence[Sequence[float]], all_weights: Sequence[RowWeights], threshold: float
) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for scores, w in zip(all_scores, all_weights, strict=True):
        hit = [False] * w.n_windows
        for i, s in enumerate(scores):
            if s < threshold:
                continue
            if w.window[i] >= 0:
                hit[w.window[i]] = True
            elif w.fp_cost[i] != 0.0:
                fp += 1
        tp += sum(hit)
        fn += w.n_windows - sum(hit)
    return tp, fp, fn


def score_corpus(
    all_scores: Sequence[Sequence[float | None]],
    all_weights: Sequence[RowWeights],
    profiles: Mapping[str, tuple[float, float, float]] = PROFILES,
) -> dict[str, ProfileResult]:
    """NAB score of a detector's per-row scores with the oracle threshold per profile.

    None scores (warm-up) never detect.
    """
    clean = [[-math.inf if s is None else float(s) for s in scores] for scores in all_scores]
    n_windows = sum(w.n_windows for w in all_weights)
    out = {}
    for name, (tp_w, fn_w, fp_w) in profiles.items():
        events: list[tuple[float, float]] = []
        for scores, w in zip(clean, all_weights, strict=True):
            events.extend(_events(scores, w, tp_w, fn_w, fp_w))
        events.sort(key=lambda e: -e[0])
        null = -fn_w * n_windows
        total = best_total = null
        best_threshold = math.inf
        i = 0
        while i < len(events):
            threshold = events[i][0]
            while i < len(events) and events[i][0] == threshold:
                total += events[i][1]
                i += 1
            if threshold == -math.inf:
                break
            if total > best_total:
                best_total, best_threshold = total, threshold
        perfect = tp_w * n_windows
        normalised = 100.0 * (best_total - null) / (perfect - null) if perfect != null else 0.0
        tp, fp, fn = _counts(clean, all_weights, best_threshold)
        out[name] = ProfileResult(name, best_threshold, best_total, normalised, tp, fp, fn)
    return out


def score_at_threshold(
    all_scores: Sequence[Sequence[float | None]],
    all_weights: Sequence[RowWeights],
    threshold: float,
    profile: tuple[float, float, float],
) -> float:
    """Raw (unnormalised) NAB score at one fixed threshold, by direct counting.

    Slow but obvious: used by the tests to check the sweep, and to score a
    detector's decisions (0/1 per row) without an oracle.
    """
    tp_w, fn_w, fp_w = profile
    total = 0.0
    for scores, w in zip(all_scores, all_weights, strict=True):
        first: dict[int, float] = {}
        for i, s in enumerate(scores):
            if s is None or s < threshold:
                continue
            k = w.window[i]
            if k >= 0:
                first.setdefault(k, tp_w * w.tp_gain[i])
            else:
                total += fp_w * w.fp_cost[i]
        total += sum(first.values()) - fn_w * (w.n_windows - len(first))
    return total


def normalise(raw: float, n_windows: int, profile: tuple[float, float, float]) -> float:
    """``100 * (raw - null) / (perfect - null)`` for a corpus with ``n_windows`` windows."""
    tp_w, fn_w, _ = profile
    null, perfect = -fn_w * n_windows, tp_w * n_windows
    return 100.0 * (raw - null) / (perfect - null)
