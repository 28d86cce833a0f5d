"""Load and validate the agent's TOML config before any I/O.

Everything that can be checked without touching hardware or the network is
checked here: unknown keys (with a "did you mean"), types, ranges, ids,
plugin names, rule packs and their overrides, files that must exist, secret
file permissions. All problems are reported at once, each naming the file,
the line where we can find it, the key path and what to do.
"""

from __future__ import annotations

import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge_agent.config.model import (
    AgentConfig,
    CapConfig,
    Config,
    HomeAssistantConfig,
    MqttConfig,
    SensorConfig,
    SigningConfig,
    StoreConfig,
    TelemetryConfig,
)
from edge_agent.config.problems import Problems, join
from edge_agent.errors import ConfigError, PluginError
from edge_agent.options import Option, validate_table
from edge_agent.registry import DRIVER_GROUP, Registry
from edge_agent.rulepacks import RulePack, builtin_pack_names, load_pack, validate_detection

#: Alerts about the node itself (store, broker refusals) use this sensor id.
NODE_SENSOR_ID = "node"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LOCALES = ("zh-CN", "en")


def _id_check(value: Any) -> str | None:
    if ID_RE.match(value):
        return None
    return (
        f"{value!r} is not a valid id: use 1-64 letters, digits, '_' or '-' "
        "(it becomes an MQTT topic level)"
    )


def _topic_check(value: Any) -> str | None:
    if not value or any(c in value for c in "#+") or value.startswith("/") or value.endswith("/"):
        return f"{value!r} is not a valid topic prefix: no '#', '+', or leading/trailing '/'"
    return None


AGENT_KEYS: dict[str, Option] = {
    "site_id": Option(str, "the site (community, estate) this node belongs to", check=_id_check),
    "device_id": Option(str, "this node's id, unique within the site", check=_id_check),
    "state_dir": Option(
        str, "folder for the SQLite store (relative to this file)", default="/var/lib/edge-agent"
    ),
    "locale": Option(str, "language of alert text", default="zh-CN", choices=LOCALES),
    "name": Option(str, "a human name for this node", default=None),
}

MQTT_KEYS: dict[str, Option] = {
    "url": Option(
        str, "broker URL, mqtt://host:1883 or mqtts://host:8883", default="mqtt://localhost:1883"
    ),
    "topic_prefix": Option(str, "first topic level", default="edge", check=_topic_check),
    "protocol": Option(str, "MQTT protocol version", default="5", choices=("5", "3.1.1")),
    "client_id": Option(str, "MQTT client id (default: edge-agent-SITE-DEVICE)", default=None),
    "keepalive_s": Option(
        int, "keepalive: a silent link is detected within 1.5x this", default=30, min=5, max=3600
    ),
    "session_expiry_s": Option(
        int, "MQTT 5 session expiry (persistent session)", default=86400, min=0
    ),
    "max_inflight": Option(
        int,
        "QoS 1 messages awaiting PUBACK at once (a wider window drains a backlog faster; "
        "after a reconnect at most this many are sent twice)",
        default=100,
        min=1,
        max=1000,
    ),
    "backoff_initial_s": Option(float, "first reconnect delay", default=1.0, min=0.05),
    "backoff_max_s": Option(float, "reconnect delay cap", default=60.0, min=0.1),
    "username": Option(str, "MQTT username", default=None),
    "password_file": Option(
        str,
        "file holding the MQTT password (mode 0600/0640), or "
        "credential:NAME for a systemd credential",
        default=None,
    ),
    "ca_file": Option(str, "CA certificate to pin for TLS", default=None),
    "cert_file": Option(str, "client certificate for TLS", default=None),
    "key_file": Option(str, "client private key for TLS", default=None),
}

TELEMETRY_KEYS: dict[str, Option] = {
    "enabled": Option(bool, "publish periodic per-sensor summaries", default=True),
    "interval_s": Option(float, "summary interval in calm times", default=60.0, min=1),
    "alert_interval_s": Option(
        float, "summary interval while an alert is open on the sensor", default=10.0, min=1
    ),
}

