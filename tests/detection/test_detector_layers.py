"""Properties of the layers added for NAB >= 60: seasonal rates, per-feature
habituation, windowed means and the refractory period (docs/detection.md)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from edge_agent.detection import detector_from_bytes, make_detector
from edge_agent.detection.streaming import REPORT_SCORE, _Window

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEP = 300.0  # five-minute readings, 288 a day


def feed(det, values, start=0):  # type: ignore[no-untyped-def]
    return [
        det.score_learn(v, T0 + timedelta(seconds=i * STEP), i * STEP)
        for i, v in enumerate(values, start)
    ]


def square_day(rng: random.Random, high: bool = True) -> list[float]:
    """20 at night, 70 from 09:00 to 18:00 (unless ``high`` is False), noise 2."""
    return [(70.0 if high and 108 <= i < 216 else 20.0) + rng.gauss(0, 2) for i in range(288)]


def test_expected_daily_edges_are_quiet_and_a_missing_one_is_reported() -> None:
    rng = random.Random(11)
    det = make_detector({})
    normal = [v for _ in range(10) for v in square_day(rng)]
    scores = feed(det, normal)
    # Days 6-10: the 09:00 and 18:00 edges are expected by the daily profile.
    late = [s for s in scores[5 * 288 :] if s is not None]
    assert max(late) < REPORT_SCORE
    missing = feed(det, square_day(rng, high=False), start=len(normal))
    assert max(s for s in missing if s is not None) >= REPORT_SCORE


def test_habituation_is_per_feature() -> None:
    """The same square wave without seasonality reports its edges (rate), but
    habituating to them must not deafen the level: a jump far outside the
    range seen is still reported."""
    rng = random.Random(12)
    det = make_detector({"seasonality": "none", "refractory": 0})
    feed(det, [v for _ in range(10) for v in square_day(rng)])
    rate_k = det.names.index("rate_1")  # type: ignore[attr-defined]
    level_k = det.names.index("level")  # type: ignore[attr-defined]
    habs = det.hab  # type: ignore[attr-defined]
    assert habs[rate_k] > 0.3 and habs[level_k] < habs[rate_k] / 2
    # 05:00 on day 11: quiet night, then a reading far outside anything seen.
    s = feed(det, [20.0] * 60 + [400.0], start=10 * 288)[-1]
    assert s is not None and s >= REPORT_SCORE


def test_windowed_mean_reports_a_small_sustained_shift() -> None:
    """A 2-sigma shift lasting hours: no single reading is even flagged, its mean is reported."""
    rng = random.Random(13)
    before = [rng.gauss(0, 1) for _ in range(2000)]
    shifted = [2.0 + rng.gauss(0, 1) for _ in range(300)]
    peaks = {}
    for smooth in (1, 30):
        det = make_detector({"seasonality": "none", "smooth": smooth})
        feed(det, before)
        out = feed(det, shifted, start=len(before))
        peaks[smooth] = max(s for s in out if s is not None)
    assert peaks[1] < 0.9999 and peaks[30] >= REPORT_SCORE


def test_refractory_scores_zero_after_a_report_and_does_not_change_learning() -> None:
    rng = random.Random(14)
    base = [20.0 + rng.gauss(0, 1) for _ in range(800)]
    tail = [60.0, 61.0, 20.0, 59.0] + [20.0 + rng.gauss(0, 1) for _ in range(60)]
    quiet = make_detector({"seasonality": "none", "refractory": 30})
    loud = make_detector({"seasonality": "none", "refractory": 0})
    feed(quiet, base)
    feed(loud, base)
    q = feed(quiet, tail, start=800)
    lo = feed(loud, tail, start=800)
    assert q[0] is not None and q[0] >= REPORT_SCORE
    assert q[1:31] == [0.0] * 30  # one report per event
    assert lo[1] is not None and lo[1] >= REPORT_SCORE  # without it: reported again
    assert q[31:] == lo[31:]  # the model learnt exactly the same
    # The countdown is part of the checkpoint.
    again = make_detector({"seasonality": "none", "refractory": 30})
    feed(again, base)
    feed(again, tail[:5], start=800)
    copy = detector_from_bytes(again.to_bytes())
    assert feed(copy, tail[5:], start=805) == q[5:]


def test_window_mean_restarts_on_gaps_and_does_not_drift() -> None:
    w = _Window(3)
    assert [w.push(x) for x in (1.0, 2.0, 3.0, 4.0)] == [None, None, 2.0, 3.0]
    assert w.push(None) is None
    assert w.push(10.0) is None  # a mean never spans a hole
    rng = random.Random(15)
    big = _Window(30)
    values = [rng.uniform(-1e6, 1e6) for _ in range(100_000)]
    for x in values:
        last = big.push(x)
    assert last is not None and math.isclose(last, math.fsum(values[-30:]) / 30, abs_tol=1e-6)
