"""Declarative option specs shared by the config loader, drivers and rule kinds.

A plugin declares the keys it accepts as a mapping of name -> :class:`Option`.
The config loader validates a table against that mapping *before* any plugin
is constructed, so every error (unknown key, wrong type, value out of range)
is reported with its file and key path and no hardware or network is touched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: A checker returns None when the value is fine, or a sentence saying what is wrong.
Check = Callable[[Any], str | None]

_NO_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class Option:
    """One accepted key.

    ``type`` is a Python type or tuple of types (``float`` also accepts ``int``;
    ``bool`` is never accepted as a number). ``choices`` restricts strings.
    ``help`` is shown by ``edge-agent probe --help`` and in the docs.
    """

    type: type | tuple[type, ...]
    help: str
    default: Any = _NO_DEFAULT
    choices: Sequence[Any] | None = None
    min: float | None = None
    max: float | None = None
    check: Check | None = None

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT

    def type_name(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        names = {
            float: "number",
            int: "integer",
            str: "string",
            bool: "boolean",
            dict: "table",
            list: "array",
        }
        return " or ".join(names.get(t, t.__name__) for t in types)

    def validate(self, value: Any) -> str | None:
        """Return None if ``value`` is acceptable, else what is wrong (no key name)."""
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        ok = False
        for t in types:
            if (
                (t is float and isinstance(value, int | float) and not isinstance(value, bool))
                or (t is int and isinstance(value, int) and not isinstance(value, bool))
                or (t not in (float, int) and isinstance(value, t))
            ):
                ok = True
        if not ok:
            return f"expected {self.type_name()}, got {_describe(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            return f"{value!r} is not one of {allowed}"
        if self.min is not None and isinstance(value, int | float) and value < self.min:
            return f"must be >= {self.min:g}, got {value!r}"
        if self.max is not None and isinstance(value, int | float) and value > self.max:
            return f"must be <= {self.max:g}, got {value!r}"
        if self.check is not None:
            return self.check(value)
        return None


def _describe(value: Any) -> str:
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        dict: "table",
        list: "array",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"


def validate_table(
    table: Mapping[str, Any], spec: Mapping[str, Option]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check ``table`` against ``spec``.

    Returns the table with defaults filled in and a list of ``(key, problem)``;
    the caller prefixes the key with its own path and file.
    """
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    for key, value in table.items():
        opt = spec.get(key)
        if opt is None:
            near = _closest(key, spec)
            hint = f"; did you mean {near!r}?" if near else ""
            known = ", ".join(sorted(spec)) or "none"
            problems.append((key, f"unknown key{hint} (accepted keys: {known})"))
            continue
        problem = opt.validate(value)
        if problem:
            problems.append((key, problem))
        else:
            out[key] = value
    for key, opt in spec.items():
        if key in table:
            continue
        if opt.required:
            problems.append((key, f"missing required key ({opt.type_name()}): {opt.help}"))
        else:
            out[key] = opt.default
    return out, problems


def _closest(word: str, candidates: Mapping[str, Any]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def positive(value: Any) -> str | None:
    """Check for options that must be > 0."""
    return None if value > 0 else f"must be > 0, got {value!r}"
