"""The sensor-fault rule: a sensor that lies or goes quiet is itself an alert.

In a warning system silence reads as "all clear", so this rule watches the
sensor rather than the hazard and raises a ``device`` alert when it:

- stops producing readings for ``stale_after_s`` (judged in :meth:`FaultRule.tick`,
  also before the first reading ever arrives);
- repeats one value (within ``stuck_tolerance``) for ``stuck_after_s``;
- reports a value outside the physically possible ``min_value``..``max_value``,
  a NaN/Inf, or a reading its driver marked ``fault``;
- has more than ``max_bad_rate`` bad frames over ``bad_rate_window_s``
  (from the driver's :class:`FrameStats`, judged in ``tick``).

Every opinion covers all conditions at once, so a good reading never clears
a bad-frame-rate fault and a tick never clears a stuck value.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import FrameStats
from edge_agent.rules.base import PackInfo, Rule, Verdict

from edge_agent.model import ALERT_LEVELS, Hazard, Level, Quality, Scored
from edge_agent.options import Option


class FaultRule(Rule):
    kind = "fault"
    summary = (
        "sensor fault: silent, stuck on one value, physically impossible values or a "
        "high bad-frame rate raise a 'device' alert"
    )
    accepts_faulty = True
    params: ClassVar[Mapping[str, Option]] = {
        "stale_after_s": Option(
            float, "raise when no reading arrived for this many seconds", default=60.0, min=1
        ),
        "stuck_after_s": Option(
            float,
            "raise when the value has not changed for this many "
            "seconds (0 = off; leave off for quantities that are "
            "legitimately constant)",
            default=0.0,
            min=0,
        ),
        "stuck_tolerance": Option(
            float, "changes up to this size still count as 'the same value'", default=0.0, min=0
        ),
        "min_value": Option(
            float, "lowest physically possible value (unset = no limit)", default=None
        ),
        "max_value": Option(
            float, "highest physically possible value (unset = no limit)", default=None
        ),
        "max_bad_rate": Option(
            float,
            "raise when more than this share of frames is bad (checksum or length)",
            default=0.2,
            min=0,
            max=1,
        ),
        "bad_rate_window_s": Option(
            float, "window over which the bad-frame rate is measured", default=300.0, min=1
        ),
        "min_frames": Option(
            int, "frames needed in the window before the rate is judged", default=20, min=1
        ),
        "level": Option(
            str,
            "level of the device alert",
            default="yellow",
            choices=tuple(lv.label for lv in ALERT_LEVELS),
        ),
        "hazard": Option(
            str,
            "always 'device': a sensor fault is never a hazard alert",
            default="device",
            choices=("device",),
        ),
        "quantity": Option(str, "quantity watched (default: the pack's)", default=None),
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], pack: PackInfo) -> None:
        super().__init__(rule_id, params, pack)
        self.hazard = Hazard.DEVICE
        p = {k: params.get(k, o.default) for k, o in self.params.items()}
        self.stale_after_s = float(p["stale_after_s"])
        self.stuck_after_s = float(p["stuck_after_s"])
        self.stuck_tolerance = float(p["stuck_tolerance"])
        self.min_value = None if p["min_value"] is None else float(p["min_value"])
        self.max_value = None if p["max_value"] is None else float(p["max_value"])
        self.max_bad_rate = float(p["max_bad_rate"])
        self.window_s = float(p["bad_rate_window_s"])
        self.min_frames = int(p["min_frames"])
        self.fault_level = Level.parse(p["level"])
        self._last_seen: float | None = None
        self._first_tick: float | None = None
        self._run_value: float | None = None
        self._run_since = 0.0
        self._last_value: float | None = None
        # Conditions in force: name -> details for the reason.
        self._value_faults: dict[str, dict[str, Any]] = {}
        self._time_faults: dict[str, dict[str, Any]] = {}
        self._samples: deque[tuple[float, int, int]] = deque()

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        lo, hi = params.get("min_value"), params.get("max_value")
        if lo is not None and hi is not None and lo >= hi:
            return [("max_value", f"must be greater than min_value ({lo!r}), got {hi!r}")]
        return []

    def applies_to(self, quantity: str) -> bool:
        return quantity == self.quantity

    # -- per reading -------------------------------------------------------

    def evaluate(self, scored: Scored, current: Level) -> Verdict | None:
        r = scored.reading
        self._last_seen = r.t_mono
        self._time_faults.pop("stale", None)
        faults: dict[str, dict[str, Any]] = {}
        value = r.value
        self._last_value = value
        if not math.isfinite(value):
            faults["not_finite"] = {"value": str(value)}
        else:
            if self.min_value is not None and value < self.min_value:
                faults["out_of_range"] = {"value": value, "min_value": self.min_value}
            if self.max_value is not None and value > self.max_value:
                faults["out_of_range"] = {"value": value, "max_value": self.max_value}
            stuck = self._stuck(value, r.t_mono)
            if stuck is not None:
                faults["stuck"] = stuck
        if r.quality is Quality.FAULT:
            faults["driver_fault"] = {"quality": str(r.quality)}
        self._value_faults = faults
        return self._verdict(value)

    def _stuck(self, value: float, t: float) -> dict[str, Any] | None:
        if self.stuck_after_s <= 0:
            return None
        if self._run_value is None or abs(value - self._run_value) > self.stuck_tolerance:
            self._run_value, self._run_since = value, t
            return None
        held = t - self._run_since
        if held >= self.stuck_after_s:
            return {
                "value": self._run_value,
                "unchanged_s": round(held, 3),
                "stuck_after_s": self.stuck_after_s,
            }
        return None

    # -- passage of time -----------------------------------------------------

    def tick(
        self, now_mono: float, current: Level, stats: FrameStats | None = None
    ) -> Verdict | None:
        if self._first_tick is None:
            self._first_tick = now_mono
        since = self._last_seen if self._last_seen is not None else self._first_tick
        silent = now_mono - since
        if silent >= self.stale_after_s:
            self._time_faults["stale"] = {
                "silent_s": round(silent, 3),
                "stale_after_s": self.stale_after_s,
                "ever_seen": self._last_seen is not None,
            }
        else:
            self._time_faults.pop("stale", None)
        if stats is not None:
            rate = self._bad_rate(now_mono, stats)
            if rate is not None and rate[0] > self.max_bad_rate:
                self._time_faults["bad_frames"] = {
                    "bad_rate": round(rate[0], 4),
                    "frames": rate[1],
                    "max_bad_rate": self.max_bad_rate,
                    "window_s": self.window_s,
                }
            elif rate is not None:
                self._time_faults.pop("bad_frames", None)
        return self._verdict(None if "stale" in self._time_faults else self._last_value)

    def _bad_rate(self, now: float, stats: FrameStats) -> tuple[float, int] | None:
        """Bad share over the window, or None while fewer than ``min_frames`` were seen."""
        ok, bad = stats.frames_ok, stats.bad_frames
        samples = self._samples
        if samples and (ok < samples[-1][1] or bad < samples[-1][2]):
            samples.clear()  # the driver was restarted: its counters began again
        samples.append((now, ok, bad))
        # Keep the newest sample at or before the window start as the baseline.
        while len(samples) > 1 and samples[1][0] <= now - self.window_s:
            samples.popleft()
        _, ok0, bad0 = samples[0]
        d_ok, d_bad = ok - ok0, bad - bad0
        if len(samples) == 1:
            d_ok, d_bad = ok, bad
        total = d_ok + d_bad
        if total < self.min_frames:
            return None
        return d_bad / total, total

    # -- verdict -------------------------------------------------------------

    def _verdict(self, value: float | None) -> Verdict:
        faults = {**self._value_faults, **self._time_faults}
        if "stale" in faults:
            # A silent sensor has no current value: its old one must not look current.
            faults = {k: v for k, v in faults.items() if k not in ("stuck",)}
        reason: dict[str, Any] = {
            "rule": self.rule_id,
            "kind": self.kind,
            "quantity": self.quantity,
        }
        if not faults:
            reason["condition"] = "ok"
            return Verdict(Hazard.DEVICE, Level.NONE, value, reason)
        names = sorted(faults)
        reason["condition"] = names[0] if len(names) == 1 else "+".join(names)
        reason["conditions"] = {k: faults[k] for k in names}
        if value is not None and not math.isfinite(value):
            value = None
        return Verdict(Hazard.DEVICE, self.fault_level, value, reason)
