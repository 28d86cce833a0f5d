"""``sim``: a simulated sensor that walks a hazard through every level and back.

Used by the demo, the tests and the benchmarks to make real alert traffic
through the real pipeline. Each cycle starts at a normal baseline with noise,
rises through every level of the scenario's built-in rule pack up to red,
holds, falls back and stays calm until the cycle repeats. The levels are read
from the pack itself, so the simulation stays right when a pack's thresholds
change.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import Driver, DriverContext

from edge_agent.model import Reading
from edge_agent.options import Option, positive

#: scenario -> (pack, quantity, unit, calm baseline as a share of the blue threshold)
SCENARIOS: dict[str, tuple[str, str, str, float]] = {
    "smoke": ("smoke", "pm2_5", "µg/m³", 0.16),
    "water": ("water", "water_level", "m", 0.2),
    "crowd": ("crowd", "occupancy", "persons", 0.35),
}

# The shape of one cycle, as fractions of cycle_s.
RISE_START, RISE_END, FALL_START, FALL_END = 0.10, 0.40, 0.50, 0.60


class SimDriver(Driver):
    """Simulated smoke, water-level or people-count sensor (no hardware)."""

    name: ClassVar[str] = "sim"
    summary: ClassVar[str] = (
        "Simulated sensor: a scripted hazard (smoke, water or crowd) that rises through "
        "every level to red and clears, cycle after cycle."
    )
    options: ClassVar[Mapping[str, Option]] = {
        "scenario": Option(str, "which hazard to simulate", choices=tuple(SCENARIOS)),
        "cycle_s": Option(
            float, "length of one rise-and-clear cycle in seconds", default=60.0, check=positive
        ),
        "interval_s": Option(float, "seconds between readings", default=1.0, check=positive),
        "phase_s": Option(float, "start this many seconds into the cycle", default=0.0, min=0),
        "peak": Option(float, "peak as a multiple of the red threshold", default=1.3, min=1.01),
        "noise": Option(float, "noise as a share of the blue threshold", default=0.03, min=0),
        "seed": Option(int, "random seed (default: derived from the sensor id)", default=None),
    }
    sample: ClassVar[Mapping[str, Any]] = {"scenario": "smoke", "interval_s": 0.01}
    quantities: ClassVar[Mapping[str, str]] = {
        "pm2_5": "µg/m³",
        "water_level": "m",
        "occupancy": "persons",
    }

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        pack_name, self.quantity, self.unit, base_share = SCENARIOS[options["scenario"]]
        self.cycle_s = float(options.get("cycle_s", 60.0))
        self.interval_s = float(options.get("interval_s", 1.0))
        self.phase_s = float(options.get("phase_s", 0.0))
        levels = _pack_levels(pack_name)
        blue, red = levels[0], levels[-1]
        self.baseline = blue * base_share
        self.peak = red * float(options.get("peak", 1.3))
        self.noise = blue * float(options.get("noise", 0.03))
        # Waypoints of the ramp: equal time from each threshold to the next, so
        # every level is held long enough to be seen, whatever the spacing.
        self._points = [self.baseline, *levels, self.peak]
        seed = options.get("seed")
        import random  # here: config validation loads this module, the RNG is for running

        self._rng = random.Random(seed if seed is not None else zlib.crc32(sensor_id.encode()))
        self._start: float | None = None

    async def start(self) -> None:
        self._start = self.context.clock.monotonic()

    def value_at(self, phase: float) -> float:
        """The noiseless value at ``phase`` in [0, 1) of a cycle."""
        if phase < RISE_START or phase >= FALL_END:
            return self.baseline
        if phase < RISE_END:
            return self._along((phase - RISE_START) / (RISE_END - RISE_START))
        if phase < FALL_START:
            return self.peak
        return self._along(1.0 - (phase - FALL_START) / (FALL_END - FALL_START))

    def _along(self, f: float) -> float:
        """Position ``f`` in [0, 1] along the waypoints, linear between them."""
        pts = self._points
        x = min(max(f, 0.0), 1.0) * (len(pts) - 1)
        i = min(int(x), len(pts) - 2)
        return pts[i] + (pts[i + 1] - pts[i]) * (x - i)

    def next_value(self, elapsed_s: float) -> float:
        phase = ((elapsed_s + self.phase_s) % self.cycle_s) / self.cycle_s
        value = self.value_at(phase) + self._rng.gauss(0.0, self.noise)
        return max(0.0, value)

    async def readings(self) -> AsyncIterator[Reading]:
        import asyncio

        clock = self.context.clock
        if self._start is None:
            await self.start()
        assert self._start is not None
        due = clock.monotonic()
        while not self.closed:
            now = clock.monotonic()
            value = self.next_value(now - self._start)
            self.frame_stats.frames_ok += 1
            yield self.reading(self.quantity, round(value, 4), self.unit)
            due += self.interval_s
            delay = due - clock.monotonic()
            if delay < -self.interval_s:  # we fell behind (suspended): do not burst
                due = clock.monotonic()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))


def _pack_levels(pack_name: str) -> list[float]:
    """The level thresholds of a built-in pack's first threshold rule, in the raw unit."""
    from edge_agent.registry import Registry
    from edge_agent.rulepacks import load_pack

    pack = load_pack(pack_name, None, Registry())
    for spec in pack.rules:
        if spec.kind == "threshold":
            per = float(spec.params.get("per") or 1.0)
            return [
                float(spec.params[lvl]) * per
                for lvl in ("blue", "yellow", "orange", "red")
                if spec.params.get(lvl) is not None
            ]
    raise ValueError(f"pack {pack_name!r} has no threshold rule to simulate")
