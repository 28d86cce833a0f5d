"""Turn an alert event (the MQTT contract dict) into words a person can act on.

Every text answers, in order: what is happening and where, how bad (level,
value, trend), what to do, and when. Rule ids and other machine details in
``reason`` are used to *choose* words but never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge_agent.model import EventKind, Hazard, Level
from edge_agent.text import fmt
from edge_agent.text.catalog import Catalog
from edge_agent.text.lang_en import EN
from edge_agent.text.lang_zh import ZH_CN

#: Languages with a full catalog; anything else falls back to English.
SUPPORTED_LANGS: tuple[str, ...] = ("zh-CN", "en")

#: Keys of a device-fault reason that may say how long the fault has lasted, in seconds.
_FAULT_DURATION_KEYS = ("silent_s", "unchanged_s", "for_s", "age_s", "duration_s")

#: Fault conditions named by the fault rule, most serious first, mapped to catalog keys.
#: When several hold at once (``"stale+bad_frames"``) the text names the first of them.
_FAULT_ORDER: tuple[tuple[str, str], ...] = (
    ("stale", "stale"),
    ("stuck", "stuck"),
    ("out_of_range", "out_of_range"),
    ("not_finite", "out_of_range"),
    ("bad_frames", "bad_frames"),
    ("driver_fault", "other"),
)


@dataclass(frozen=True, slots=True)
class Message:
    """What a person receives: ``title`` fits one phone-notification line, ``body`` the rest."""

    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Sections:
    """The parts of one alert text, kept apart for formats that file them separately.

    CAP, for one, wants the instruction apart from the description.
    ``status``, ``sensor`` and ``note`` are empty strings when they do not apply.
    """

    lang: str
    title: str
    opening: str
    status: str
    sensor: str
    note: str
    #: The advice alone (CAP ``instruction``); ``instruction_line`` is it with its label.
    instruction: str
    instruction_line: str
    time: str
    line_sep: str

    @property
    def description(self) -> str:
        """What, where, how bad and when, without the advice."""
        parts = (self.opening, self.status, self.sensor, self.note, self.time)
        return self.line_sep.join(p for p in parts if p)

    @property
    def body(self) -> str:
        """The full text: the description with the advice before the time."""
        parts = (
            self.opening,
            self.status,
            self.sensor,
            self.note,
            self.instruction_line,
            self.time,
        )
        return self.line_sep.join(p for p in parts if p)


def catalog_for(lang: str | None) -> Catalog:
    """The catalog for ``lang``; ``zh``, ``zh_CN``, ``zh-Hans`` all mean zh-CN; else English."""
    key = (lang or "").strip().replace("_", "-").lower()
    return ZH_CN if key.startswith("zh") else EN


def resolve_lang(lang: str | None) -> str:
    """The language a text for ``lang`` will actually be written in (one of SUPPORTED_LANGS)."""
    return catalog_for(lang).lang


def level_name(level: str | None, lang: str) -> str:
    """``"orange"`` -> ``"Orange warning"`` / ``"橙色预警"``; None -> "No warning" / "无预警"."""
    label = Level.parse(level).label
    return catalog_for(lang).level_names[label or "none"]


def render_message(
    event: Mapping[str, Any],
    lang: str,
    *,
    trend: str | None = None,
    sensor_name: str | None = None,
) -> Message:
    """Title and body for one alert event in ``lang`` (unknown languages fall back to English).

    ``trend`` (already in ``lang``) replaces the trend built from a
    rate-of-rise reason; ``sensor_name`` replaces the sensor id in the text.
    """
    sections = render_sections(event, lang, trend=trend, sensor_name=sensor_name)
    return Message(title=sections.title, body=sections.body)


def render_sections(
    event: Mapping[str, Any],
    lang: str,
    *,
    trend: str | None = None,
    sensor_name: str | None = None,
) -> Sections:
    """Like :func:`render_message`, but with each part of the text kept apart."""
    cat = catalog_for(lang)
    hazard = _enum_key(event, "hazard", Hazard)
    kind = _enum_key(event, "event", EventKind)
    try:
        label = Level.parse(event.get("level")).label
    except ValueError as exc:
        raise ValueError(f"alert event key 'level': {exc}") from None
    reason = event.get("reason")
    if not isinstance(reason, Mapping):
        reason = {}

    fault = _fault_key(reason, cat) if hazard == "device" else None
    what = _what(hazard, fault, reason, cat)
    where = fmt.place(event.get("location"), cat)
    level_text = cat.level_names[label or "none"]
    normal = cat.hazard_normal[hazard]
    fields = {"level": level_text, "what": what, "where": where, "normal": normal}

    title_key = kind
    if label is None and kind in ("acknowledged", "resolved"):
        title_key = f"{kind}_nolevel"
    title = cat.title[title_key].format(**fields)

    by = _text(reason.get("by")) or cat.words["someone"]
    verdict = cat.verdict.get(str(reason.get("verdict")), "")
    opening = cat.opening[kind].format(by=by, verdict=verdict, **fields)

    note = ""
    if kind in ("acknowledged", "resolved") and _text(reason.get("note")):
        note = cat.words["note"].format(note=_text(reason.get("note")))

    shown_sensor = _text(sensor_name) or _text(event.get("sensor_id"))
    sensor = cat.words["sensor"].format(sensor=shown_sensor) if shown_sensor else ""

    advice = _advice(hazard, kind, label, fault, cat)
    return Sections(
        lang=cat.lang,
        title=" ".join(title.split()),
        opening=opening,
        status=_status(event, hazard, label, kind, reason, trend, cat),
        sensor=sensor,
        note=note,
        instruction=advice,
        instruction_line=cat.words["todo"].format(advice=advice),
        time=fmt.when(event.get("ts"), event.get("clock_synced"), cat),
        line_sep=cat.words["line_sep"],
    )


def _what(hazard: str, fault: str | None, reason: Mapping[str, Any], cat: Catalog) -> str:
    """The danger in a few words; for a sensor fault, what is wrong with the sensor."""
    if fault is None:
        return cat.hazard_what[hazard]
    for details in _fault_details(reason):
        for key in _FAULT_DURATION_KEYS:
            seconds = _number(details.get(key))
            if seconds is not None and seconds > 0:
                return cat.fault_phrase_dur[fault].format(dur=fmt.duration(seconds, cat))
    return cat.fault_phrase[fault]


def _fault_key(reason: Mapping[str, Any], cat: Catalog) -> str | None:
    """The catalog key of a device fault; None when the reason is not a fault (an ack, say).

    Reads the fault rule's ``condition`` (``"stale"``, ``"stale+bad_frames"``)
    or a plain ``fault`` key; anything unrecognised is ``other``.
    """
    if reason.get("kind") != "fault" and "fault" not in reason and "condition" not in reason:
        return None
    named = {str(reason.get("fault"))} | set(str(reason.get("condition")).split("+"))
    for condition, key in _FAULT_ORDER:
        if condition in named:
            return key
    return "other"


def _fault_details(reason: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Where a fault's numbers live: the reason itself, then each of its ``conditions``."""
    found: list[Mapping[str, Any]] = [reason]
    conditions = reason.get("conditions")
    if isinstance(conditions, Mapping):
        ordered = [name for name, _ in _FAULT_ORDER if name in conditions]
        found += [conditions[n] for n in ordered if isinstance(conditions[n], Mapping)]
    return found


