"""Alert texts: every hazard x event x level in both languages reads as a person needs it."""

from __future__ import annotations

import itertools
import string
from typing import Any

import pytest

from edge_agent.model import ALERT_LEVELS, EventKind, Hazard
from edge_agent.text import (
    SUPPORTED_LANGS,
    catalog_for,
    fmt,
    level_name,
    render_message,
    render_sections,
    resolve_lang,
)
from edge_agent.text.lang_en import EN
from edge_agent.text.lang_zh import ZH_CN

RULE_ID = "pm25-level-b1x"
LEVELS = [lvl.label for lvl in ALERT_LEVELS]
ZH_COLOURS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
LOCATION = {"building": "7", "floor": "B1", "zone": "garage"}


def reason_for(hazard: str, event: str, kind: str = "threshold") -> dict[str, Any]:
    """A realistic reason: rule details for detections, who/what for human events."""
    if event in ("acknowledged", "resolved"):
        return {"by": "Wang Li", "note": "checked on site", "verdict": "true_alarm"}
    if hazard == "device":
        return {"rule": RULE_ID, "kind": "fault", "fault": "stale", "age_s": 900}
    if kind == "rate_of_rise":
        return {"rule": RULE_ID, "kind": kind, "rise": 0.12, "window_s": 600, "unit": "m"}
    return {"rule": RULE_ID, "kind": kind, "value": 162.0, "threshold": 150.0}


def make_event(hazard: str, event: str, level: str | None, **over: Any) -> dict[str, Any]:
    """An alert event as the contract defines it: every key present."""
    base: dict[str, Any] = {
        "schema": "edge-agent/alert/1",
        "alert_id": "01J0ABCDEF",
        "seq": 42,
        "site_id": "jiangchuan-3",
        "device_id": "bldg7-pi",
        "sensor_id": "sensor-b1",
        "hazard": hazard,
        "event": event,
        "level": level,
        "severity": "Severe",
        "value": 162.0,
        "unit": "ug/m3",
        "reason": reason_for(hazard, event),
        "message": "",
        "lang": "en",
        "location": dict(LOCATION),
        "ts": "2026-01-01T10:00:00+00:00",
        "clock_synced": True,
    }
    base.update(over)
    return base


def all_cases() -> list[tuple[str, str, str | None]]:
    cases: list[tuple[str, str, str | None]] = []
    for hazard, event in itertools.product(Hazard, EventKind):
        if event is EventKind.CLEARED:
            cases.append((hazard.value, event.value, None))
            continue
        cases.extend((hazard.value, event.value, lvl) for lvl in LEVELS)
        if event in (EventKind.ACKNOWLEDGED, EventKind.RESOLVED):
            cases.append((hazard.value, event.value, None))
    return cases


@pytest.mark.parametrize("lang", SUPPORTED_LANGS)
@pytest.mark.parametrize(("hazard", "event", "level"), all_cases())
def test_every_template_is_complete(hazard: str, event: str, level: str | None, lang: str) -> None:
    msg = render_message(make_event(hazard, event, level), lang)
    text = msg.title + "\n" + msg.body

    assert msg.title and "\n" not in msg.title
    assert len(msg.body.splitlines()) >= 3
    assert "{" not in text and "}" not in text, text
    assert RULE_ID not in text
    for jargon in ("rate_of_rise", "threshold", "None", "null", "_s", "ug/m3"):
        assert jargon not in text, (jargon, text)

    where = {"en": ("Building 7", "floor B1", "garage"), "zh-CN": ("7号楼", "B1层", "garage")}
    for part in where[lang]:
        assert part in msg.title and part in msg.body, (part, text)

    if level is not None:
        name = level_name(level, lang)
        assert name in msg.title and name in msg.body
        if lang == "zh-CN":
            assert ZH_COLOURS[level] in msg.title
    if event == "cleared":
        assert ("All clear" if lang == "en" else "预警解除") in text
    if event in ("acknowledged", "resolved"):
        assert "Wang Li" in msg.body and "checked on site" in msg.body
    assert "10:00" in msg.body and "2026" in msg.body


@pytest.mark.parametrize(("hazard", "event", "level"), all_cases())
def test_instruction_is_the_advice_for_hazard_and_level(
    hazard: str, event: str, level: str | None
) -> None:
    for lang in SUPPORTED_LANGS:
        cat = catalog_for(lang)
        sections = render_sections(make_event(hazard, event, level), lang)
        if event in ("cleared", "resolved") or level is None:
            assert sections.instruction == cat.cleared_advice[hazard]
        elif hazard == "device" and event != "acknowledged":
            assert cat.fault_advice["stale"] in sections.instruction
            assert cat.fault_urgency[level] in sections.instruction
        else:
            assert sections.instruction == cat.advice[hazard][level]
        assert sections.instruction in sections.body
        assert sections.instruction not in sections.description


