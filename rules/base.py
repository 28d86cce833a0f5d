"""The contract every rule kind meets.

One rule instance exists per (sensor, rule in that sensor's pack), so a rule
may keep per-sensor state (windows, last reading time) on ``self`` and many
sensors never share it. ``evaluate`` must be cheap and must not do I/O: it
runs once per reading on the latency-critical path.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from edge_agent.drivers.base import FrameStats

from edge_agent.model import Hazard, Level, Scored
from edge_agent.options import Option


@dataclass(frozen=True, slots=True)
class PackInfo:
    """The pack-level facts a rule needs: what hazard, which quantity, what unit."""

    name: str
    hazard: Hazard
    quantity: str
    unit: str
    raise_after_s: float
    clear_after_s: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rule's opinion: the level it asks for and why (machine readable)."""

    hazard: Hazard
    level: Level
    value: float | None
    reason: dict[str, Any]
    #: This rule's own dwell before raising, when it must differ from the pack's
    #: ``raise_after_s`` (a certified smoke alarm has already decided: 0 s).
    raise_after_s: float | None = None


class Rule(abc.ABC):
    """Base class for rule kinds.

    ``kind`` is the registered name and the TOML table name (``[[threshold]]``);
    ``params`` are the keys accepted in that table besides ``id``.
    """

    kind: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[Mapping[str, Option]] = {}
    #: Whether readings whose quality is ``fault`` reach :meth:`evaluate`.
    #: Hazard rules say no (a broken sensor must not raise a smoke alert);
    #: the sensor-fault rule says yes.
    accepts_faulty: ClassVar[bool] = False

    def __init__(self, rule_id: str, params: Mapping[str, Any], pack: PackInfo) -> None:
        self.rule_id = rule_id
        self.config = dict(params)
        self.pack = pack
        hazard = params.get("hazard")
        self.hazard = Hazard(hazard) if hazard else pack.hazard
        self.quantity: str = params.get("quantity") or pack.quantity

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Cross-key checks beyond per-key validation; returns ``(key, problem)`` pairs."""
        return []

    def applies_to(self, quantity: str) -> bool:
        return quantity == self.quantity

    @abc.abstractmethod
    def evaluate(self, scored: Scored, current: Level) -> Verdict | None:
        """Judge one reading given the alert level currently in force for this rule's hazard.

        Returning None means "no opinion" (e.g. while a detector warms up).
        """

    def tick(
        self, now_mono: float, current: Level, stats: FrameStats | None = None
    ) -> Verdict | None:
        """Judge the passage of time (stale sensors, bad-frame rate). Default: no opinion.

        Called about once a second per sensor, with the driver's frame statistics.
        """
        return None
