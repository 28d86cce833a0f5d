"""``threshold``: fixed levels on the value, with hysteresis.

The simplest rule and the one installers trust most: "above 1.2 m is orange".
Hysteresis keeps an alert from flapping when the value hovers at a threshold:
once at a level, the value must fall ``hysteresis`` below that level's
threshold before this rule stops asking for it.

``reference = "baseline"`` measures the value from the sensor's own learnt
ordinary level instead of from the datum (a river gauge whose zero is
arbitrary: "1 m above this river's usual level"). The baseline is a low
quantile of the calm readings of the last ``baseline_window_s`` seconds
(:mod:`edge_agent.rules.running_baseline`); readings taken while this rule
asks for a level, or while any alert of its hazard is in force, are not
learnt. Until the baseline has ``baseline_warmup_s`` of calm history the
rule has no opinion (the other rules of the pack still judge).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.rules.base import PackInfo, Rule, Verdict
from edge_agent.rules.running_baseline import RunningBaseline

from edge_agent.model import ALERT_LEVELS, Hazard, Level, Scored
from edge_agent.options import Option


def _level_option(level: str) -> Option:
    return Option(float, f"value at or beyond which this rule asks for {level}", default=None)


class ThresholdRule(Rule):
    kind: ClassVar[str] = "threshold"
    summary: ClassVar[str] = "Fixed per-level thresholds on the value, with hysteresis."
    params: ClassVar[Mapping[str, Option]] = {
        "blue": _level_option("blue"),
        "yellow": _level_option("yellow"),
        "orange": _level_option("orange"),
        "red": _level_option("red"),
        "hysteresis": Option(
            float,
            "how far back past a level's threshold the value must go to leave it",
            default=0.0,
            min=0,
        ),
        "per": Option(
            float,
            "divide the value by this before comparing, e.g. the floor area in m² "
            "to grade an occupancy count as density in persons/m²",
            default=1.0,
            min=1e-9,
        ),
        "raise_after_s": Option(
            float,
            "this rule's own dwell before an alert is raised (default: the pack's "
            "raise_after_s); 0 for inputs that have already decided, such as a smoke "
            "alarm's interconnect",
            default=None,
            min=0,
        ),
        "direction": Option(
            str,
            "'above': high values are dangerous; 'below': low values are",
            default="above",
            choices=("above", "below"),
        ),
        "reference": Option(
            str,
            "'datum': thresholds are values of the quantity (depth above the floor); "
            "'baseline': thresholds are distances from the sensor's own learnt ordinary "
            "level (river gauges with an arbitrary zero)",
            default="datum",
            choices=("datum", "baseline"),
        ),
        "baseline_quantile": Option(
            float,
            "with reference = 'baseline': the quantile of calm readings taken as the "
            "ordinary level (low: follows base flow, ignores ordinary rain)",
            default=0.25,
            min=0.0,
            max=1.0,
        ),
        "baseline_window_s": Option(
            float,
            "with reference = 'baseline': seconds of calm history",
            default=7 * 86400.0,
            min=60.0,
        ),
        "baseline_sample_s": Option(
            float,
            "with reference = 'baseline': one calm reading kept per this many seconds",
            default=600.0,
            min=1.0,
        ),
        "baseline_warmup_s": Option(
            float,
            "with reference = 'baseline': calm history needed before judging",
            default=86400.0,
            min=0.0,
        ),
        "quantity": Option(str, "the quantity this rule reads (default: the pack's)", default=None),
        "hazard": Option(
            str,
            "the hazard this rule raises (default: the pack's)",
            default=None,
            choices=[h.value for h in Hazard],
        ),
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], pack: PackInfo) -> None:
        super().__init__(rule_id, params, pack)
        self.sign = 1.0 if params.get("direction", "above") == "above" else -1.0
        self.hysteresis = float(params.get("hysteresis") or 0.0)
        self.per = float(params.get("per") or 1.0)
        dwell = params.get("raise_after_s")
        self.raise_after_s = float(dwell) if dwell is not None else None
        self.baseline: RunningBaseline | None = None
        if params.get("reference", "datum") == "baseline":
            self.baseline = RunningBaseline(
                quantile=float(params.get("baseline_quantile", 0.25)),
                window_s=float(params.get("baseline_window_s", 7 * 86400.0)),
                sample_s=float(params.get("baseline_sample_s", 600.0)),
                warmup_s=float(params.get("baseline_warmup_s", 86400.0)),
            )
        self.levels: list[tuple[Level, float]] = [
            (lvl, float(params[lvl.label]))
            for lvl in ALERT_LEVELS
            if lvl.label is not None and params.get(lvl.label) is not None
        ]

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        given = [
            (lvl, params[lvl.label])
            for lvl in ALERT_LEVELS
            if lvl.label is not None and params.get(lvl.label) is not None
        ]
        if not given:
            return [("blue", "give at least one level threshold (blue, yellow, orange or red)")]
        sign = 1.0 if params.get("direction", "above") == "above" else -1.0
        problems = []
        window, warmup = params.get("baseline_window_s"), params.get("baseline_warmup_s")
        if window is not None and warmup is not None and warmup >= window:
            problems.append(
                (
                    "baseline_warmup_s",
                    f"must be shorter than baseline_window_s ({window:g}), got {warmup:g}",
                )
            )
        for (lo, lo_v), (hi, hi_v) in itertools.pairwise(given):
            if sign * hi_v <= sign * lo_v:
                word = "above" if sign > 0 else "below"
                problems.append(
                    (hi.label or "", f"{hi.label} ({hi_v:g}) must be {word} {lo.label} ({lo_v:g})")
                )
        return problems

    def level_for(self, value: float, current: Level) -> tuple[Level, float | None]:
        """The level asked for and the threshold that decided it."""
        v = self.sign * value
        level, threshold = Level.NONE, None
        for lvl, thr in self.levels:
            t = self.sign * thr
            holding = lvl <= current and v >= t - self.hysteresis
            if v >= t or holding:
                level, threshold = lvl, thr
        return level, threshold

    def evaluate(self, scored: Scored, current: Level) -> Verdict | None:
        raw = scored.reading.value
        base = 0.0
        if self.baseline is not None:
            learnt = self.baseline.value()
            if learnt is None:
                if current is Level.NONE:
                    self.baseline.offer(scored.reading.t_mono, raw)
                return None
            base = learnt
        measured = (raw - base) / self.per
        level, threshold = self.level_for(measured, current)
        reason: dict[str, Any] = {
            "rule": self.rule_id,
            "kind": self.kind,
            "value": measured,
            "threshold": threshold,
            "direction": "above" if self.sign > 0 else "below",
        }
        if self.per != 1.0:
            reason["per"] = self.per
        if self.baseline is not None:
            reason["reference"] = "baseline"
            reason["baseline"] = round(base, 6)
            if level is Level.NONE and current is Level.NONE:
                # Calm: the only readings the baseline may learn from.
                self.baseline.offer(scored.reading.t_mono, raw)
        return Verdict(
            hazard=self.hazard,
            level=level,
            value=raw,
            reason=reason,
            raise_after_s=self.raise_after_s if level is not Level.NONE else None,
        )
