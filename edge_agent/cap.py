"""CAP 1.2 (OASIS Common Alerting Protocol) messages from alert events.

Government and platform warning systems ingest CAP, so a node that can emit
it plugs into them without a custom adapter. Built with the stdlib
``xml.etree`` only (no lxml on a Pi); the tests validate the output against
the official OASIS XSD.

Choices the standard leaves to the sender, documented here once:

- ``identifier`` is ``{device_id}.{alert_id}.{seq}``: unique per message
  because ``seq`` is the per-device dedupe key.
- ``msgType``: ``raised`` -> Alert; ``escalated``/``deescalated``/
  ``acknowledged`` -> Update; ``cleared``/``resolved`` -> Cancel. Update and
  Cancel should name earlier messages in ``references`` (see
  :func:`cap_reference`).
- ``urgency``/``certainty`` defaults by what fired: a threshold crossing or a
  sensor fault has been *observed* and needs action now
  (Immediate/Observed); a rate of rise or an anomaly score predicts
  (Expected/Likely); an acknowledgement by a person confirming a true alarm
  is Immediate/Observed, otherwise Immediate/Likely; a Cancel is
  Past/Observed. Callers may override both.
- ``severity`` maps our levels blue/yellow/orange/red to
  Minor/Moderate/Severe/Extreme, and is ``Unknown`` on a Cancel.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from edge_agent.model import Level
from edge_agent.text import catalog_for, render_sections, resolve_lang
from edge_agent.text.catalog import frozen
from edge_agent.text.fmt import parse_ts, place

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"

_MSG_TYPE: Mapping[str, str] = frozen(
    {
        "raised": "Alert",
        "escalated": "Update",
        "deescalated": "Update",
        "acknowledged": "Update",
        "cleared": "Cancel",
        "resolved": "Cancel",
    }
)

_CATEGORIES: Mapping[str, tuple[str, ...]] = frozen(
    {
        "smoke": ("Fire",),
        "water": ("Met", "Env"),
        "crowd": ("Safety",),
        "air_quality": ("Env",),
        "device": ("Infra",),
        "generic": ("Other",),
    }
)

#: CAP responseType per hazard and level: the kind of action the advice asks for.
_RESPONSE: Mapping[str, Mapping[str, str]] = frozen(
    {
        "smoke": frozen(
            {"blue": "Monitor", "yellow": "Assess", "orange": "Prepare", "red": "Evacuate"}
        ),
        "water": frozen(
            {"blue": "Monitor", "yellow": "Prepare", "orange": "Execute", "red": "Avoid"}
        ),
        "crowd": frozen(
            {"blue": "Monitor", "yellow": "Execute", "orange": "Execute", "red": "Execute"}
        ),
        "air_quality": frozen(
            {
                "blue": "Monitor",
                "yellow": "Shelter",
                "orange": "Shelter",
                "red": "Shelter",
            }
        ),
        "generic": frozen(
            {"blue": "Monitor", "yellow": "Assess", "orange": "Assess", "red": "Execute"}
        ),
        "device": frozen(
            {"blue": "Assess", "yellow": "Assess", "orange": "Assess", "red": "Assess"}
        ),
    }
)

_URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
_CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
_STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
_SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor")
#: CAP forbids spaces, commas and XML specials in identifiers and sender.
_BAD_ID_CHARS = re.compile(r"[\s,<&]")
#: Characters XML 1.0 cannot carry at all (control characters, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Radius of the area circle when a location has lat/lon but no ``radius_km``.
DEFAULT_RADIUS_KM = 0.1


def build_cap(
    event: Mapping[str, Any],
    *,
    sender: str,
    langs: Sequence[str],
    urgency: str | None = None,
    certainty: str | None = None,
    references: str | None = None,
    status: str = "Actual",
) -> bytes:
    """One CAP 1.2 ``alert`` (UTF-8 XML bytes) for ``event``, with one ``info`` per language.

    ``references`` is the CAP ``references`` value (``sender,identifier,sent``
    entries separated by spaces; :func:`cap_reference` makes one) and is
    expected on Update and Cancel messages. Raises ValueError naming the
    event key or argument that cannot be expressed in CAP.
    """
    kind = str(event.get("event"))
    if kind not in _MSG_TYPE:
        raise ValueError(f"alert event key 'event': {kind!r} is not a lifecycle event")
    hazard = str(event.get("hazard"))
    if hazard not in _CATEGORIES:
        raise ValueError(f"alert event key 'hazard': {hazard!r} is not a known hazard")
    if not langs:
        raise ValueError("build_cap: langs is empty; CAP needs at least one info block")
    _check_id("sender", sender)
    if status not in _STATUSES:
        raise ValueError(f"build_cap: status {status!r} is not one of {', '.join(_STATUSES)}")
    msg_type = _MSG_TYPE[kind]
    urgency = urgency or _default_urgency(event, msg_type)
    certainty = certainty or _default_certainty(event, msg_type)
    if urgency not in _URGENCIES:
        raise ValueError(f"build_cap: urgency {urgency!r} is not one of {', '.join(_URGENCIES)}")
    if certainty not in _CERTAINTIES:
        raise ValueError(
            f"build_cap: certainty {certainty!r} is not one of {', '.join(_CERTAINTIES)}"
        )

    root = ET.Element(_q("alert"))
    _sub(root, "identifier", cap_identifier(event))
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(event.get("ts")))
    _sub(root, "status", status)
    _sub(root, "msgType", msg_type)
    _sub(root, "source", f"edge-agent {event.get('site_id')}/{event.get('device_id')}")
    _sub(root, "scope", "Public")
    _sub(root, "code", str(event.get("schema") or "edge-agent/alert/1"))
    if event.get("clock_synced") is False:
        _sub(root, "note", "Sender clock not synchronised: times may be wrong.")
    if references:
        _sub(root, "references", references)
    incident = _text(event.get("alert_id"))
    if incident and not _BAD_ID_CHARS.search(incident):
        _sub(root, "incidents", incident)

    seen: set[str] = set()
    for lang in langs:
        resolved = resolve_lang(lang)
        if resolved in seen:
            continue
        seen.add(resolved)
        _info(root, event, resolved, hazard, kind, msg_type, urgency, certainty)

    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)
    return xml


def cap_identifier(event: Mapping[str, Any]) -> str:
    """``{device_id}.{alert_id}.{seq}``: unique per message, stable across re-sends."""
    for key in ("device_id", "alert_id", "seq"):
        if event.get(key) is None:
            raise ValueError(f"alert event key {key!r} is missing; CAP identifier needs it")
    identifier = f"{event['device_id']}.{event['alert_id']}.{event['seq']}"
    _check_id("identifier", identifier)
    return identifier


def cap_reference(event: Mapping[str, Any], *, sender: str) -> str:
    """The ``sender,identifier,sent`` triple that later messages put in ``references``."""
    return f"{sender},{cap_identifier(event)},{cap_time(event.get('ts'))}"


def cap_time(ts: object) -> str:
    """CAP's date-time form: ``2026-01-01T10:00:00+00:00`` (no fraction, explicit offset)."""
    stamp = parse_ts(ts)
    if stamp is None:
        raise ValueError("alert event key 'ts' is missing; CAP needs a sent time")
    return stamp.replace(microsecond=0).isoformat()


