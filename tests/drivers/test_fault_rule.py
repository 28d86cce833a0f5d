"""The sensor-fault rule: silence, stuck values, impossible values, bad-frame rate."""

from __future__ import annotations

from datetime import UTC, datetime

from edge_agent.drivers.base import FrameStats
from edge_agent.rules.base import PackInfo
from edge_agent.rules.fault import FaultRule

from edge_agent.model import Hazard, Level, Quality, Reading, Scored
from edge_agent.options import validate_table
from edge_agent.registry import Registry

PACK = PackInfo("water", Hazard.WATER, "water_level", "m", 30, 600)


def rule(**params: object) -> FaultRule:
    table, problems = validate_table(params, FaultRule.params)
    assert not problems, problems
    assert FaultRule.check_params(table) == []
    return FaultRule("sensor-fault", table, PACK)


def scored(value: float, t: float, quality: Quality = Quality.OK) -> Scored:
    return Scored(Reading("lvl", "water_level", value, "m", t, datetime.now(UTC), True, quality))


def test_registered_and_always_device() -> None:
    assert Registry().rule_kind("fault") is FaultRule
    assert FaultRule.accepts_faulty is True
    v = rule().evaluate(scored(1.0, 0.0), Level.NONE)
    assert v is not None and v.hazard is Hazard.DEVICE and v.level is Level.NONE


def test_silence_raises_even_before_the_first_reading_and_clears_on_data() -> None:
    r = rule(stale_after_s=10, level="orange")
    assert r.tick(100.0, Level.NONE).level is Level.NONE  # type: ignore[union-attr]
    v = r.tick(110.0, Level.NONE)
    assert v is not None and v.level is Level.ORANGE
    assert v.reason["condition"] == "stale" and v.value is None
    assert v.reason["conditions"]["stale"]["ever_seen"] is False
    assert r.evaluate(scored(1.0, 111.0), Level.ORANGE).level is Level.NONE  # type: ignore[union-attr]
    assert r.tick(115.0, Level.ORANGE).level is Level.NONE  # type: ignore[union-attr]
    r2 = rule(stale_after_s=5)
    r2.evaluate(scored(1.0, 0.0), Level.NONE)
    assert r2.tick(6.0, Level.NONE).level is Level.YELLOW  # type: ignore[union-attr]


def test_stuck_value_within_tolerance() -> None:
    r = rule(stuck_after_s=60, stuck_tolerance=0.001)
    levels = [
        r.evaluate(scored(1.2 + (t % 2) * 0.0005, float(t)), Level.NONE).level  # type: ignore[union-attr]
        for t in range(0, 70, 5)
    ]
    assert levels[0] is Level.NONE and levels[-1] is Level.YELLOW
    v = r.evaluate(scored(1.5, 71.0), Level.YELLOW)
    assert v is not None and v.level is Level.NONE


def test_out_of_range_nan_and_driver_fault() -> None:
    r = rule(min_value=-0.5, max_value=6.0)
    assert r.evaluate(scored(7.0, 0), Level.NONE).reason["condition"] == "out_of_range"  # type: ignore[union-attr]
    v = r.evaluate(scored(float("nan"), 1), Level.NONE)
    assert v is not None and v.level is Level.YELLOW and v.value is None
    assert v.reason["condition"] == "not_finite"
    v = r.evaluate(scored(2.0, 2, Quality.FAULT), Level.NONE)
    assert v is not None and v.reason["condition"] == "driver_fault"
    assert r.evaluate(scored(2.0, 3), Level.NONE).level is Level.NONE  # type: ignore[union-attr]
    assert FaultRule.check_params({"min_value": 5.0, "max_value": 1.0})


def test_bad_frame_rate_over_window_and_recovery() -> None:
    r = rule(max_bad_rate=0.2, bad_rate_window_s=60, min_frames=10, stale_after_s=1000)
    stats = FrameStats()
    assert r.tick(0.0, Level.NONE, stats).level is Level.NONE  # type: ignore[union-attr]
    stats.frames_ok, stats.bad_checksum = 20, 10
    v = r.tick(30.0, Level.NONE, stats)
    assert v is not None and v.level is Level.YELLOW and v.reason["condition"] == "bad_frames"
    # A good reading does not clear a bad line.
    assert r.evaluate(scored(1.0, 31.0), Level.YELLOW).level is Level.YELLOW  # type: ignore[union-attr]
    # The line gets clean: the old bad frames leave the window.
    for t in range(40, 200, 10):
        stats.frames_ok += 50
        v = r.tick(float(t), Level.YELLOW, stats)
    assert v is not None and v.level is Level.NONE


def test_params_validate_and_hazard_is_fixed() -> None:
    _, problems = validate_table({"hazard": "smoke"}, FaultRule.params)
    assert problems and problems[0][0] == "hazard"
    assert all(opt.help for opt in FaultRule.params.values())
