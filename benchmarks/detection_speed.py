"""Per-reading cost of the full detection path against a bare HalfSpaceTrees loop.

Run from the repository root::

    .venv/bin/python -m benchmarks.detection_speed

Both loops see the same readings (NAB's machine temperature series, 22 695
rows, cycled) in the same process. "Full detection path" is what the pipeline
does per reading: ``score_learn`` on a detector from ``make_detector`` with the
shipped defaults, plus the ``anomaly`` rule's evaluation. The baseline is
river's ``HalfSpaceTrees(n_trees=10, height=8)`` scored then learnt on
``{"v": value}``. Best of 3 runs each, to dodge noise from other processes.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.detection import DATA
from benchmarks.nab import load_corpus

SERIES = "realKnownCause/machine_temperature_system_failure.csv"


def _readings(root: Path, n: int) -> list[tuple[float, datetime, float]]:
    series = next(s for s in load_corpus(root) if s.name == SERIES)
    out = []
    for i in range(n):
        ts = series.timestamps[i % len(series.values)].replace(tzinfo=UTC)
        out.append((series.values[i % len(series.values)], ts, float(i * 300)))
    return out


def time_detection(readings: Sequence[tuple[float, datetime, float]]) -> float:
    from edge_agent.rules.anomaly import AnomalyRule
    from edge_agent.rules.base import PackInfo

    from edge_agent.detection import make_detector
    from edge_agent.model import Hazard, Level, Reading, Scored

    pack = PackInfo("generic", Hazard.GENERIC, "value", "", 0.0, 600.0)
    rule = AnomalyRule("score", {"blue": 0.9999, "yellow": 0.999999, "hysteresis": 0.0005}, pack)
    det = make_detector({})
    t0 = time.perf_counter()
    for value, ts, mono in readings:
        reading = Reading("s1", "value", value, "", mono, ts, True)
        scored = Scored(reading, det.score_learn(value, ts, mono))
        rule.evaluate(scored, Level.NONE)
    return (time.perf_counter() - t0) / len(readings) * 1e6


def time_hst(readings: Sequence[tuple[float, datetime, float]]) -> float:
    from river import anomaly

    model = anomaly.HalfSpaceTrees(n_trees=10, height=8, seed=42)
    t0 = time.perf_counter()
    for value, _ts, _mono in readings:
        x = {"v": value}
        model.score_one(x)  # type: ignore[no-untyped-call]
        model.learn_one(x)  # type: ignore[no-untyped-call]
    return (time.perf_counter() - t0) / len(readings) * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=20_000)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    readings = _readings(args.data, args.readings)
    det_us = min(time_detection(readings) for _ in range(3))
    hst_us = min(time_hst(readings) for _ in range(3))
    print(f"readings per run: {len(readings)}")
    print(f"full detection path (make_detector defaults + anomaly rule): {det_us:.1f} µs/reading")
    print(f"bare HalfSpaceTrees(n_trees=10, height=8) score+learn:       {hst_us:.1f} µs/reading")
    print(f"ratio detection / HalfSpaceTrees: {det_us / hst_us:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
