"""Find drivers and rule kinds by name through entry points.

The name a plugin is registered under is the name used in config
(``driver = "pms5003"``, ``[[threshold]]``), telegraf-style. A third-party
package adds a driver by declaring an entry point in the same group; nothing
in edge-agent changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from edge_agent.errors import PluginError

if TYPE_CHECKING:
    from edge_agent.drivers.base import Driver
    from edge_agent.rules.base import Rule

DRIVER_GROUP = "edge_agent.drivers"
RULE_KIND_GROUP = "edge_agent.rule_kinds"


class Registry:
    """A snapshot of the installed plugins. Loads a plugin's module only when asked for it."""

    def __init__(self, groups: Iterable[str] = (DRIVER_GROUP, RULE_KIND_GROUP)) -> None:
        self._eps: dict[str, dict[str, EntryPoint]] = {}
        for group in groups:
            found: dict[str, EntryPoint] = {}
            for ep in entry_points(group=group):
                found.setdefault(ep.name, ep)
            self._eps[group] = found
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
