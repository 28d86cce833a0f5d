"""Home Assistant MQTT discovery: make the node's sensors and alerts appear in HA by themselves.

Uses HA's *device-based* discovery (one retained JSON payload on
``<prefix>/device/<object_id>/config`` with shared ``dev``/``o`` mappings and
the entities under ``cmps``, each with a platform ``p`` and a ``unique_id``).

Layout, chosen so that a sensor leaving the config can be removed on its own
with one empty retained payload (HA's documented removal for a discovery
topic, which also drops the HA device when nothing else refers to it):

- the agent is one HA device (object id ``<site>_<device>``): a connectivity
  ``binary_sensor`` from ``{base}/status`` and a "last alert" ``sensor`` from
  ``{base}/alerts``;
- each physical sensor is its own HA device (``<site>_<device>_<sensor>``,
  ``via_device`` the agent, ``suggested_area`` from its location) with two
  entities: its value (``last`` of ``{base}/telemetry/{sensor_id}``) and its
  current alert level (``{base}/alerts/active/{sensor_id}``; ``none`` when
  that retained topic is emptied on clear).

Every payload carries the same ``availability`` (``{base}/status``, state
``online``/``offline`` read with a value template). HA applies a payload's
shared options to all of its components, so every entity greys out when the
node's Last Will fires.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edge_agent.model import Hazard
from edge_agent.text import catalog_for
from edge_agent.text.catalog import frozen
from edge_agent.text.fmt import canonical_unit, place

#: States of the alert-level entity (HA ``enum`` sensor options), lowest first.
LEVEL_OPTIONS: tuple[str, ...] = ("none", "blue", "yellow", "orange", "red")

#: Bounds of the random delay before re-sending discovery after HA's birth message;
#: HA's docs ask for "some random delay" so a restart of HA is not met by every node at once.
REDISCOVERY_DELAY_S: tuple[float, float] = (0.5, 5.0)

_OBJECT_ID_BAD = re.compile(r"[^a-zA-Z0-9_-]")

#: HA device classes by quantity name, with the canonical units HA accepts for each
#: (HA rejects a device_class whose unit it does not know, so only these pairs get one).
_DEVICE_CLASSES: Mapping[str, tuple[str, frozenset[str]]] = frozen(
    {
        "pm2_5": ("pm25", frozenset({"ug/m3"})),
        "pm25": ("pm25", frozenset({"ug/m3"})),
        "pm10": ("pm10", frozenset({"ug/m3"})),
        "pm1_0": ("pm1", frozenset({"ug/m3"})),
        "pm1": ("pm1", frozenset({"ug/m3"})),
        "water_level": ("distance", frozenset({"m", "cm", "mm"})),
        "distance": ("distance", frozenset({"m", "cm", "mm"})),
        "temperature": ("temperature", frozenset({"degC"})),
        "humidity": ("humidity", frozenset({"%"})),
    }
)
#: How HA spells our canonical units (HA compares unit strings exactly).
_HA_UNITS: Mapping[str, str] = frozen(
    {"ug/m3": "µg/m³", "degC": "°C", "persons": "people", "persons/m2": "people/m²"}
)
_QUANTITY_NAMES: Mapping[str, Mapping[str, str]] = frozen(
    {
        "en": frozen(
            {
                "pm2_5": "PM2.5",
                "pm10": "PM10",
                "pm1_0": "PM1.0",
                "water_level": "Water level",
                "occupancy": "Occupancy",
                "count": "Count",
            }
        ),
        "zh-CN": frozen(
            {
                "pm2_5": "PM2.5",
                "pm10": "PM10",
                "pm1_0": "PM1.0",
                "water_level": "水位",
                "occupancy": "人数",
                "count": "计数",
            }
        ),
    }
)
_ENTITY_NAMES: Mapping[str, Mapping[str, str]] = frozen(
    {
        "en": frozen(
            {"level": "{hazard} alert level", "online": "Online", "last_alert": "Last alert"}
        ),
        "zh-CN": frozen({"level": "{hazard}预警等级", "online": "在线", "last_alert": "最新预警"}),
    }
)
_LEVEL_ICONS: Mapping[str, str] = frozen(
    {
        "smoke": "mdi:smoke-detector-variant-alert",
        "water": "mdi:waves-arrow-up",
        "crowd": "mdi:account-group",
        "air_quality": "mdi:air-filter",
        "generic": "mdi:alert-circle-outline",
        "device": "mdi:alert-circle-outline",
    }
)

#: Renders the level of the retained active-alert event; the payload is empty once it clears.
#: ``value`` is tested first so ``value_json`` (undefined for an empty payload) is never read.
LEVEL_TEMPLATE = "{{ value_json.level if value and value_json.level else 'none' }}"
LEVEL_ATTRIBUTES_TEMPLATE = (
    "{{ {'hazard': value_json.hazard, 'event': value_json.event, 'alert_id': value_json.alert_id,"
    " 'message': value_json.message, 'ts': value_json.ts} | tojson if value else '{}' }}"
)
VALUE_TEMPLATE = "{{ value_json.last }}"
VALUE_ATTRIBUTES_TEMPLATE = (
    "{{ {'min': value_json.min, 'mean': value_json.mean, 'max': value_json.max,"
    " 'n': value_json.n, 'quality': value_json.quality, 'window_s': value_json.window_s,"
    " 'clock_synced': value_json.clock_synced} | tojson }}"
)
STATUS_TEMPLATE = "{{ value_json.state }}"
LAST_ALERT_TEMPLATE = "{{ (value_json.message or '')[:250] }}"
LAST_ALERT_ATTRIBUTES_TEMPLATE = (
    "{{ {'sensor_id': value_json.sensor_id, 'hazard': value_json.hazard,"
    " 'event': value_json.event, 'level': value_json.level, 'seq': value_json.seq,"
    " 'ts': value_json.ts} | tojson }}"
)


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """What HA needs to know about one configured sensor.

    ``name`` is what people call it ("Garage water level"); ``location`` is
    the config's location table (building, floor, zone, ...).
    """

    sensor_id: str
    quantity: str
    unit: str | None
    hazard: str
    name: str | None = None
    location: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sensor_id:
            raise ValueError("SensorInfo: sensor_id is empty")
        if self.hazard not in {h.value for h in Hazard}:
            raise ValueError(
                f"SensorInfo {self.sensor_id!r}: hazard {self.hazard!r} is not one of "
                + ", ".join(h.value for h in Hazard)
            )


def discovery_messages(
    *,
    prefix: str,
    base_topic: str,
    site_id: str,
    device_id: str,
    version: str,
    sensors: Sequence[SensorInfo],
    lang: str = "en",
) -> list[tuple[str, bytes]]:
    """Retained ``(topic, payload)`` pairs announcing the agent and each sensor to HA.

    Publish them (QoS 1, retained) on connect and again, after
    :func:`rediscovery_delay`, whenever HA sends ``online`` on
    :func:`ha_status_topic`. ``lang`` picks entity names (zh-CN or en).
    """
    _check_topic_part("prefix", prefix)
    _check_topic_part("base_topic", base_topic)
    lang = catalog_for(lang).lang
    agent_oid = _object_id(site_id, device_id)
    agent_ids = [f"edge-agent_{agent_oid}"]
    availability = [
        {
            "topic": f"{base_topic}/status",
            "value_template": STATUS_TEMPLATE,
            "payload_available": "online",
            "payload_not_available": "offline",
        }
    ]
    origin = {"name": "edge-agent", "sw": version}
    names = _ENTITY_NAMES[lang]

    agent_payload: dict[str, Any] = {
        "dev": {
            "ids": agent_ids,
            "name": f"edge-agent {site_id}/{device_id}",
            "mf": "edge-agent",
            "mdl": "Hazard early-warning node",
            "sw": version,
        },
        "o": origin,
        "availability": availability,
        "qos": 1,
        "cmps": {
            f"{agent_oid}_online": {
                "p": "binary_sensor",
                "unique_id": f"{agent_oid}_online",
                "name": names["online"],
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "state_topic": f"{base_topic}/status",
                "value_template": STATUS_TEMPLATE,
                "payload_on": "online",
                "payload_off": "offline",
            },
            f"{agent_oid}_last_alert": {
                "p": "sensor",
                "unique_id": f"{agent_oid}_last_alert",
                "name": names["last_alert"],
                "icon": "mdi:bullhorn",
                "state_topic": f"{base_topic}/alerts",
                "value_template": LAST_ALERT_TEMPLATE,
                "json_attributes_topic": f"{base_topic}/alerts",
                "json_attributes_template": LAST_ALERT_ATTRIBUTES_TEMPLATE,
            },
        },
    }
    messages = [(_config_topic(prefix, agent_oid), _encode(agent_payload))]

    seen: dict[str, str] = {}
    for sensor in sensors:
        oid = _object_id(site_id, device_id, sensor.sensor_id)
        if oid in seen:
            raise ValueError(
                f"sensors {seen[oid]!r} and {sensor.sensor_id!r} map to the same Home "
                f"Assistant object id {oid!r}; rename one"
            )
        seen[oid] = sensor.sensor_id
        payload = _sensor_payload(
            sensor, oid, base_topic, agent_ids, availability, origin, version, lang
        )
        messages.append((_config_topic(prefix, oid), _encode(payload)))
    return messages


def removal_messages(
    prefix: str, device_id: str, sensor_ids: Iterable[str], *, site_id: str
) -> list[tuple[str, bytes]]:
    """Empty retained payloads that make HA forget sensors no longer in the config."""
    _check_topic_part("prefix", prefix)
    return [
        (_config_topic(prefix, _object_id(site_id, device_id, sensor_id)), b"")
        for sensor_id in sensor_ids
    ]


def ha_status_topic(prefix: str) -> str:
    """Where HA publishes its birth (``online``) and will (``offline``) messages."""
    return f"{prefix}/status"


def is_ha_online(payload: bytes) -> bool:
    """True for HA's birth message: the cue to re-send discovery after a random delay."""
    return payload.strip() == b"online"