def _info(
    root: ET.Element,
    event: Mapping[str, Any],
    lang: str,
    hazard: str,
    kind: str,
    msg_type: str,
    urgency: str,
    certainty: str,
) -> None:
    """One ``info`` block in ``lang``, children in the order the XSD's sequence demands."""
    cat = catalog_for(lang)
    texts = render_sections(event, lang)
    label = Level.parse(event.get("level")).label
    info = ET.SubElement(root, _q("info"))
    _sub(info, "language", lang)
    for category in _CATEGORIES[hazard]:
        _sub(info, "category", category)
    _sub(info, "event", cat.event_name[hazard])
    if msg_type == "Cancel" or label is None:
        _sub(info, "responseType", "AllClear")
    else:
        _sub(info, "responseType", _RESPONSE[hazard][label])
    _sub(info, "urgency", urgency)
    _sub(info, "severity", _severity(event, label, msg_type))
    _sub(info, "certainty", certainty)
    code = ET.SubElement(info, _q("eventCode"))
    _sub(code, "valueName", "edge-agent:hazard")
    _sub(code, "value", hazard)
    _sub(info, "senderName", f"edge-agent {event.get('site_id')}/{event.get('device_id')}")
    _sub(info, "headline", texts.title)
    _sub(info, "description", texts.description)
    _sub(info, "instruction", texts.instruction)
    for name, value in _parameters(event, label, kind):
        param = ET.SubElement(info, _q("parameter"))
        _sub(param, "valueName", name)
        _sub(param, "value", value)
    area = ET.SubElement(info, _q("area"))
    _sub(area, "areaDesc", place(event.get("location"), cat))
    circle = _circle(event.get("location"))
    if circle:
        _sub(area, "circle", circle)


