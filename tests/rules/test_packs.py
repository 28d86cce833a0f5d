"""The shipped packs: each rule does what its pack's comments promise, through a real RuleSet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks import water
from edge_agent.model import Hazard, Level, Reading, Scored
from edge_agent.pipeline.evaluate import RuleSet
from edge_agent.registry import Registry
from edge_agent.rulepacks import builtin_pack_names, load_pack

TS = datetime(2026, 1, 1, tzinfo=UTC)


def ruleset(pack_name: str) -> RuleSet:
    pack = load_pack(pack_name, None, Registry())
    return RuleSet("s1", pack.build_rules(Registry()), pack.unit)


def judge(rs: RuleSet, quantity: str, value: float, t: float) -> dict[Hazard, Level]:
    reading = Reading("s1", quantity, value, "", t, TS, True)
    cands = rs.evaluate(Scored(reading), lambda s, h: Level.NONE)
    return {c.hazard: c.level for c in cands}


def test_every_builtin_pack_loads_and_states_its_unit() -> None:
    names = builtin_pack_names()
    assert {"smoke", "water", "water_gauge", "crowd", "air_quality", "generic"} <= set(names)
    for name in names:
        pack = load_pack(name, None, Registry())
        assert pack.description and (pack.unit or name == "generic"), name


def test_smoke_alarm_interconnect_is_red_at_once_and_clears_at_zero() -> None:
    rs = ruleset("smoke")
    assert judge(rs, "smoke_alarm", 1.0, 0.0)[Hazard.SMOKE] is Level.RED
    assert judge(rs, "smoke_alarm", 0.0, 1.0)[Hazard.SMOKE] is Level.NONE


def test_smoke_fast_rise_of_particulates() -> None:
    rs = ruleset("smoke")
    levels = [judge(rs, "pm2_5", 10.0 + 2.0 * t, float(t)) for t in range(0, 61)]
    # +120 µg/m³ in a minute, still below the 150 "heavy" level: yellow by rate.
    assert levels[-1][Hazard.SMOKE] is Level.YELLOW
    rs = ruleset("smoke")
    calm = [judge(rs, "pm2_5", 10.0 + 0.3 * t, float(t)) for t in range(0, 61)]
    assert calm[-1][Hazard.SMOKE] is Level.NONE  # +18 in a minute: cooking at most


def test_crowd_capacity_and_surge() -> None:
    rs = ruleset("crowd")
    # 140 persons in the default hall: 1.4 persons/m² (no density level) but
    # 93 % of the 150 capacity: yellow.
    assert judge(rs, "occupancy", 140.0, 0.0)[Hazard.CROWD] is Level.YELLOW
    rs = ruleset("crowd")
    levels = [judge(rs, "occupancy", 20.0 + 70.0 * t / 60.0, float(t)) for t in range(0, 61)]
    # +70 people in one minute (to 90, 60 % of capacity): a surge at the door.
    assert levels[-1][Hazard.CROWD] is Level.YELLOW


def test_water_rise_per_ten_minutes_escalates_before_depth() -> None:
    rs = ruleset("water")
    out = {}
    for i in range(11):  # 0.01 m -> 0.13 m in 10 minutes: blue by depth, yellow by rate
        out = judge(rs, "water_level", 0.01 + 0.012 * i, 60.0 * i)
    assert out[Hazard.WATER] is Level.YELLOW


@pytest.mark.skipif(not (water.DATA / water.FILE).is_file(), reason="shared water data absent")
def test_water_gauge_pack_warns_yellow_before_every_peak_of_the_2020_aude_flood() -> None:
    gauges = water.load()
    run = water.run_pack(gauges, load_pack("water_gauge", None, Registry()), datum=False)
    results = water.station_results(gauges, run)
    assert len(results) >= 40
    missed = [r.code for r in results if r.lead is None]
    assert missed == []
    _, per_gauge_month = water.false_episodes(gauges, run)
    assert per_gauge_month < 1.0