def _status(
    event: Mapping[str, Any],
    hazard: str,
    label: str | None,
    kind: str,
    reason: Mapping[str, Any],
    trend: str | None,
    cat: Catalog,
) -> str:
    """How bad: level in words, then the reading with its trend and this level's limit."""
    words = cat.words
    unit = event.get("unit")
    value = _number(event.get("value"))
    if value is None:
        value = _number(reason.get("value"))
    parts: list[str] = []
    if label is not None:
        parts.append(
            words["level_line"].format(level=cat.level_names[label], detail=cat.level_detail[label])
        )
    if value is not None:
        reading = words["reading"].format(
            label=cat.quantity_label[hazard], value=fmt.quantity(value, unit, cat)
        )
        if kind != "cleared":
            reading += _trend(reason, unit, trend, cat)
            threshold = _number(reason.get("threshold"))
            per = _number(reason.get("per"))
            same_unit = per is None or per == 1.0  # a per-area limit is not in the value's unit
            if (
                reason.get("kind") == "threshold"
                and threshold is not None
                and label is not None
                and same_unit
            ):
                reading += words["limit"].format(limit=fmt.quantity(threshold, unit, cat))
        parts.append(reading + words["sentence_end"])
    return words["space"].join(parts)


def _trend(reason: Mapping[str, Any], unit: object, trend: str | None, cat: Catalog) -> str:
    """``, rising 12 cm in 10 min`` from a rate-of-rise reason, or the caller's own words."""
    if trend:
        return cat.words["trend_sep"] + trend
    kind = reason.get("kind")
    if kind == "anomaly":
        return cat.words["anomaly"]
    amount = _number(reason.get("rise"))
    window = _number(reason.get("window_s"))
    if kind != "rate_of_rise" or amount is None or window is None:
        return ""
    rise_unit = reason.get("unit") or unit
    shown, shown_unit = fmt.rise(abs(amount), None if rise_unit is None else str(rise_unit))
    template = cat.words["rising" if amount >= 0 else "falling"]
    text = template.format(
        amount=fmt.quantity(shown, shown_unit, cat), window=fmt.duration(window, cat)
    )
    return cat.words["trend_sep"] + text


def _advice(hazard: str, kind: str, label: str | None, fault: str | None, cat: Catalog) -> str:
    """What to do for this hazard at this level; after the alert, what to do next."""
    if kind in ("cleared", "resolved") or label is None:
        return cat.cleared_advice[hazard]
    if fault is not None:
        return cat.words["space"].join((cat.fault_advice[fault], cat.fault_urgency[label]))
    return cat.advice[hazard][label]


def _enum_key(event: Mapping[str, Any], key: str, kind: type[Hazard] | type[EventKind]) -> str:
    """A required enum-valued key of the event, checked, as its wire string."""
    if key not in event:
        raise ValueError(f"alert event has no {key!r} key")
    value = event[key]
    allowed = [member.value for member in kind]
    if value not in allowed:
        raise ValueError(f"alert event key {key!r}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _number(value: object) -> float | None:
    """A finite float, or None for absent, non-numeric and boolean values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