@pytest.mark.parametrize(
    ("hazard", "level", "en_words", "zh_words"),
    [
        ("water", "orange", ["Move vehicles out of the underground garage"], ["车辆移出地下车库"]),
        ("smoke", "red", ["Evacuate", "119"], ["疏散", "119"]),
        ("crowd", "orange", ["Stop admitting people", "extra exits"], ["停止放行", "备用出口"]),
        ("crowd", "red", ["110"], ["110"]),
        ("air_quality", "orange", ["mask"], ["口罩"]),
    ],
)
def test_advice_says_what_to_do(
    hazard: str, level: str, en_words: list[str], zh_words: list[str]
) -> None:
    event = make_event(hazard, "raised", level)
    en, zh = render_message(event, "en").body, render_message(event, "zh-CN").body
    assert all(w in en for w in en_words), en
    assert all(w in zh for w in zh_words), zh


def test_no_data_from_a_sensor_is_not_an_all_clear() -> None:
    event = make_event("device", "raised", "yellow", value=None)
    en = render_message(event, "en")
    zh = render_message(event, "zh-CN")
    assert "No data from the sensor for 15 min" in en.title
    assert "does NOT mean all is clear" in en.body
    assert "15分钟没有数据" in zh.title
    assert "并不代表安全" in zh.body


@pytest.mark.parametrize(
    ("fault", "en_word"),
    [("stuck", "stuck"), ("out_of_range", "impossible"), ("bad_frames", "garbled"), ("x", "fault")],
)
def test_each_fault_is_named(fault: str, en_word: str) -> None:
    reason = {"rule": RULE_ID, "kind": "fault", "fault": fault}
    msg = render_message(make_event("device", "raised", "blue", reason=reason), "en")
    assert en_word in msg.title
    assert RULE_ID not in msg.body


def test_trend_from_rate_of_rise_in_both_languages() -> None:
    reason = reason_for("water", "raised", kind="rate_of_rise")
    event = make_event("water", "raised", "orange", value=0.8512, unit="m", reason=reason)
    en = render_message(event, "en").body
    zh = render_message(event, "zh-CN").body
    assert "Water level: 0.85 m, rising 12 cm in 10 min." in en
    assert "水位：0.85米，10分钟内上涨12厘米。" in zh


def test_falling_trend_and_caller_trend() -> None:
    reason = {"rule": RULE_ID, "kind": "rate_of_rise", "rise": -1.5, "window_s": 7200, "unit": "m"}
    event = make_event("water", "deescalated", "blue", value=2.0, unit="m", reason=reason)
    assert "falling 1.5 m in 2 h" in render_message(event, "en").body
    own = render_message(event, "en", trend="steady for an hour").body
    assert "Water level: 2 m, steady for an hour." in own
    assert "falling" not in own


def test_threshold_limit_and_anomaly_wording() -> None:
    event = make_event("air_quality", "raised", "orange")
    body = render_message(event, "en").body
    assert "Fine dust (PM2.5): 162 µg/m³ (limit for this level: 150 µg/m³)." in body
    anomaly = {"rule": RULE_ID, "kind": "anomaly", "score": 0.97}
    body = render_message(make_event("generic", "raised", "blue", reason=anomaly), "en").body
    assert "unusual compared with recent readings" in body
    assert "0.97" not in body


def test_people_are_whole_numbers() -> None:
    event = make_event("crowd", "raised", "yellow", value=120.4, unit="persons")
    assert "Crowd: 120 people" in render_message(event, "en").body
    assert "人流：120人" in render_message(event, "zh-CN").body


def test_clock_not_synchronised_is_said() -> None:
    synced = render_message(make_event("smoke", "raised", "red"), "en").body
    assert "Time: 10:00 UTC, 1 Jan 2026" in synced
    assert "not synchronised" not in synced
    event = make_event("smoke", "raised", "red", clock_synced=False, ts="2026-03-05T23:07:59Z")
    assert (
        "23:07 UTC, 5 Mar 2026 (the node's clock is not synchronised"
        in render_message(event, "en").body
    )
    zh = render_message(event, "zh-CN").body
    assert "2026年3月5日 23:07" in zh and "时钟未同步" in zh


