"""``threshold`` with ``reference = "baseline"``: levels above the sensor's own ordinary level."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from edge_agent.rules.base import PackInfo
from edge_agent.rules.running_baseline import RunningBaseline
from edge_agent.rules.threshold import ThresholdRule

from edge_agent.model import Hazard, Level, Reading, Scored
from edge_agent.options import validate_table

PACK = PackInfo("water_gauge", Hazard.WATER, "water_level", "m", 30.0, 3600.0)
TS = datetime(2020, 1, 1, tzinfo=UTC)
STEP = 600.0  # a 10-minute gauge
DAY = 86400.0


def rule(**over: object) -> ThresholdRule:
    table = {
        "reference": "baseline",
        "blue": 0.5,
        "yellow": 1.0,
        "orange": 2.0,
        "hysteresis": 0.1,
        **over,
    }
    params, problems = validate_table(table, ThresholdRule.params)
    assert problems == [] and ThresholdRule.check_params(params) == []
    return ThresholdRule("above-ordinary", params, PACK)


def judge(r: ThresholdRule, t: float, value: float, current: Level = Level.NONE) -> Level | None:
    v = r.evaluate(Scored(Reading("g", "water_level", value, "m", t, TS, True)), current)
    return None if v is None else v.level


def test_no_opinion_until_a_day_of_calm_history_then_levels_above_the_learnt_level() -> None:
    r = rule()
    rng = random.Random(1)
    t = 0.0
    # A gauge whose zero is arbitrary: ordinary level 4.71 m, 2 cm of ripple.
    while t <= DAY:  # the reading at 24 h completes the first day of samples
        assert judge(r, t, 4.71 + rng.gauss(0, 0.02)) is None
        t += STEP
    assert judge(r, t, 4.72) is Level.NONE
    assert judge(r, t + STEP, 5.30) is Level.BLUE  # 0.59 m above ordinary
    assert judge(r, t + 2 * STEP, 5.80) is Level.YELLOW
    assert judge(r, t + 3 * STEP, 6.90) is Level.ORANGE
    v = r.evaluate(
        Scored(Reading("g", "water_level", 6.9, "m", t + 4 * STEP, TS, True)), Level.NONE
    )
    assert v is not None
    assert v.reason["reference"] == "baseline"
    assert v.reason["baseline"] == pytest.approx(4.71, abs=0.03)
    assert v.reason["value"] == pytest.approx(2.19, abs=0.03)
    assert v.value == 6.9  # the alert carries the gauge's own reading


def test_a_flood_is_never_learnt_as_ordinary() -> None:
    r = rule()
    t = 0.0
    for _ in range(int(2 * DAY / STEP)):
        judge(r, t, 1.0)
        t += STEP
    # Three days at +1.5 m while an alert is in force: still yellow at the end.
    for _ in range(int(3 * DAY / STEP)):
        level = judge(r, t, 2.5, Level.YELLOW)
        t += STEP
    assert level is Level.YELLOW
    assert r.baseline is not None and r.baseline.value() == pytest.approx(1.0)


def test_slow_drift_of_the_ordinary_level_is_followed() -> None:
    r = rule()
    t = 0.0
    level = 1.0
    for _ in range(int(20 * DAY / STEP)):  # +3 cm a day for 20 days: base flow rising
        assert judge(r, t, level) in (None, Level.NONE)
        level += 0.03 * STEP / DAY
        t += STEP
    assert r.baseline is not None
    base = r.baseline.value()
    assert base is not None and level - 0.3 < base < level


def test_datum_reference_is_unchanged_and_has_no_warm_up() -> None:
    params, _ = validate_table({"blue": 0.05, "red": 0.5}, ThresholdRule.params)
    r = ThresholdRule("depth", params, PACK)
    assert r.baseline is None
    assert judge(r, 0.0, 0.06) is Level.BLUE
    assert judge(r, 1.0, 0.7) is Level.RED


def test_memory_is_bounded_by_window_over_sample() -> None:
    b = RunningBaseline(quantile=0.25, window_s=7 * DAY, sample_s=STEP, warmup_s=DAY)
    for i in range(100_000):  # a 1 s sensor for 28 hours, then 10-min samples for weeks
        b.offer(i * 1.0 if i < 100_000 else 0.0, float(i % 7))
    for i in range(5000):
        b.offer(100_000.0 + i * STEP, 1.0)
    assert len(b.samples) <= 7 * DAY / STEP + 1
    assert len(b.sorted_values) == len(b.samples)
    assert b.value() == 1.0


def test_time_going_back_starts_the_estimate_over() -> None:
    b = RunningBaseline(quantile=0.5, window_s=DAY, sample_s=60.0, warmup_s=600.0)
    for i in range(20):
        b.offer(i * 60.0, 2.0)
    assert b.value() == 2.0
    b.offer(5.0, 3.0)
    assert b.value() is None and len(b.samples) == 1


def test_warmup_longer_than_window_is_refused_with_its_key() -> None:
    params, problems = validate_table(
        {
            "reference": "baseline",
            "blue": 0.5,
            "baseline_window_s": 3600,
            "baseline_warmup_s": 7200,
        },
        ThresholdRule.params,
    )
    assert problems == []
    assert ThresholdRule.check_params(params) == [
        ("baseline_warmup_s", "must be shorter than baseline_window_s (3600), got 7200")
    ]
    _, problems = validate_table({"blue": 0.5, "reference": "floor"}, ThresholdRule.params)
    assert problems and problems[0][0] == "reference"