def rediscovery_delay(rng: random.Random) -> float:
    """A random delay in :data:`REDISCOVERY_DELAY_S` seconds before re-sending discovery."""
    low, high = REDISCOVERY_DELAY_S
    return rng.uniform(low, high)


def _sensor_payload(
    sensor: SensorInfo,
    oid: str,
    base_topic: str,
    agent_ids: list[str],
    availability: list[dict[str, str]],
    origin: dict[str, str],
    version: str,
    lang: str,
) -> dict[str, Any]:
    """One HA device for one sensor: its reading and its current alert level."""
    cat = catalog_for(lang)
    telemetry = f"{base_topic}/telemetry/{sensor.sensor_id}"
    active = f"{base_topic}/alerts/active/{sensor.sensor_id}"
    area = place(sensor.location, cat) if sensor.location else None
    quantity_name = _QUANTITY_NAMES[lang].get(
        sensor.quantity, sensor.quantity.replace("_", " ").capitalize()
    )

    value: dict[str, Any] = {
        "p": "sensor",
        "unique_id": f"{oid}_value",
        "name": quantity_name,
        "state_topic": telemetry,
        "value_template": VALUE_TEMPLATE,
        "state_class": "measurement",
        "json_attributes_topic": telemetry,
        "json_attributes_template": VALUE_ATTRIBUTES_TEMPLATE,
    }
    unit = canonical_unit(sensor.unit)
    if unit is not None:
        value["unit_of_measurement"] = _HA_UNITS.get(unit, str(sensor.unit).strip())
    known = _DEVICE_CLASSES.get(sensor.quantity)
    if known is not None and unit in known[1]:
        value["device_class"] = known[0]

    level: dict[str, Any] = {
        "p": "sensor",
        "unique_id": f"{oid}_alert_level",
        "name": _ENTITY_NAMES[lang]["level"].format(hazard=cat.event_name[sensor.hazard]),
        "icon": _LEVEL_ICONS[sensor.hazard],
        "device_class": "enum",
        "options": list(LEVEL_OPTIONS),
        "state_topic": active,
        "value_template": LEVEL_TEMPLATE,
        "json_attributes_topic": active,
        "json_attributes_template": LEVEL_ATTRIBUTES_TEMPLATE,
    }

    dev: dict[str, Any] = {
        "ids": [f"edge-agent_{oid}"],
        "name": sensor.name or sensor.sensor_id,
        "mf": "edge-agent",
        "mdl": quantity_name,
        "sw": version,
        "via_device": agent_ids[0],
    }
    if area:
        dev["suggested_area"] = area
    return {
        "dev": dev,
        "o": origin,
        "availability": availability,
        "qos": 1,
        "cmps": {f"{oid}_value": value, f"{oid}_alert_level": level},
    }


def _object_id(*parts: str) -> str:
    """HA object ids allow only ``[a-zA-Z0-9_-]``; anything else becomes ``_``."""
    for part in parts:
        if not part:
            raise ValueError(
                "Home Assistant object id: site_id, device_id and sensor_id must be non-empty"
            )
    return "_".join(_OBJECT_ID_BAD.sub("_", part) for part in parts)


def _config_topic(prefix: str, object_id: str) -> str:
    return f"{prefix}/device/{object_id}/config"


def _check_topic_part(what: str, topic: str) -> None:
    if not topic or any(c in topic for c in "#+\0") or topic.endswith("/"):
        raise ValueError(
            f"Home Assistant discovery: {what} {topic!r} must be a non-empty MQTT topic "
            "without wildcards or a trailing '/'"
        )


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