def test_time_is_converted_to_utc() -> None:
    event = make_event("smoke", "raised", "red", ts="2026-01-01T18:30:00+08:00")
    assert "10:30 UTC, 1 Jan 2026" in render_message(event, "en").body


def test_missing_location_parts_are_left_out() -> None:
    only_zone = make_event("water", "raised", "blue", location={"zone": "east garage"})
    msg = render_message(only_zone, "en")
    assert "– east garage" in msg.title
    assert "Building" not in msg.body and "floor" not in msg.body
    named = make_event(
        "crowd", "raised", "blue", location={"name": "Main gate", "building": "North tower"}
    )
    assert "Main gate, North tower" in render_message(named, "en").title
    assert "Main gate North tower" in render_message(named, "zh-CN").title
    empty: tuple[dict[str, str] | None, ...] = ({}, None)
    for location in empty:
        event = make_event("smoke", "raised", "red", location=location)
        assert "an unknown location" in render_message(event, "en").title
        assert "位置未知" in render_message(event, "zh-CN").title


def test_acknowledged_and_resolved_say_who_and_what() -> None:
    ack = make_event("water", "acknowledged", "orange", reason={"by": "Li Na", "note": None})
    body = render_message(ack, "en").body
    assert "acknowledged by Li Na" in body and "stays open" in body
    assert "Note:" not in body
    anon = make_event("water", "acknowledged", "orange", reason={"by": None})
    assert "acknowledged by staff" in render_message(anon, "en").body
    assert "已由工作人员确认" in render_message(anon, "zh-CN").body
    false_alarm = {"by": "Li Na", "note": "cleaning crew", "verdict": "false_alarm"}
    resolved = make_event("smoke", "resolved", "yellow", reason=false_alarm)
    assert "closed by Li Na as a false alarm" in render_message(resolved, "en").body
    assert "判定为误报" in render_message(resolved, "zh-CN").body


def test_person_text_with_braces_is_not_treated_as_template() -> None:
    reason = {"by": "{by}", "note": "{level} {where}", "verdict": None}
    body = render_message(make_event("crowd", "acknowledged", "red", reason=reason), "en").body
    assert "Note: {level} {where}" in body
    assert "acknowledged by {by}" in body


def test_sensor_name_replaces_sensor_id() -> None:
    event = make_event("water", "raised", "blue")
    assert "Sensor: sensor-b1" in render_message(event, "en").body
    named = render_message(event, "en", sensor_name="Garage water level").body
    assert "Sensor: Garage water level" in named and "sensor-b1" not in named


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "en"),
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("fr", "en"),
        ("", "en"),
    ],
)
def test_language_fallback(lang: str, expected: str) -> None:
    assert resolve_lang(lang) == expected
    event = make_event("smoke", "raised", "orange")
    assert render_message(event, lang) == render_message(event, expected)


