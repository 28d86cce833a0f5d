"""Formatting of numbers, units, durations, places and times for people.

Sensors report ``0.8512 m`` or ``162.4 ug/m3``; a phone notification should
say ``0.85 m`` and ``162 µg/m³``. These helpers round to what a person can
act on and translate units through the language's :class:`Catalog`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edge_agent.text.catalog import Catalog, frozen

#: Spellings seen in drivers, configs and rule packs -> canonical unit key.
_UNIT_ALIASES: Mapping[str, str] = frozen(
    {
        "m": "m",
        "metre": "m",
        "meter": "m",
        "metres": "m",
        "meters": "m",
        "cm": "cm",
        "mm": "mm",
        "ug/m3": "ug/m3",
        "µg/m³": "ug/m3",
        "μg/m³": "ug/m3",
        "µg/m3": "ug/m3",
        "μg/m3": "ug/m3",
        "ug/m^3": "ug/m3",
        "person": "persons",
        "persons": "persons",
        "people": "persons",
        "count": "persons",
        "persons/m2": "persons/m2",
        "persons/m²": "persons/m2",
        "people/m2": "persons/m2",
        "people/m²": "persons/m2",
        "%": "%",
        "percent": "%",
        "ppm": "ppm",
        "°c": "degC",
        "degc": "degC",
        "c": "degC",
    }
)

#: Units whose values are whole things (people); never shown with decimals.
_WHOLE_UNITS = frozenset({"persons"})
#: Units of densities and rates that read best with one decimal (4.5 people/m²).
_ONE_DECIMAL_UNITS = frozenset({"persons/m2"})
#: Units written without a space before them in English.
_TIGHT_UNITS = frozenset({"%", "degC"})


def canonical_unit(unit: str | None) -> str | None:
    """The canonical key of a unit spelling, the spelling itself if unknown, None if empty."""
    if unit is None or not str(unit).strip():
        return None
    text = str(unit).strip()
    return _UNIT_ALIASES.get(text.lower(), _UNIT_ALIASES.get(text, text))


def number(value: float, unit: str | None = None) -> str:
    """Round for reading, not for precision: 3 significant figures, never ``1e-05``."""
    if not math.isfinite(value):
        return str(value)
    if canonical_unit(unit) in _WHOLE_UNITS:
        return str(round(value))
    magnitude = abs(value)
    if canonical_unit(unit) in _ONE_DECIMAL_UNITS and magnitude < 100:
        decimals = 1
    elif magnitude >= 100:
        decimals = 0
    elif magnitude >= 10:
        decimals = 1
    elif magnitude >= 0.1 or magnitude == 0:
        decimals = 2
    else:
        decimals = 3
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(value: float, unit: str | None, cat: Catalog) -> str:
    """``0.85 m`` / ``0.85米``: a value with its unit in the catalog's language."""
    key = canonical_unit(unit)
    shown = number(value, unit)
    if key is None:
        return shown
    name = cat.unit_names.get(key, str(unit).strip())
    if key in _TIGHT_UNITS or (cat.words["space"] == "" and not name.isascii()):
        return f"{shown}{name}"
    return f"{shown} {name}"


def rise(amount: float, unit: str | None) -> tuple[float, str | None]:
    """A rise in metres under one metre reads better in centimetres (``12 cm``)."""
    if canonical_unit(unit) == "m" and abs(amount) < 1:
        return amount * 100, "cm"
    return amount, unit


def duration(seconds: float, cat: Catalog) -> str:
    """``90 s``, ``10 min``, ``2 h`` (rounded; windows are configured in round numbers)."""
    seconds = abs(seconds)
    if seconds < 90:
        return cat.durations["s"].format(n=round(seconds))
    if seconds < 90 * 60:
        return cat.durations["min"].format(n=round(seconds / 60))
    return cat.durations["h"].format(n=number(seconds / 3600))


def place(location: Mapping[str, Any] | None, cat: Catalog) -> str:
    """Where, from the event's location: name, building, floor, zone; missing parts left out.

    A short building id ("7", "A3") becomes "Building 7" / "7号楼"; a longer
    one ("North tower") is used as written. The same rule applies to floors.
    """
    if not location:
        return cat.words["unknown_place"]
    parts: list[str] = []
    name = _text(location.get("name"))
    if name:
        parts.append(name)
    building = _text(location.get("building"))
    if building:
        short = len(building) <= 4 and building.isalnum()
        parts.append(cat.words["building"].format(b=building) if short else building)
    floor = _text(location.get("floor"))
    if floor:
        short = len(floor) <= 4 and floor.replace("-", "").isalnum()
        parts.append(cat.words["floor"].format(f=floor) if short else floor)
    zone = _text(location.get("zone"))
    if zone and zone != name:
        parts.append(zone)
    if not parts:
        return cat.words["unknown_place"]
    return cat.words["place_sep"].join(parts)


def when(ts: object, clock_synced: object, cat: Catalog) -> str:
    """``Time: 10:00 UTC, 1 Jan 2026``: the node knows no time zone, so UTC, said plainly."""
    stamp = parse_ts(ts)
    if stamp is None:
        return cat.words["time_unknown"]
    date = cat.words["date"].format(
        day=stamp.day, month=cat.months[str(stamp.month)], year=stamp.year
    )
    unsynced = cat.words["unsynced"] if clock_synced is False else ""
    return cat.words["time"].format(hhmm=f"{stamp:%H:%M}", date=date, unsynced=unsynced)


def parse_ts(ts: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string or datetime; None if absent or naive."""
    if isinstance(ts, datetime):
        stamp = ts
    elif isinstance(ts, str) and ts:
        try:
            stamp = datetime.fromisoformat(ts)
        except ValueError:
            raise ValueError(f"alert event key 'ts': {ts!r} is not an ISO 8601 time") from None
    else:
        return None
    if stamp.tzinfo is None:
        raise ValueError(f"alert event key 'ts': {ts!r} has no UTC offset")
    return stamp.astimezone(UTC)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
