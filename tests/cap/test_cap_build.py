"""CAP 1.2 messages: every hazard x event in both languages validates against the OASIS XSD."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.cap import CAP_NS, build_cap, cap_identifier, cap_reference, cap_time
from edge_agent.model import ALERT_LEVELS, EventKind, Hazard
from edge_agent.text import render_sections

XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "CAP-v1.2.xsd"
NS = {"cap": CAP_NS}
SENDER = "bldg7-pi@jiangchuan-3.example.org"
LEVELS = [lvl.label for lvl in ALERT_LEVELS]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    assert XSD.is_file(), f"the OASIS CAP 1.2 schema is expected at {XSD}"
    return xmlschema.XMLSchema(str(XSD))


def make_event(hazard: str, event: str, level: str | None, **over: Any) -> dict[str, Any]:
    """An alert event with every contract key; reason shaped as the pipeline makes it."""
    if event in ("acknowledged", "resolved"):
        reason: dict[str, Any] = {"by": "Li Na", "note": "on site", "verdict": "true_alarm"}
    elif hazard == "device":
        reason = {"rule": "fault-stale", "kind": "fault", "fault": "stale", "age_s": 300}
    else:
        reason = {"rule": "lvl", "kind": "threshold", "value": 0.9, "threshold": 0.8}
    base: dict[str, Any] = {
        "schema": "edge-agent/alert/1",
        "alert_id": "01J0ABCDEF",
        "seq": 7,
        "site_id": "jiangchuan-3",
        "device_id": "bldg7-pi",
        "sensor_id": "water-b1",
        "hazard": hazard,
        "event": event,
        "level": level,
        "severity": {
            "blue": "Minor",
            "yellow": "Moderate",
            "orange": "Severe",
            "red": "Extreme",
        }.get(level or "", "Minor"),
        "value": 0.9,
        "unit": "m",
        "reason": reason,
        "message": "",
        "lang": "en",
        "location": {"building": "7", "floor": "B1", "zone": "garage"},
        "ts": "2026-01-01T10:00:00.250000+00:00",
        "clock_synced": True,
    }
    base.update(over)
    return base


def cases() -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    for hazard, event in itertools.product(Hazard, EventKind):
        levels: list[str | None] = [None] if event is EventKind.CLEARED else list(LEVELS)
        out.extend((hazard.value, event.value, lvl) for lvl in levels)
    return out


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def texts(root: ET.Element, path: str) -> list[str]:
    return [el.text or "" for el in root.findall(path, NS)]


@pytest.mark.parametrize(("hazard", "event", "level"), cases())
def test_every_message_validates(
    schema: xmlschema.XMLSchema, hazard: str, event: str, level: str | None
) -> None:
    ev = make_event(hazard, event, level)
    references = None if event == "raised" else cap_reference(ev | {"seq": 1}, sender=SENDER)
    xml = build_cap(ev, sender=SENDER, langs=["zh-CN", "en"], references=references)
    schema.validate(xml.decode("utf-8"))
    root = parse(xml)

    msg_type = {"raised": "Alert", "cleared": "Cancel", "resolved": "Cancel"}.get(event, "Update")
    assert texts(root, "cap:msgType") == [msg_type]
    assert texts(root, "cap:identifier") == ["bldg7-pi.01J0ABCDEF.7"]
    assert texts(root, "cap:sent") == ["2026-01-01T10:00:00+00:00"]
    assert texts(root, "cap:status") == ["Actual"] and texts(root, "cap:scope") == ["Public"]
    assert (texts(root, "cap:references") == []) == (event == "raised")

    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["zh-CN", "en"]
    for info, lang in zip(infos, ["zh-CN", "en"], strict=True):
        sections = render_sections(ev, lang)
        assert info.findtext("cap:headline", namespaces=NS) == sections.title
        assert info.findtext("cap:instruction", namespaces=NS) == sections.instruction
        assert info.findtext("cap:description", namespaces=NS) == sections.description
        severity = info.findtext("cap:severity", namespaces=NS)
        if msg_type == "Cancel":
            assert severity == "Unknown"
            assert texts(info, "cap:responseType") == ["AllClear"]
        else:
            assert severity == ev["severity"]
        params = {
            p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
            for p in info.findall("cap:parameter", NS)
        }
        assert params["value"] == "0.9" and params["unit"] == "m"
        assert params["level"] == (level or "none")
        area = info.find("cap:area", NS)
        assert area is not None
        assert "B1" in (area.findtext("cap:areaDesc", namespaces=NS) or "")
        assert area.find("cap:circle", NS) is None


@pytest.mark.parametrize(
    ("hazard", "categories"),
    [
        ("smoke", ["Fire"]),
        ("water", ["Met", "Env"]),
        ("crowd", ["Safety"]),
        ("air_quality", ["Env"]),
        ("device", ["Infra"]),
        ("generic", ["Other"]),
    ],
)
def test_category_per_hazard(hazard: str, categories: list[str]) -> None:
    root = parse(build_cap(make_event(hazard, "raised", "yellow"), sender=SENDER, langs=["en"]))
    assert texts(root, "cap:info/cap:category") == categories


@pytest.mark.parametrize(
    ("reason", "event", "expected"),
    [
        (
            {"kind": "threshold", "value": 1.0, "threshold": 0.8},
            "raised",
            ("Immediate", "Observed"),
        ),
        ({"kind": "fault", "fault": "stale"}, "escalated", ("Immediate", "Observed")),
        ({"kind": "rate_of_rise", "rise": 0.1, "window_s": 600}, "raised", ("Expected", "Likely")),
        ({"kind": "anomaly", "score": 0.99}, "escalated", ("Expected", "Likely")),
        ({"by": "Li", "verdict": "true_alarm"}, "acknowledged", ("Immediate", "Observed")),
        ({"by": "Li", "verdict": None}, "acknowledged", ("Immediate", "Likely")),
        ({"kind": "threshold"}, "cleared", ("Past", "Observed")),
        ({"by": "Li", "verdict": "false_alarm"}, "resolved", ("Past", "Observed")),
    ],
)
def test_default_urgency_and_certainty(
    schema: xmlschema.XMLSchema, reason: dict[str, Any], event: str, expected: tuple[str, str]
) -> None:
    level = None if event == "cleared" else "orange"
    xml = build_cap(make_event("water", event, level, reason=reason), sender=SENDER, langs=["en"])
    schema.validate(xml.decode())
    root = parse(xml)
    got = (texts(root, "cap:info/cap:urgency")[0], texts(root, "cap:info/cap:certainty")[0])
    assert got == expected


def test_overrides_and_bad_overrides() -> None:
    ev = make_event("smoke", "raised", "red")
    root = parse(
        build_cap(
            ev,
            sender=SENDER,
            langs=["en"],
            urgency="Future",
            certainty="Possible",
            status="Exercise",
        )
    )
    assert texts(root, "cap:info/cap:urgency") == ["Future"]
    assert texts(root, "cap:info/cap:certainty") == ["Possible"]
    assert texts(root, "cap:status") == ["Exercise"]
    with pytest.raises(ValueError, match="urgency 'Soon'"):
        build_cap(ev, sender=SENDER, langs=["en"], urgency="Soon")
    with pytest.raises(ValueError, match="certainty"):
        build_cap(ev, sender=SENDER, langs=["en"], certainty="Sure")
    with pytest.raises(ValueError, match="status"):
        build_cap(ev, sender=SENDER, langs=["en"], status="Real")


def test_circle_from_coordinates(schema: xmlschema.XMLSchema) -> None:
    location = {"building": "7", "lat": 31.0305, "lon": 121.4012, "radius_km": 0.25}
    xml = build_cap(
        make_event("crowd", "raised", "red", location=location), sender=SENDER, langs=["en"]
    )
    schema.validate(xml.decode())
    assert texts(parse(xml), "cap:info/cap:area/cap:circle") == ["31.030500,121.401200 0.25"]
    default = dict(location)
    del default["radius_km"]
    xml = build_cap(
        make_event("crowd", "raised", "red", location=default), sender=SENDER, langs=["en"]
    )
    assert texts(parse(xml), "cap:info/cap:area/cap:circle") == ["31.030500,121.401200 0.1"]
    with pytest.raises(ValueError, match="lat/lon"):
        bad = dict(location, lat=95.0)
        build_cap(make_event("crowd", "raised", "red", location=bad), sender=SENDER, langs=["en"])


def test_unsynchronised_clock_is_noted(schema: xmlschema.XMLSchema) -> None:
    xml = build_cap(
        make_event("smoke", "raised", "red", clock_synced=False), sender=SENDER, langs=["en"]
    )
    schema.validate(xml.decode())
    assert "not synchronised" in texts(parse(xml), "cap:note")[0]
    synced = build_cap(make_event("smoke", "raised", "red"), sender=SENDER, langs=["en"])
    assert texts(parse(synced), "cap:note") == []


def test_languages_are_normalised_and_deduplicated() -> None:
    xml = build_cap(
        make_event("smoke", "raised", "red"), sender=SENDER, langs=["zh", "zh-CN", "fr", "en"]
    )
    assert texts(parse(xml), "cap:info/cap:language") == ["zh-CN", "en"]
    with pytest.raises(ValueError, match="langs is empty"):
        build_cap(make_event("smoke", "raised", "red"), sender=SENDER, langs=[])


def test_identifier_reference_and_time_helpers() -> None:
    ev = make_event("water", "raised", "blue", ts="2026-06-01T18:00:00+08:00")
    assert cap_identifier(ev) == "bldg7-pi.01J0ABCDEF.7"
    assert cap_time(ev["ts"]) == "2026-06-01T10:00:00+00:00"
    assert (
        cap_reference(ev, sender=SENDER)
        == f"{SENDER},bldg7-pi.01J0ABCDEF.7,2026-06-01T10:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"seq": None}, "'seq'"),
        ({"alert_id": "a b"}, "identifier"),
        ({"ts": None}, "'ts'"),
        ({"ts": "2026-01-01 10:00"}, "'ts'"),
        ({"hazard": "meteor"}, "'hazard'"),
        ({"event": "exploded"}, "'event'"),
    ],
)
def test_bad_events_are_refused(over: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_cap(make_event("water", "raised", "blue") | over, sender=SENDER, langs=["en"])


def test_bad_sender_is_refused() -> None:
    with pytest.raises(ValueError, match="sender"):
        build_cap(make_event("water", "raised", "blue"), sender="my node", langs=["en"])


# Any text at all, control characters and surrogates included: people type notes and names.
printable = st.text(st.characters(), max_size=40)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hazard=st.sampled_from([h.value for h in Hazard]),
    event=st.sampled_from([e.value for e in EventKind]),
    level=st.sampled_from(LEVELS),
    value=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
    unit=st.one_of(st.none(), st.sampled_from(["m", "ug/m3", "persons", "%", "x<&>"])),
    note=printable,
    zone=printable,
    by=printable,
    lang=st.sampled_from(["en", "zh-CN"]),
)
def test_arbitrary_person_text_still_validates(
    schema: xmlschema.XMLSchema,
    hazard: str,
    event: str,
    level: str,
    value: float | None,
    unit: str | None,
    note: str,
    zone: str,
    by: str,
    lang: str,
) -> None:
    reason = (
        {"by": by, "note": note, "verdict": None} if event in ("acknowledged", "resolved") else {}
    )
    ev = make_event(
        hazard,
        event,
        None if event == "cleared" else level,
        value=value,
        unit=unit,
        reason=reason,
        location={"zone": zone, "floor": note[:3]},
    )
    xml = build_cap(ev, sender=SENDER, langs=[lang])
    schema.validate(xml.decode("utf-8"))