STORE_KEYS: dict[str, Option] = {
    "outbox_max_bytes": Option(
        int,
        "outbox size bound; oldest telemetry is shed beyond it",
        default=64 * 1024 * 1024,
        min=64 * 1024,
    ),
    "min_free_bytes": Option(
        int, "free disk to keep; telemetry is shed below it", default=50 * 1024 * 1024, min=0
    ),
    "readings_retention_h": Option(float, "hours of raw readings kept", default=48.0, min=0),
    "reading_batch_s": Option(
        float, "raw readings are written in batches this often", default=5.0, min=0.1, max=300
    ),
    "max_db_bytes": Option(
        int,
        "upper bound of the database file (0: none); when reached, telemetry and the "
        "oldest raw readings are shed, alert events kept",
        default=0,
        min=0,
    ),
}

SIGNING_KEYS: dict[str, Option] = {
    "enabled": Option(
        bool,
        "sign every payload (HMAC-SHA256, per-device key) and accept only commands "
        "signed with the operator key",
        default=False,
    ),
    "key_file": Option(
        str,
        "this device's signing key: a file (mode 0600/0640) or credential:NAME",
        default="credential:signing.key",
    ),
    "operator_key_file": Option(
        str,
        "the operator's command key: a file (mode 0600/0640) or credential:NAME; "
        "without it a signing node accepts no commands",
        default=None,
    ),
}

CAP_KEYS: dict[str, Option] = {
    "enabled": Option(
        bool, "publish every alert event as CAP 1.2 XML on {base}/cap", default=False
    ),
    "langs": Option(
        list,
        "languages of the CAP info blocks",
        default=["zh-CN", "en"],
        check=lambda v: (
            None
            if v and all(x in LOCALES for x in v)
            else f"must be a non-empty list of {', '.join(LOCALES)}"
        ),
    ),
}

HA_KEYS: dict[str, Option] = {
    "enabled": Option(bool, "announce entities by Home Assistant MQTT discovery", default=False),
    "prefix": Option(
        str, "Home Assistant discovery prefix", default="homeassistant", check=_topic_check
    ),
}

SENSOR_KEYS: dict[str, Option] = {
    "id": Option(str, "sensor id, unique on this node", check=_id_check),
    "driver": Option(str, "driver name (see `edge-agent probe --help`)"),
    "rules": Option(str, "rule pack: a built-in name (smoke, water, crowd, ...) or a path"),
    "location": Option(dict, "where the sensor is: building, floor, zone, ...", default={}),
    "name": Option(str, "a human name for the sensor", default=None),
    "locale": Option(str, "alert text language for this sensor", default=None, choices=LOCALES),
    "enabled": Option(bool, "read this sensor", default=True),
    "overrides": Option(dict, "per-sensor changes to the rule pack", default={}),
    "detection": Option(dict, "per-sensor changes to the pack's [detection] table", default={}),
}

LOCATION_KEYS: dict[str, Option] = {
    "building": Option((str, int), "building name or number", default=None),
    "floor": Option((str, int), "floor, e.g. B1 or 3", default=None),
    "zone": Option(str, "zone or room, e.g. garage", default=None),
    "name": Option(str, "a name for the place", default=None),
    "description": Option(str, "how to find it", default=None),
    "lat": Option(float, "latitude (WGS84)", default=None, min=-90, max=90),
    "lon": Option(float, "longitude (WGS84)", default=None, min=-180, max=180),
}

OVERRIDE_TIMING_KEYS: dict[str, Option] = {
    "raise_after_s": Option(float, "dwell before raising", min=0),
    "clear_after_s": Option(float, "delay before de-escalating or clearing", min=0),
}

