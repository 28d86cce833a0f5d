"""The shape of one language's wording: every phrase an alert text is built from.

One frozen :class:`Catalog` per language (``lang_en``, ``lang_zh``) keeps all
wording out of the rendering logic, so a translator edits one file of plain
strings and a test can walk every entry of every catalog looking for a
missing key or a placeholder that is never filled.

Templates use :meth:`str.format` named fields. Only templates are ever
formatted; values (a note typed by a person, a sensor name) are passed as
arguments, so braces in them can never be mistaken for placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

V = TypeVar("V")


def frozen(table: Mapping[str, V]) -> Mapping[str, V]:
    """A read-only view, so a catalog cannot be changed behind the renderer's back."""
    return MappingProxyType(dict(table))


@dataclass(frozen=True, slots=True)
class Catalog:
    """All phrases of one language. Keys are wire names (hazards, events, levels, faults).

    ``advice`` is keyed by hazard then level (``blue`` .. ``red``);
    ``fault_phrase``/``fault_advice`` by the ``fault`` of a device reason
    (``stale``, ``stuck``, ``out_of_range``, ``bad_frames``, and ``other``
    for anything else).
    """

    lang: str
    #: ``blue`` .. ``red`` and ``none`` -> "Orange warning" / "橙色预警".
    level_names: Mapping[str, str]
    #: ``blue`` .. ``red`` -> how bad, in words ("severe" / "II级，严重").
    level_detail: Mapping[str, str]
    #: hazard -> short noun phrase of the danger ("High water level").
    hazard_what: Mapping[str, str]
    #: hazard -> sentence part for the all-clear ("water level is back to normal").
    hazard_normal: Mapping[str, str]
    #: hazard -> label of the measured value ("Water level").
    quantity_label: Mapping[str, str]
    #: hazard -> CAP ``event`` name ("High water").
    event_name: Mapping[str, str]
    #: fault -> what went wrong with the sensor ("No data from the sensor").
    fault_phrase: Mapping[str, str]
    #: fault -> the same with a duration placeholder ``{dur}``.
    fault_phrase_dur: Mapping[str, str]
    #: fault -> what to check.
    fault_advice: Mapping[str, str]
    #: level -> how soon a faulty sensor must be looked at.
    fault_urgency: Mapping[str, str]
    #: hazard -> level -> what people should do.
    advice: Mapping[str, Mapping[str, str]]
    #: hazard -> what to do once the alert is over.
    cleared_advice: Mapping[str, str]
    #: event -> title template; fields ``level``, ``what``, ``where``, ``normal``.
    title: Mapping[str, str]
    #: event -> first body sentence; fields ``level``, ``what``, ``where``, ``normal``,
    #: ``by``, ``verdict``.
    opening: Mapping[str, str]
    #: verdict (``true_alarm``/``false_alarm``) -> phrase for the resolved sentence.
    verdict: Mapping[str, str]
    #: display of canonical units ("m" -> "m" / "米").
    unit_names: Mapping[str, str]
    #: ``s``/``min``/``h`` -> duration template with ``{n}``.
    durations: Mapping[str, str]
    #: month number (1..12) as string -> name, for dates ("Jan").
    months: Mapping[str, str]
    #: Single phrases and templates, by name (see ``lang_en`` for the list).
    words: Mapping[str, str]
