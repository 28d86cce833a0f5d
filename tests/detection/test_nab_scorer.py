"""The NAB scorer on a case small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from benchmarks import nab


def ss(x: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def test_row_weights_follow_nab_rules() -> None:
    # 10 rows, one window on rows 4..5 (width 2); probation = floor(1.5) = 1 row.
    w = nab.row_weights(10, [(4, 5)])
    assert w.window == [-1, -1, -1, -1, 0, 0, -1, -1, -1, -1]
    assert w.tp_gain[4] == pytest.approx(1.0)  # left edge is worth the full TP weight
    assert w.tp_gain[5] == pytest.approx(ss(-0.5) / ss(-1.0))
    assert w.fp_cost[0] == 0.0  # probation
    assert w.fp_cost[2] == -1.0  # no window before it: full cost
    assert w.fp_cost[7] == pytest.approx(ss(2.0))  # 2 rows past a width-2 window


def test_oracle_threshold_and_normalisation() -> None:
    w = nab.row_weights(10, [(4, 5)])
    scores = [[0.9, 0.0, 0.5, 0.0, 0.3, 0.8, 0.0, 0.6, 0.0, 0.0]]
    # By hand (standard profile, fp weight 0.11):
    #   th 0.8 -> late hit at row 5:                         g5 = ss(-0.5)/ss(-1) ~ 0.860
    #   th 0.3 -> early hit at row 4, FPs at rows 7 and 2:   1 + 0.11*ss(2) - 0.11 ~ 0.780
    #   th 0.9 -> only row 0, in probation:                  -1 (null)
    g5 = ss(-0.5) / ss(-1.0)
    assert g5 > 1 + 0.11 * ss(2.0) - 0.11
    result = nab.score_corpus(scores, [w])["standard"]
    assert result.threshold == 0.8
    assert result.raw == pytest.approx(g5)
    assert result.normalised == pytest.approx(100 * (g5 + 1) / 2)
    assert (result.tp, result.fp, result.fn) == (1, 0, 0)
    low_fn = nab.score_corpus(scores, [w])["reward_low_FN_rate"]
    assert low_fn.normalised == pytest.approx(100 * (g5 + 2) / 3)


def test_sweep_agrees_with_direct_counting() -> None:
    import random

    rng = random.Random(7)
    windows = [(30, 40), (100, 115)]
    w = nab.row_weights(200, windows)
    scores = [[rng.random() for _ in range(200)]]
    for name, profile in nab.PROFILES.items():
        r = nab.score_corpus(scores, [w], {name: profile})[name]
        assert r.raw == pytest.approx(nab.score_at_threshold(scores, [w], r.threshold, profile))
        for th in (0.5, 0.9, 0.99):
            assert nab.score_at_threshold(scores, [w], th, profile) <= r.raw + 1e-9


def test_null_detector_scores_zero_and_none_never_detects() -> None:
    w = nab.row_weights(50, [(20, 25)])
    r = nab.score_corpus([[None] * 50], [w])["standard"]
    assert r.normalised == 0.0