def test_level_names() -> None:
    assert level_name("orange", "zh-CN") == "橙色预警"
    assert level_name("orange", "en") == "Orange warning"
    assert level_name(None, "en") == "No warning"
    assert level_name("red", "de") == "Red warning"
    assert [level_name(lvl, "zh-CN")[:2] for lvl in LEVELS] == ["蓝色", "黄色", "橙色", "红色"]
    with pytest.raises(ValueError, match="purple"):
        level_name("purple", "en")


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("hazard", "fire", "'hazard'"),
        ("event", "exploded", "'event'"),
        ("level", "purple", "'level'"),
    ],
)
def test_bad_events_are_refused_with_the_key(key: str, value: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        render_message({**make_event("smoke", "raised", "red"), key: value}, "en")


def test_naive_or_garbled_time_is_refused() -> None:
    with pytest.raises(ValueError, match="'ts'"):
        render_message(make_event("smoke", "raised", "red", ts="2026-01-01T10:00:00"), "en")
    with pytest.raises(ValueError, match="'ts'"):
        render_message(make_event("smoke", "raised", "red", ts="yesterday"), "en")
    assert (
        "Time: unknown" in render_message(make_event("smoke", "raised", "red", ts=None), "en").body
    )


def test_catalogs_cover_every_key_and_only_known_placeholders() -> None:
    hazards = {h.value for h in Hazard}
    events = {e.value for e in EventKind}
    for cat in (EN, ZH_CN):
        assert set(cat.level_names) == {*LEVELS, "none"}
        assert set(cat.level_detail) == set(LEVELS)
        for table in (cat.hazard_what, cat.hazard_normal, cat.quantity_label, cat.event_name):
            assert set(table) == hazards
        assert set(cat.cleared_advice) == hazards
        assert set(cat.advice) == hazards
        assert all(set(cat.advice[h]) == set(LEVELS) for h in hazards)
        assert set(cat.fault_phrase) == set(cat.fault_phrase_dur) == set(cat.fault_advice)
        assert set(cat.fault_urgency) == set(LEVELS)
        assert events <= set(cat.opening) and events <= set(cat.title)
        assert set(cat.months) == {str(i) for i in range(1, 13)}

        allowed = {"level", "what", "where", "normal", "by", "verdict", "dur", "n", "b", "f"}
        allowed |= {"detail", "label", "value", "amount", "window", "limit", "advice", "note"}
        allowed |= {"sensor", "hhmm", "date", "unsynced", "day", "month", "year"}
        templates = [*cat.title.values(), *cat.opening.values(), *cat.words.values()]
        templates += [*cat.fault_phrase_dur.values(), *cat.durations.values()]
        for template in templates:
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            assert fields <= allowed, (cat.lang, template)
        plain = [
            *cat.hazard_what.values(),
            *cat.cleared_advice.values(),
            *cat.fault_advice.values(),
        ]
        plain += [text for h in hazards for text in cat.advice[h].values()]
        assert not [t for t in plain if "{" in t or "}" in t]
    assert set(EN.words) == set(ZH_CN.words)
    assert set(EN.title) == set(ZH_CN.title)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.8512, "m", "0.85"),
        (162.4, "ug/m3", "162"),
        (12.345, "cm", "12.3"),
        (0.0123, "m", "0.012"),
        (0.0, "m", "0"),
        (-0.004, "m", "-0.004"),
        (-0.0004, "m", "0"),
        (3.6, "persons", "4"),
        (4.52, "persons/m2", "4.5"),
        (1e-9, None, "0"),
    ],
)
def test_numbers_are_rounded_for_people(value: float, unit: str | None, expected: str) -> None:
    assert fmt.number(value, unit) == expected


def test_units_and_durations_in_each_language() -> None:
    assert fmt.quantity(45, "%", EN) == "45%"
    assert fmt.quantity(162, "µg/m³", ZH_CN) == "162微克/立方米"
    assert fmt.quantity(5, "ppm", ZH_CN) == "5 ppm"
    assert fmt.quantity(3, "widgets", EN) == "3 widgets"
    assert fmt.quantity(3, None, EN) == "3"
    assert fmt.duration(30, EN) == "30 s" and fmt.duration(600, ZH_CN) == "10分钟"
    assert fmt.duration(5400, EN) == "1.5 h"


@pytest.mark.parametrize(
    ("condition", "conditions", "en_title", "zh_title"),
    [
        (
            "bad_frames+stale",
            {
                "bad_frames": {"bad_rate": 0.4, "frames": 50, "window_s": 60.0},
                "stale": {"silent_s": 930.2, "stale_after_s": 120.0, "ever_seen": True},
            },
            "No data from the sensor for 16 min",
            "传感器已16分钟没有数据",
        ),
        (
            "stuck",
            {"stuck": {"value": 0.41, "unchanged_s": 3600.0, "stuck_after_s": 1800.0}},
            "Sensor reading has not changed for 60 min",
            "传感器读数已60分钟没有变化",
        ),
        ("not_finite", {"not_finite": {"value": "nan"}}, "impossible readings", "不合常理"),
        ("bad_frames", {"bad_frames": {"bad_rate": 0.3, "window_s": 60.0}}, "garbled", "错乱"),
        ("driver_fault", {"driver_fault": {"quality": "fault"}}, "Sensor fault", "传感器故障"),
    ],
)
def test_fault_rule_reasons_are_read(
    condition: str, conditions: dict[str, Any], en_title: str, zh_title: str
) -> None:
    """The fault rule names its conditions in ``condition``/``conditions`` (rules/fault.py)."""
    reason = {
        "rule": RULE_ID,
        "kind": "fault",
        "quantity": "pm2_5",
        "condition": condition,
        "conditions": conditions,
    }
    event = make_event("device", "raised", "yellow", value=None, reason=reason)
    assert en_title in render_message(event, "en").title
    assert zh_title in render_message(event, "zh-CN").title
    assert condition not in render_message(event, "en").body


def test_a_per_area_limit_is_not_shown_in_the_value_unit() -> None:
    reason = {"rule": RULE_ID, "kind": "threshold", "value": 4.2, "threshold": 4.0, "per": 50.0}
    event = make_event("crowd", "raised", "orange", value=210.0, unit="persons", reason=reason)
    body = render_message(event, "en").body
    assert "Crowd: 210 people." in body
    assert "limit" not in body