def _parameters(event: Mapping[str, Any], label: str | None, kind: str) -> list[tuple[str, str]]:
    """Machine-readable facts for platforms: the reading, its unit, our level, our ids."""
    params: list[tuple[str, str]] = []
    value = event.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        params.append(("value", repr(float(value)) if math.isfinite(value) else str(value)))
    if event.get("unit"):
        params.append(("unit", str(event["unit"])))
    params.append(("level", label or "none"))
    params.append(("event", kind))
    for key in ("site_id", "device_id", "sensor_id", "alert_id", "seq"):
        if event.get(key) is not None:
            params.append((key, str(event[key])))
    return params


def _severity(event: Mapping[str, Any], label: str | None, msg_type: str) -> str:
    """Our level's CAP severity (the event's own ``severity`` if valid); Unknown on Cancel."""
    if msg_type == "Cancel" or label is None:
        return "Unknown"
    given = event.get("severity")
    if given in _SEVERITIES:
        return str(given)
    return Level.parse(label).severity or "Unknown"


def _default_urgency(event: Mapping[str, Any], msg_type: str) -> str:
    if msg_type == "Cancel":
        return "Past"
    return "Expected" if _reason_kind(event) in ("rate_of_rise", "anomaly") else "Immediate"


def _default_certainty(event: Mapping[str, Any], msg_type: str) -> str:
    if msg_type == "Cancel":
        return "Observed"
    reason = event.get("reason")
    if isinstance(reason, Mapping) and "by" in reason and "kind" not in reason:
        return "Observed" if reason.get("verdict") == "true_alarm" else "Likely"
    return "Likely" if _reason_kind(event) in ("rate_of_rise", "anomaly") else "Observed"


def _reason_kind(event: Mapping[str, Any]) -> str | None:
    reason = event.get("reason")
    return str(reason.get("kind")) if isinstance(reason, Mapping) else None


def _circle(location: object) -> str | None:
    """``lat,lon radius`` (WGS 84, km) when the location has valid coordinates."""
    if not isinstance(location, Mapping):
        return None
    lat, lon = location.get("lat"), location.get("lon")
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    if not numeric:
        return None
    assert isinstance(lat, int | float) and isinstance(lon, int | float)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"alert event key 'location': lat/lon {lat},{lon} out of range")
    radius = location.get("radius_km", DEFAULT_RADIUS_KM)
    if not isinstance(radius, int | float) or isinstance(radius, bool) or radius < 0:
        raise ValueError(f"alert event key 'location.radius_km': {radius!r} is not a distance")
    return f"{lat:.6f},{lon:.6f} {radius:g}"


def _check_id(what: str, value: str) -> None:
    if not value or _BAD_ID_CHARS.search(value):
        raise ValueError(
            f"CAP {what} {value!r} must be non-empty without spaces, commas, '<' or '&'"
        )


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, _q(tag))
    # Free text typed by people (notes, place names) may hold characters XML
    # cannot carry; dropping them beats emitting a message no parser accepts.
    child.text = _NOT_XML.sub("", text)
    return child


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
