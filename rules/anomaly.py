"""Rule kind ``anomaly``: grade the detector's calibrated score into levels.

The score is ``1 - p``, ``p`` the estimated probability that a normal reading
of this sensor deviates as much (see ``edge_agent.detection``), so the same
thresholds mean the same rarity on every sensor. A None score (warm-up, or
detection disabled) is no opinion.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from edge_agent.rules.base import PackInfo, Rule, Verdict

from edge_agent.model import ALERT_LEVELS, Hazard, Level, Scored
from edge_agent.options import Option


def level_options(unit: str, defaults: Mapping[Level, float | None]) -> dict[str, Option]:
    """One optional threshold Option per alert level (``blue`` .. ``red``)."""
    return {
        lvl.name.lower(): Option(
            float,
            f"{lvl.name.lower()} when the measure reaches this ({unit}); unset: level unused",
            default=defaults.get(lvl),
        )
        for lvl in ALERT_LEVELS
    }


def thresholds_of(params: Mapping[str, Any]) -> list[tuple[Level, float]]:
    """The (level, threshold) pairs that are set, lowest level first."""
    out = []
    for lvl in ALERT_LEVELS:
        th = params.get(lvl.name.lower())
        if th is not None:
            out.append((lvl, float(th)))
    return out


def check_ascending(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Thresholds must rise with the level, and at least one must be set."""
    pairs = thresholds_of(params)
    if not pairs:
        return [("blue", "set at least one of blue, yellow, orange, red")]
    problems = []
    for (lo, a), (hi, b) in itertools.pairwise(pairs):
        if b <= a:
            problems.append(
                (hi.name.lower(), f"must be above {lo.name.lower()} ({a:g}), got {b:g}")
            )
    return problems


def target_options() -> dict[str, Option]:
    """``quantity`` and ``hazard`` overrides, as every hazard rule kind accepts."""
    return {
        "quantity": Option(str, "the quantity this rule reads (default: the pack's)", default=None),
        "hazard": Option(
            str,
            "the hazard this rule raises (default: the pack's)",
            default=None,
            choices=[h.value for h in Hazard],
        ),
    }


def grade(
    measure: float, thresholds: Sequence[tuple[Level, float]], current: Level, hysteresis: float
) -> tuple[Level, float | None]:
    """The level ``measure`` asks for, and the threshold that decided it.

    Hysteresis: while ``current`` is in force, keep asking for it as long as
    the measure stays above its threshold minus ``hysteresis``, so a measure
    hovering at a threshold does not flap.
    """
    level, used = Level.NONE, None
    for lvl, th in thresholds:
        if measure >= th:
            level, used = lvl, th
    if current > level:
        for lvl, th in thresholds:
            if lvl == current and measure > th - hysteresis:
                return current, th
    return level, used


class AnomalyRule(Rule):
    """Levels from the calibrated anomaly score."""

    kind: ClassVar[str] = "anomaly"
    summary: ClassVar[str] = "grade the streaming detector's calibrated anomaly score"
    params: ClassVar[Mapping[str, Option]] = {
        **level_options("score in [0, 1]", {}),
        "hysteresis": Option(
            float,
            "keep the current level while the score stays above its threshold minus this",
            default=0.0005,
            min=0.0,
            max=0.5,
        ),
        **target_options(),
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], pack: PackInfo) -> None:
        super().__init__(rule_id, params, pack)
        self.thresholds = thresholds_of(params)
        self.hysteresis = float(params.get("hysteresis", 0.0005))

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = check_ascending(params)
        for key, th in thresholds_of(params):
            if not 0.0 < th <= 1.0:
                problems.append((key.name.lower(), f"a score threshold is in (0, 1], got {th:g}"))
        return problems

    def evaluate(self, scored: Scored, current: Level) -> Verdict | None:
        if scored.score is None:
            return None
        level, threshold = grade(scored.score, self.thresholds, current, self.hysteresis)
        reason = {
            "rule": self.rule_id,
            "kind": self.kind,
            "score": round(scored.score, 7),
            "threshold": threshold,
        }
        return Verdict(self.hazard, level, scored.reading.value, reason)
