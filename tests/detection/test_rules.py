"""Level mapping and hysteresis of the anomaly and rate_of_rise rule kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from edge_agent.rules.anomaly import AnomalyRule
from edge_agent.rules.base import PackInfo
from edge_agent.rules.rate_of_rise import RateOfRiseRule

from edge_agent.model import Hazard, Level, Reading, Scored
from edge_agent.options import validate_table

PACK = PackInfo("water", Hazard.WATER, "water_level", "m", 0.0, 600.0)
TS = datetime(2024, 1, 1, tzinfo=UTC)


def scored(value: float, t: float = 0.0, score: float | None = None) -> Scored:
    return Scored(Reading("s1", "water_level", value, "m", t, TS, True), score)


def anomaly_rule() -> AnomalyRule:
    params, problems = validate_table(
        {"blue": 0.99, "yellow": 0.999, "red": 0.99999, "hysteresis": 0.005}, AnomalyRule.params
    )
    assert problems == [] and AnomalyRule.check_params(params) == []
    return AnomalyRule("score", params, PACK)


def test_anomaly_levels_and_reason() -> None:
    rule = anomaly_rule()
    assert rule.evaluate(scored(1.0, score=None), Level.NONE) is None
    cases = [(0.5, Level.NONE), (0.99, Level.BLUE), (0.9995, Level.YELLOW), (1.0, Level.RED)]
    for score, level in cases:
        verdict = rule.evaluate(scored(1.0, score=score), Level.NONE)
        assert verdict is not None and verdict.level == level
    verdict = rule.evaluate(scored(1.0, score=0.9995), Level.NONE)
    assert verdict is not None
    assert verdict.hazard == Hazard.WATER
    assert verdict.reason == {
        "rule": "score",
        "kind": "anomaly",
        "score": 0.9995,
        "threshold": 0.999,
    }


def test_anomaly_hysteresis_holds_current_level() -> None:
    rule = anomaly_rule()
    held = rule.evaluate(scored(1.0, score=0.996), Level.YELLOW)
    assert held is not None and held.level == Level.YELLOW  # 0.996 > 0.999 - 0.005
    dropped = rule.evaluate(scored(1.0, score=0.993), Level.YELLOW)
    assert dropped is not None and dropped.level == Level.BLUE
    fresh = rule.evaluate(scored(1.0, score=0.996), Level.NONE)
    assert fresh is not None and fresh.level == Level.BLUE


def test_thresholds_must_ascend() -> None:
    problems = AnomalyRule.check_params({"blue": 0.999, "yellow": 0.99})
    assert problems and problems[0][0] == "yellow"
    assert AnomalyRule.check_params({})  # nothing set
    assert AnomalyRule.check_params({"blue": 1.5})


def rise_rule(**extra: float) -> RateOfRiseRule:
    table = {"window_s": 600, "blue": 0.1, "yellow": 0.3, "hysteresis": 0.05, **extra}
    params, problems = validate_table(table, RateOfRiseRule.params)
    assert problems == []
    return RateOfRiseRule("rise", params, PACK)


def test_rate_of_rise_over_window() -> None:
    rule = rise_rule()
    # No opinion until readings span half the window.
    assert rule.evaluate(scored(1.00, 0.0), Level.NONE) is None
    assert rule.evaluate(scored(1.05, 200.0), Level.NONE) is None
    v = rule.evaluate(scored(1.20, 300.0), Level.NONE)
    assert v is not None and v.level == Level.BLUE and abs(v.reason["rise"] - 0.2) < 1e-9
    v = rule.evaluate(scored(1.40, 600.0), Level.NONE)
    assert v is not None and v.level == Level.YELLOW
    assert v.reason["kind"] == "rate_of_rise" and v.reason["threshold"] == 0.3
    # Old readings leave the window: the rise is measured from t=300 now.
    v = rule.evaluate(scored(1.45, 1000.0), Level.YELLOW)
    assert v is not None and v.level == Level.NONE  # 1.45 - 1.40 at t=600 -> 0.05


def test_rate_of_rise_hysteresis() -> None:
    rule = rise_rule()
    rule.evaluate(scored(0.0, 0.0), Level.NONE)
    v = rule.evaluate(scored(0.27, 400.0), Level.YELLOW)
    assert v is not None and v.level == Level.YELLOW  # 0.27 > 0.3 - 0.05
    v = rule.evaluate(scored(0.24, 450.0), Level.YELLOW)
    assert v is not None and v.level == Level.BLUE


def test_rate_of_rise_memory_is_bounded() -> None:
    rule = rise_rule(max_samples=100)
    for i in range(10_000):
        rule.evaluate(scored(0.0, i * 0.01), Level.NONE)
    assert len(rule.samples) == 100
