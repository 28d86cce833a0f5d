"""Rule packs: TOML files that bundle a hazard's rules and their defaults.

A pack names its hazard, the quantity and unit its thresholds are in, the
alert state machine's dwell and clear delays, an optional ``[detection]``
table, and one ``[[kind]]`` array per rule kind (the table name is the rule
kind's registered name). Built-in packs ship inside the package
(``edge_agent.rules``) so an installed agent finds them from any directory;
a pack can also be given as a path.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_agent.config.problems import Problems, join
from edge_agent.model import Hazard
from edge_agent.options import Option, validate_table
from edge_agent.registry import RULE_KIND_GROUP, Registry

if TYPE_CHECKING:
    from edge_agent.rules.base import PackInfo, Rule

#: The id of the sensor-fault rule added to every pack that has none of its own.
DEFAULT_FAULT_RULE = "sensor-fault"

PACK_KEYS: dict[str, Option] = {
    "name": Option(str, "the pack's name"),
    "hazard": Option(str, "what the pack's alerts are about", choices=[h.value for h in Hazard]),
    "quantity": Option(str, "the quantity its rules apply to, e.g. pm2_5, water_level, occupancy"),
    "unit": Option(str, "the unit of that quantity, e.g. µg/m³, m, persons"),
    "description": Option(str, "what the pack is for", default=""),
    "raise_after_s": Option(float, "seconds a level must persist before an alert is raised", min=0),
    "clear_after_s": Option(
        float, "seconds below the alert's level before it de-escalates or clears", min=0
    ),
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    kind: str
    id: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RulePack:
    """A validated pack. ``rules`` keep their kind and validated params."""

    name: str
    hazard: Hazard
    quantity: str
    unit: str
    description: str
    raise_after_s: float
    clear_after_s: float
    rules: tuple[RuleSpec, ...]
    detection: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def info(self, overrides: Mapping[str, Any] | None = None) -> PackInfo:
        from edge_agent.rules.base import PackInfo

        o = overrides or {}
        return PackInfo(
            name=self.name,
            hazard=self.hazard,
            quantity=self.quantity,
            unit=self.unit,
            raise_after_s=float(o.get("raise_after_s", self.raise_after_s)),
            clear_after_s=float(o.get("clear_after_s", self.clear_after_s)),
        )

    def build_rules(
        self, registry: Registry, overrides: Mapping[str, Any] | None = None
    ) -> list[Rule]:
        """Instantiate this pack's rules for one sensor, with that sensor's overrides applied."""
        o = overrides or {}
        info = self.info(o)
        out: list[Rule] = []
        for spec in self.rules:
            params = {**spec.params, **o.get(spec.id, {})}
            out.append(registry.rule_kind(spec.kind)(spec.id, params, info))
        return out


def _builtin_dir() -> Any:
    """The folder of the built-in packs.

    A plain path when the package is installed as files (always, for a
    daemon); ``importlib.resources`` (which costs zipfile and tempfile at
    import, a few ms of every CLI start) only otherwise.
    """
    import edge_agent.rules as pkg

    if pkg.__file__ is not None:
        return Path(pkg.__file__).parent
    from importlib import resources

    return resources.files("edge_agent.rules")


def builtin_pack_names() -> list[str]:
    root = _builtin_dir()
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def resolve_pack(ref: str, base_dir: Path | None) -> tuple[str, str] | None:
    """Find a pack's text: a built-in name, or a path relative to the config's folder.

    Returns ``(source_label, text)`` or None when nothing matches.
    """
    looks_like_path = "/" in ref or ref.endswith(".toml")
    if not looks_like_path:
        res = _builtin_dir().joinpath(f"{ref}.toml")
        if res.is_file():
            return f"rules/{ref}.toml", res.read_text(encoding="utf-8")
        return None
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_file():
        return str(path), path.read_text(encoding="utf-8")
    return None


def load_pack(ref: str, base_dir: Path | None, registry: Registry) -> RulePack:
    """Load and validate a pack; raises ConfigError naming the pack file and key."""
    found = resolve_pack(ref, base_dir)
    if found is None:
        raise FileNotFoundError(ref)
    label, text = found
    return parse_pack(text, label, registry)


def parse_pack(text: str, label: str, registry: Registry) -> RulePack:
    problems = Problems(label, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add("", f"TOML syntax error: {exc}")
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc

    header = {k: v for k, v in data.items() if k in PACK_KEYS}
    values, issues = validate_table(header, PACK_KEYS)
    for key, msg in issues:
        problems.add(key, msg)

    detection: dict[str, Any] = {}
    specs: list[RuleSpec] = []
    seen_ids: set[str] = set()
    for key, value in data.items():
        if key in PACK_KEYS:
            continue
        if key == "detection":
            detection = validate_detection(value, "detection", problems)
            continue
        if not registry.has(RULE_KIND_GROUP, key):
            known = ", ".join(registry.rule_kind_names())
            problems.add(
                key,
                f"unknown key or rule kind (pack keys: {', '.join(PACK_KEYS)}, detection; "
                f"rule kinds: {known})",
            )
            continue
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            problems.add(key, f"write rules of kind {key!r} as [[{key}]] tables")
            continue
        rule_cls = registry.rule_kind(key)
        for i, table in enumerate(value):
            path = f"{key}[{i}]"
            rule_id = table.get("id")
            if not isinstance(rule_id, str) or not rule_id:
                problems.add(join(path, "id"), "every rule needs an id (a short string)")
                continue
            if rule_id in seen_ids:
                problems.add(join(path, "id"), f"duplicate rule id {rule_id!r} in this pack")
            seen_ids.add(rule_id)
            params_in = {k: v for k, v in table.items() if k != "id"}
            params, rule_issues = validate_table(params_in, rule_cls.params)
            for pkey, msg in rule_issues:
                problems.add(join(path, pkey), msg)
            if not rule_issues:
                for pkey, msg in rule_cls.check_params(params):
                    problems.add(join(path, pkey), msg)
            specs.append(RuleSpec(kind=key, id=rule_id, params=params))
    if not specs and not problems:
        problems.add("", "a rule pack needs at least one rule table, e.g. [[threshold]]")
    problems.raise_if_any()
    if registry.has(RULE_KIND_GROUP, "fault") and not any(s.kind == "fault" for s in specs):
        # Every sensor is watched for silence, whatever its pack: in a warning
        # system a sensor that stops talking must never read as "all clear".
        # Tune it per sensor with overrides = { sensor-fault = { stale_after_s = 120 } }.
        defaults, _ = validate_table({}, registry.rule_kind("fault").params)
        specs.append(RuleSpec(kind="fault", id=DEFAULT_FAULT_RULE, params=defaults))
    return RulePack(
        name=values["name"],
        hazard=Hazard(values["hazard"]),
        quantity=values["quantity"],
        unit=values["unit"],
        description=values["description"],
        raise_after_s=float(values["raise_after_s"]),
        clear_after_s=float(values["clear_after_s"]),
        rules=tuple(specs),
        detection=detection,
        source=label,
    )


def detection_options() -> Mapping[str, Option]:
    """The detection core's accepted keys (empty until the core is installed)."""
    try:
        from edge_agent.detection import DETECTION_OPTIONS
    except ImportError:
        return {}
    return DETECTION_OPTIONS


def validate_detection(value: Any, path: str, problems: Problems) -> dict[str, Any]:
    """Check a ``[detection]`` table (a pack's, or a sensor's override); keep the valid keys."""
    if not isinstance(value, dict):
        problems.add(path, "must be a table, e.g. [detection]")
        return {}
    spec = detection_options()
    # Only keys given are kept: defaults are applied when the detector is built,
    # so a sensor override can be merged over the pack's table.
    out: dict[str, Any] = {}
    for key, item in value.items():
        opt = spec.get(key)
        if opt is None:
            problems.add(join(path, key), f"unknown detection key (accepted: {', '.join(spec)})")
            continue
        msg = opt.validate(item)
        if msg:
            problems.add(join(path, key), msg)
        else:
            out[key] = item
    return out
