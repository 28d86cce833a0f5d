"""Find drivers and rule kinds by name through entry points.

The name a plugin is registered under is the name used in config
(``driver = "pms5003"``, ``[[threshold]]``), telegraf-style. A third-party
package adds a driver by declaring an entry point in the same group; nothing
in edge-agent changes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from edge_agent.errors import PluginError

if TYPE_CHECKING:
    from typing import Protocol

    from edge_agent.drivers.base import Driver
    from edge_agent.rules.base import Rule

    class EntryPointLike(Protocol):
        """The part of :class:`importlib.metadata.EntryPoint` the registry uses."""

        @property
        def name(self) -> str: ...

        @property
        def group(self) -> str: ...

        @property
        def value(self) -> str: ...

        def load(self) -> Any: ...


DRIVER_GROUP = "edge_agent.drivers"
RULE_KIND_GROUP = "edge_agent.rule_kinds"


class Registry:
    """A snapshot of the installed plugins. Loads a plugin's module only when asked for it."""

    def __init__(self, groups: Iterable[str] = (DRIVER_GROUP, RULE_KIND_GROUP)) -> None:
        groups = tuple(groups)
        self._eps: dict[str, dict[str, EntryPointLike]] = {g: {} for g in groups}
        for ep in _entry_points(groups):
            self._eps[ep.group].setdefault(ep.name, ep)
        self._loaded: dict[tuple[str, str], Any] = {}

    def names(self, group: str) -> list[str]:
        return sorted(self._eps.get(group, {}))

    def driver_names(self) -> list[str]:
        return self.names(DRIVER_GROUP)

    def rule_kind_names(self) -> list[str]:
        return self.names(RULE_KIND_GROUP)

    def has(self, group: str, name: str) -> bool:
        return name in self._eps.get(group, {})

    def load(self, group: str, name: str) -> Any:
        key = (group, name)
        if key in self._loaded:
            return self._loaded[key]
        ep = self._eps.get(group, {}).get(name)
        what = "driver" if group == DRIVER_GROUP else "rule kind"
        if ep is None:
            known = ", ".join(self.names(group)) or "none installed"
            raise PluginError(f"no {what} named {name!r} (installed: {known})")
        try:
            obj = ep.load()
        except Exception as exc:  # a broken third-party plugin must say which one
            raise PluginError(f"{what} {name!r} ({ep.value}) failed to load: {exc}") from exc
        if getattr(obj, "name" if group == DRIVER_GROUP else "kind", None) != name:
            raise PluginError(
                f"{what} entry point {name!r} points at {ep.value}, whose registered name "
                f"differs; the entry-point name and the class's name must be the same word"
            )
        self._loaded[key] = obj
        return obj

    def driver(self, name: str) -> type[Driver]:
        cls: type[Driver] = self.load(DRIVER_GROUP, name)
        return cls

    def rule_kind(self, kind: str) -> type[Rule]:
        cls: type[Rule] = self.load(RULE_KIND_GROUP, kind)
        return cls


class _EntryPoint:
    """A plain class, not a dataclass: building a dataclass costs ~1 ms at import."""

    __slots__ = ("group", "name", "value")

    def __init__(self, name: str, group: str, value: str) -> None:
        self.name, self.group, self.value = name, group, value

    def load(self) -> Any:
        import importlib

        module_name, _, attrs = self.value.split("[", 1)[0].partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


_NAME_NORM = re.compile(r"[-_.]+")
_SECTION = re.compile(r"^\[\s*(?P<group>[^\]]+?)\s*\]$")


def _entry_points(groups: tuple[str, ...]) -> list[EntryPointLike]:
    """Entry points of ``groups``, in the order and with the de-duplication of
    :func:`importlib.metadata.entry_points`.

    ``importlib.metadata`` costs about 20 ms to import (it pulls in ``email``,
    ``zipfile`` and ``csv``), more than the rest of ``check-config`` together
    on a Pi, only to read a few ``entry_points.txt`` files. Plain directories
    on ``sys.path`` (every venv and Debian install) are read here directly;
    anything else (a zip or an ``.egg`` on the path) falls back to the library.
    """
    found: list[EntryPointLike] = []
    seen: set[str] = set()
    for entry in sys.path:
        root = entry or "."
        try:
            names = os.listdir(root)
        except NotADirectoryError:
            return _entry_points_slow(groups)
        except OSError:
            continue
        for child in names:
            lower = child.lower()
            if lower.endswith(".egg"):
                return _entry_points_slow(groups)
            if not lower.endswith((".dist-info", ".egg-info")):
                continue
            dist = _NAME_NORM.sub("_", child.rpartition(".")[0].partition("-")[0]).lower()
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(root, child, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            found.extend(_parse_entry_points(text, groups))
    return found


def _parse_entry_points(text: str, groups: tuple[str, ...]) -> list[EntryPointLike]:
    """The ``name = value`` lines of ``groups`` in one ``entry_points.txt`` (INI format)."""
    out: list[EntryPointLike] = []
    group: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = _SECTION.match(line)
        if m:
            group = m.group("group")
            continue
        if group in groups and "=" in line:
            name, _, value = line.partition("=")
            out.append(_EntryPoint(name.strip(), group, value.strip()))
    return out


def _entry_points_slow(groups: tuple[str, ...]) -> list[EntryPointLike]:
    from importlib.metadata import entry_points

    return [ep for g in groups for ep in entry_points(group=g)]
