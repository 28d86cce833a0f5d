"""Collect config problems and say where each one is.

An installer fixing a config on a Pi over SSH needs the file, the line, the
key path and the fix in one line, and needs *all* the problems at once rather
than one per run. tomllib gives no positions for keys, so :func:`find_line`
finds the line by walking the table headers, which is right for every config
written by hand in the usual style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from edge_agent.errors import ConfigError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=")


@dataclass
class Problems:
    """Problems found in one file. ``raise_if_any`` turns them into a ConfigError."""

    file: Path | str
    text: str | None = None
    lines: list[str] = field(default_factory=list)

    def add(self, keypath: str, message: str) -> None:
        where = str(self.file)
        line = find_line(self.text, keypath) if self.text else None
        if line is not None:
            where += f":{line}"
        self.lines.append(f"{where}: {keypath}: {message}" if keypath else f"{where}: {message}")

    def extend(self, other: Problems) -> None:
        self.lines.extend(other.lines)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def find_line(text: str | None, keypath: str) -> int | None:
    """Best-effort 1-based line of ``keypath`` (``sensors[1].location.zone``) in TOML ``text``.

    Falls back to the nearest enclosing key or table that can be found.
    """
    if not text or not keypath:
        return None
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", keypath)
    # Try the full path, then ever shorter prefixes.
    for cut in range(len(parts), 0, -1):
        line = _locate(text, parts[:cut])
        if line is not None:
            return line
    return None


def _norm(parts: list[str]) -> str:
    return ".".join(parts)


def _locate(text: str, parts: list[str]) -> int | None:
    target = _norm(parts)
    counters: dict[str, int] = {}
    table: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0] if '"' not in raw else raw
        header = _HEADER.match(line)
        if header and "=" not in line:
            names = [n.strip().strip("\"'") for n in header.group(2).split(".")]
            if header.group(1) == "[[":
                key = ".".join(names)
                counters[key] = counters.get(key, -1) + 1
                table = [*names[:-1], names[-1], f"[{counters[key]}]"]
            else:
                table = _with_array_indices(names, counters)
            if _norm(table) == target:
                return number
            continue
        found = _KEY.match(line)
        if found:
            name = found.group(1).strip('"')
            if _norm([*table, name]) == target:
                return number
    return None


def _with_array_indices(names: list[str], counters: dict[str, int]) -> list[str]:
    """``[sensors.location]`` after the 2nd ``[[sensors]]`` is ``sensors[1].location``."""
    out: list[str] = []
    for i, name in enumerate(names):
        out.append(name)
        key = ".".join(names[: i + 1])
        if key in counters:
            out.append(f"[{counters[key]}]")
    return out
