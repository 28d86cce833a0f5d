"""Keep the payload field tables of docs/mqtt.md in step with ``edge_agent/schemas/``.

The JSON Schemas are the contract; the doc is for people. Each table sits
between two markers::

    <!-- BEGIN fields alert-1 ... -->
    | field | type | required | description |
    ...
    <!-- END fields alert-1 -->

and is written from the schema by this module, so it can never drift:
``python -m edge_agent.cli._mqtt_doc`` rewrites the tables in place,
``--check`` exits 1 (saying which) when one is stale; tests/docs runs the
same comparison field by field. Not a user command (hence the leading
underscore): a maintainer's tool that ships with the package only because
its schemas do.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
DEFAULT_DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"
#: Schema file stems with a table in the doc, in doc order.
PAYLOADS: tuple[str, ...] = ("alert-1", "status-1", "telemetry-1", "cmd-result-1")
HEADER = ("field", "type", "required", "description")

_BEGIN = (
    "<!-- BEGIN fields {name} (generated from edge_agent/schemas/{name}.json by "
    "`python -m edge_agent.cli._mqtt_doc`: edit the schema, not this table) -->"
)
_END = "<!-- END fields {name} -->"
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True, slots=True)
class Field:
    """One row of a payload table."""

    name: str
    type: str
    required: bool
    description: str


def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.json").read_text("utf-8"))
    return data


def type_text(prop: Mapping[str, Any]) -> str:
    """A schema property's type as people read it: ``integer ≥ 1``, ``"a" | "b" | null``."""
    if "const" in prop:
        return f"`{json.dumps(prop['const'], ensure_ascii=False)}`"
    if "enum" in prop:
        return " | ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in prop["enum"])
    types = prop.get("type", "any")
    names = [types] if isinstance(types, str) else list(types)
    text = " | ".join(names)
    if "array" in names and isinstance(prop.get("items"), Mapping):
        text = text.replace("array", f"array of {type_text(prop['items'])}")
    extras = []
    if "format" in prop:
        extras.append(str(prop["format"]))
    if "minimum" in prop:
        extras.append(f"≥ {prop['minimum']}")
    if prop.get("minLength"):
        extras.append(f"length ≥ {prop['minLength']}")
    if "pattern" in prop:
        extras.append(f"pattern `{prop['pattern']}`")
    return f"{text} ({', '.join(extras)})" if extras else text


def fields(schema: Mapping[str, Any], prefix: str = "") -> list[Field]:
    """Every property, nested object properties as ``parent.child`` rows after the parent."""
    required = set(schema.get("required", ()))
    out: list[Field] = []
    for name, prop in schema.get("properties", {}).items():
        out.append(
            Field(
                prefix + name,
                type_text(prop),
                name in required,
                " ".join(str(prop.get("description", "")).split()),
            )
        )
        if isinstance(prop.get("properties"), Mapping):
            out += fields(prop, prefix=f"{prefix}{name}.")
    return out


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_table(rows: list[Field]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for f in rows:
        cells = (f"`{f.name}`", f.type, "yes" if f.required else "no", f.description)
        lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    return "\n".join(lines)


def block(name: str) -> str:
    table = render_table(fields(load_schema(name)))
    return f"{_BEGIN.format(name=name)}\n{table}\n{_END.format(name=name)}"


def _span(doc: str, name: str) -> tuple[int, int] | None:
    begin = doc.find(f"<!-- BEGIN fields {name} ")
    end_mark = _END.format(name=name)
    end = doc.find(end_mark, begin)
    if begin < 0 or end < 0:
        return None
    return begin, end + len(end_mark)


def update(doc: str) -> str:
    """The doc with every payload table regenerated; ValueError if a marker pair is missing."""
    for name in PAYLOADS:
        span = _span(doc, name)
        if span is None:
            raise ValueError(
                f"docs/mqtt.md has no '<!-- BEGIN fields {name} ... -->' ... "
                f"'{_END.format(name=name)}' block: add the two markers where "
                "the table belongs"
            )
        doc = doc[: span[0]] + block(name) + doc[span[1] :]
    return doc


def parse_table(doc: str, name: str) -> list[Field]:
    """Read back the table the doc has for ``name`` (what the tests compare to the schema)."""
    span = _span(doc, name)
    if span is None:
        raise ValueError(f"no fields table for {name}")
    rows = [ln.strip() for ln in doc[span[0] : span[1]].splitlines() if ln.strip().startswith("|")]
    out = []
    for line in rows[2:]:
        cells = [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(line.strip("|"))]
        if len(cells) != len(HEADER):
            raise ValueError(
                f"{name}: table row has {len(cells)} cells, expected {len(HEADER)}: {line}"
            )
        out.append(Field(cells[0].strip("`"), cells[1], cells[2] == "yes", cells[3]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edge_agent.cli._mqtt_doc",
        description="Regenerate the payload field tables of docs/mqtt.md from the JSON Schemas.",
    )
    parser.add_argument("doc", nargs="?", default=str(DEFAULT_DOC), help="the doc to update")
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a table differs from its schema",
    )
    args = parser.parse_args(argv)
    path = Path(args.doc)
    old = path.read_text("utf-8")
    try:
        new = update(old)
    except ValueError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if new == old:
        print(f"{path}: tables match the schemas")
        return 0
    if args.check:
        stale = [n for n in PAYLOADS if parse_table(old, n) != fields(load_schema(n))]
        print(
            f"{path}: stale tables: {', '.join(stale) or 'formatting only'}; run "
            "python -m edge_agent.cli._mqtt_doc",
            file=sys.stderr,
        )
        return 1
    path.write_text(new, "utf-8")
    print(f"{path}: tables regenerated from {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