TOP_KEYS = (
    "agent",
    "mqtt",
    "telemetry",
    "store",
    "cap",
    "homeassistant",
    "signing",
    "sensors",
    "outputs",
)


def load_config(
    path: Path | str,
    *,
    registry: Registry | None = None,
    check_files: bool = True,
) -> Config:
    """Read and validate ``path``. Raises ConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read config: {exc}"]) from None
    return parse_config(text, source=path, registry=registry, check_files=check_files)


def parse_config(
    text: str,
    *,
    source: Path | None = None,
    registry: Registry | None = None,
    check_files: bool = True,
) -> Config:
    label = str(source) if source else "<config>"
    problems = Problems(label, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add("", f"TOML syntax error: {exc}")
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    return build_config(
        data, source=source, problems=problems, registry=registry, check_files=check_files
    )


def build_config(
    data: Mapping[str, Any],
    *,
    source: Path | None = None,
    problems: Problems | None = None,
    registry: Registry | None = None,
    check_files: bool = True,
) -> Config:
    """Validate an already-parsed config mapping (the demo builds one in code)."""
    if problems is None:
        problems = Problems(str(source) if source else "<config>")
    registry = registry or Registry()
    base_dir = source.resolve().parent if source else Path.cwd()

    for key in data:
        if key not in TOP_KEYS:
            problems.add(key, f"unknown section (accepted: {', '.join(TOP_KEYS)})")

    agent = _section(data, "agent", AGENT_KEYS, problems, required=True)
    mqtt = _section(data, "mqtt", MQTT_KEYS, problems)
    telemetry = _section(data, "telemetry", TELEMETRY_KEYS, problems)
    store = _section(data, "store", STORE_KEYS, problems)
    cap = _section(data, "cap", CAP_KEYS, problems)
    ha = _section(data, "homeassistant", HA_KEYS, problems)
    signing = _section(data, "signing", SIGNING_KEYS, problems)

    mqtt_cfg = _mqtt(mqtt, agent, base_dir, problems, check_files)
    sensors = _sensors(data.get("sensors", []), base_dir, registry, problems)
    outputs = _outputs(data.get("outputs", []), problems)
    signing_cfg = _signing(signing, mqtt, cap, base_dir, problems, check_files)
    problems.raise_if_any()

    state_dir = Path(agent["state_dir"]).expanduser()
    if not state_dir.is_absolute():
        state_dir = base_dir / state_dir
    return Config(
        source=source,
        agent=AgentConfig(
            site_id=agent["site_id"],
            device_id=agent["device_id"],
            state_dir=state_dir,
            locale=agent["locale"],
            name=agent["name"],
        ),
        mqtt=mqtt_cfg,  # type: ignore[arg-type]  # None only when problems were raised
        telemetry=TelemetryConfig(**telemetry),
        store=StoreConfig(**store),
        cap=CapConfig(enabled=cap["enabled"], langs=tuple(cap["langs"])),
        homeassistant=HomeAssistantConfig(**ha),
        sensors=tuple(sensors),
        outputs=tuple(outputs),
        signing=signing_cfg,
    )


def _section(
    data: Mapping[str, Any],
    name: str,
    spec: Mapping[str, Option],
    problems: Problems,
    *,
    required: bool = False,
) -> dict[str, Any]:
    raw = data.get(name)
    if raw is None:
        if required:
            problems.add(name, f"missing section [{name}]")
        raw = {}
    if not isinstance(raw, dict):
        problems.add(name, f"must be a table: write [{name}]")
        raw = {}
    values, issues = validate_table(raw, spec)
    for key, msg in issues:
        problems.add(join(name, key), msg)
    for key, opt in spec.items():
        values.setdefault(key, None if opt.required else opt.default)
    return values


_URL_RE = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>[^/?#]*)(?P<tail>.*)$", re.I)


def split_broker_url(url: str) -> tuple[str, str, int | None]:
    """``mqtt://host:1883`` -> ("mqtt", "host", 1883). Raises ValueError saying what is wrong.

    A hand-written parser (not urllib) keeps ``check-config`` quick to start,
    and refuses credentials in the URL: secrets never live in the main config.
    """
    found = _URL_RE.match(url.strip())
    if not found:
        raise ValueError("write it as mqtt://host:1883 or mqtts://host:8883")
    scheme, rest, tail = found["scheme"].lower(), found["rest"], found["tail"]
    if scheme not in ("mqtt", "mqtts"):
        raise ValueError("scheme must be mqtt:// or mqtts://")
    if "@" in rest:
        raise ValueError(
            "no user or password in the URL: use mqtt.username and "
            "mqtt.password_file (or a systemd credential)"
        )
    if tail not in ("", "/"):
        raise ValueError("no path, query or fragment after the host and port")
    port_text = None
    if rest.startswith("["):  # [IPv6]:port
        end = rest.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in an IPv6 address")
        host, after = rest[1:end], rest[end + 1 :]
        if after:
            if not after.startswith(":"):
                raise ValueError("expected ':port' after the IPv6 address")
            port_text = after[1:]
    else:
        host, _, port_text = rest.partition(":") if ":" in rest else (rest, "", None)
    if not host:
        raise ValueError("no host, e.g. mqtt://broker.example.org:1883")
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    return scheme, host, port


def _mqtt(
    m: dict[str, Any],
    agent: dict[str, Any],
    base_dir: Path,
    problems: Problems,
    check_files: bool,
) -> MqttConfig | None:
    url = m["url"] or "mqtt://localhost:1883"
    scheme, host, port = "", None, None
    try:
        scheme, host, port = split_broker_url(url)
    except ValueError as exc:
        problems.add("mqtt.url", f"{url!r}: {exc}")
    tls = scheme == "mqtts"
    files: dict[str, Path | None] = {}
    for key in ("password_file", "ca_file", "cert_file", "key_file"):
        value = m[key]
        if value is None or (key == "password_file" and str(value).startswith("credential:")):
            files[key] = Path(value) if value else None
            continue
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = base_dir / p
        files[key] = p
        if check_files:
            if not p.is_file():
                problems.add(join("mqtt", key), f"file {str(p)!r} does not exist")
            elif key in ("password_file", "key_file") and p.stat().st_mode & stat.S_IROTH:
                problems.add(
                    join("mqtt", key),
                    f"{str(p)!r} is readable by everyone: "
                    f"run `chmod 600 {p}` (or 640 with group edge-agent)",
                )
    if (m["cert_file"] is None) != (m["key_file"] is None):
        problems.add("mqtt.cert_file", "give both cert_file and key_file, or neither")
    if m["password_file"] and not m["username"]:
        problems.add("mqtt.username", "password_file is set but username is not")
    if (m["ca_file"] or m["cert_file"]) and not tls:
        problems.add("mqtt.url", "TLS files are set but the URL is mqtt://; use mqtts://")
    if m["backoff_max_s"] < m["backoff_initial_s"]:
        problems.add("mqtt.backoff_max_s", "must be >= backoff_initial_s")
    if host is None:
        return None
    site, device = agent.get("site_id") or "site", agent.get("device_id") or "device"
    return MqttConfig(
        url=url,
        host=host,
        port=port or (8883 if tls else 1883),
        tls=tls,
        topic_prefix=m["topic_prefix"],
        protocol=m["protocol"],
        client_id=m["client_id"] or f"edge-agent-{site}-{device}",
        keepalive_s=m["keepalive_s"],
        session_expiry_s=m["session_expiry_s"],
        max_inflight=m["max_inflight"],
        backoff_initial_s=m["backoff_initial_s"],
        backoff_max_s=m["backoff_max_s"],
        username=m["username"],
        password_file=files["password_file"],
        ca_file=files["ca_file"],
        cert_file=files["cert_file"],
        key_file=files["key_file"],
    )


def _signing(
    sg: dict[str, Any],
    mqtt: dict[str, Any],
    cap: dict[str, Any],
    base_dir: Path,
    problems: Problems,
    check_files: bool,
) -> SigningConfig:
    """Key files are checked like the MQTT password: present and not world-readable."""
    files: dict[str, str | None] = {}
    for key in ("key_file", "operator_key_file"):
        value = sg[key]
        if value is None or str(value).startswith("credential:"):
            files[key] = value
            continue
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = base_dir / p
        files[key] = str(p)
        if check_files and sg["enabled"]:
            if not p.is_file():
                problems.add(join("signing", key), f"file {str(p)!r} does not exist")
            elif p.stat().st_mode & stat.S_IROTH:
                problems.add(
                    join("signing", key),
                    f"{str(p)!r} is readable by everyone: "
                    f"run `chmod 600 {p}` (or 640 with group edge-agent)",
                )
    if sg["enabled"] and mqtt.get("protocol") == "3.1.1" and cap.get("enabled"):
        problems.add(
            "signing.enabled",
            'CAP XML cannot carry a signature under MQTT 3.1.1: use protocol = "5" '
            "or disable [cap]",
        )
    return SigningConfig(
        enabled=bool(sg["enabled"]),
        key_file=files["key_file"] or "credential:signing.key",
        operator_key_file=files["operator_key_file"],
    )


def _sensors(
    raw: Any, base_dir: Path, registry: Registry, problems: Problems
) -> list[SensorConfig]:
    if not isinstance(raw, list):
        problems.add("sensors", "write each sensor as a [[sensors]] table")
        return []
    out: list[SensorConfig] = []
    seen: set[str] = set()
    packs: dict[str, RulePack] = {}
    for i, table in enumerate(raw):
        path = f"sensors[{i}]"
        if not isinstance(table, dict):
            problems.add(path, "must be a table")
            continue
        common = {k: v for k, v in table.items() if k in SENSOR_KEYS}
        values, issues = validate_table(common, SENSOR_KEYS)
        for key, msg in issues:
            problems.add(join(path, key), msg)
        sid = values.get("id")
        if isinstance(sid, str):
            if sid == NODE_SENSOR_ID:
                problems.add(
                    join(path, "id"),
                    f"{sid!r} is reserved for alerts about the node itself; choose another id",
                )
            if sid in seen:
                problems.add(join(path, "id"), f"duplicate sensor id {sid!r}")
            seen.add(sid)

        driver_options: dict[str, Any] = {}
        extra = {k: v for k, v in table.items() if k not in SENSOR_KEYS}
        driver_name = values.get("driver")
        if isinstance(driver_name, str):
            if not registry.has(DRIVER_GROUP, driver_name):
                problems.add(
                    join(path, "driver"),
                    f"no driver named {driver_name!r} "
                    f"(installed: {', '.join(registry.driver_names())})",
                )
            else:
                try:
                    driver_cls = registry.driver(driver_name)
                except PluginError as exc:
                    problems.add(join(path, "driver"), str(exc))
                else:
                    driver_options, d_issues = validate_table(extra, driver_cls.options)
                    for key, msg in d_issues:
                        if msg.startswith("unknown key"):
                            msg = (
                                f"unknown key for a {driver_name} sensor"
                                f"{_did_you_mean(key, {**SENSOR_KEYS, **driver_cls.options})}"
                                f" (common keys: {', '.join(SENSOR_KEYS)}; {driver_name} keys: "
                                f"{', '.join(driver_cls.options) or 'none'})"
                            )
                        problems.add(join(path, key), msg)

        if isinstance(values.get("location"), dict):
            _, loc_issues = validate_table(values["location"], LOCATION_KEYS)
            for key, msg in loc_issues:
                problems.add(join(join(path, "location"), key), msg)

        pack: RulePack | None = None
        ref = values.get("rules")
        if isinstance(ref, str):
            pack = packs.get(ref)
            if pack is None:
                try:
                    pack = load_pack(ref, base_dir, registry)
                except FileNotFoundError:
                    problems.add(
                        join(path, "rules"),
                        f"no rule pack {ref!r}: use a built-in "
                        f"pack ({', '.join(builtin_pack_names())}) or a path to a .toml "
                        f"file (relative paths are relative to this config file)",
                    )
                except ConfigError as exc:
                    for line in exc.problems:
                        problems.lines.append(line + f" (rule pack of {path})")
                else:
                    packs[ref] = pack
        overrides = values.get("overrides") if isinstance(values.get("overrides"), dict) else {}
        detection = values.get("detection") if isinstance(values.get("detection"), dict) else {}
        if pack is not None:
            _check_overrides(overrides or {}, pack, registry, join(path, "overrides"), problems)
        validate_detection(detection or {}, join(path, "detection"), problems)
        if problems or pack is None or not isinstance(sid, str):
            continue
        loc = {
            k: (str(v) if isinstance(v, int) and k in ("building", "floor") else v)
            for k, v in (values["location"] or {}).items()
        }
        out.append(
            SensorConfig(
                id=sid,
                driver=str(driver_name),
                pack=pack,
                location=loc,
                driver_options=driver_options,
                overrides=dict(overrides or {}),
                detection=dict(detection or {}),
                name=values["name"],
                locale=values["locale"],
                enabled=values["enabled"],
            )
        )
    return out


def _did_you_mean(key: str, spec: Mapping[str, Any]) -> str:
    import difflib

    found = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


def _check_overrides(
    overrides: Mapping[str, Any], pack: RulePack, registry: Registry, path: str, problems: Problems
) -> None:
    by_id = {r.id: r for r in pack.rules}
    for key, value in overrides.items():
        kpath = join(path, key)
        if key in OVERRIDE_TIMING_KEYS:
            msg = OVERRIDE_TIMING_KEYS[key].validate(value)
            if msg:
                problems.add(kpath, msg)
            continue
        spec = by_id.get(key)
        if spec is None:
            problems.add(
                kpath,
                f"not a rule of pack {pack.name!r}: accepted: "
                f"{', '.join([*OVERRIDE_TIMING_KEYS, *by_id])}{_did_you_mean(key, by_id)}",
            )
            continue
        if not isinstance(value, dict):
            problems.add(
                kpath, f"must be a table of {spec.kind} parameters, e.g. {key} = {{ red = 1.0 }}"
            )
            continue
        kind = registry.rule_kind(spec.kind)
        for pkey, pval in value.items():
            opt = kind.params.get(pkey)
            if opt is None:
                problems.add(
                    join(kpath, pkey),
                    f"unknown {spec.kind} parameter"
                    f"{_did_you_mean(pkey, kind.params)} (accepted: {', '.join(kind.params)})",
                )
                continue
            msg = opt.validate(pval)
            if msg:
                problems.add(join(kpath, pkey), msg)
        if not problems:
            for pkey, msg in kind.check_params({**spec.params, **value}):
                problems.add(join(kpath, pkey), msg)


def _outputs(raw: Any, problems: Problems) -> list[dict[str, Any]]:
    if not raw:
        return []
    if not isinstance(raw, list):
        problems.add("outputs", "write each output as an [[outputs]] table")
        return []
    try:
        from edge_agent.outputs import OUTPUT_OPTIONS
    except ImportError:
        problems.add("outputs", "local alarm outputs are not available in this build")
        return []
    out = []
    for i, table in enumerate(raw):
        if not isinstance(table, dict):
            problems.add(f"outputs[{i}]", "must be a table")
            continue
        values, issues = validate_table(table, OUTPUT_OPTIONS)
        for key, msg in issues:
            problems.add(join(f"outputs[{i}]", key), msg)
        out.append(values)
    return out
