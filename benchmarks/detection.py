"""Detection benchmarks: the anomaly score on NAB, and the agent's own decisions.

Run from the repository root::

    .venv/bin/python -m benchmarks.detection            # every section below
    .venv/bin/python -m benchmarks.detection --sections score decisions
    .venv/bin/python -m benchmarks.detection --variants # the table in docs/detection.md

Sections: ``score`` (NAB score of the per-row ``anomaly_score``, oracle
threshold per profile), ``decisions`` (NAB score of the alerts raised or
escalated with the generic pack's shipped defaults, and the replay speed of
the whole NAB set), ``water`` (lead time before each gauge's peak and false
alert episodes, :mod:`benchmarks.water`), ``air`` and ``crowd`` (alert
episodes per month, :mod:`benchmarks.decisions`).

Data: ``../shared/data/nab`` relative to the repository (25 NAB series).
Each series gets a fresh detector fed prequentially (score, then learn) with
the recorded timestamps as both ``ts`` (UTC) and ``t_mono``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from benchmarks import nab

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "nab"

#: Variants measured for docs/detection.md: name -> overrides of the defaults.
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped defaults": {},
    "no refractory period (refractory 0)": {"refractory": 0},
    "refractory 12 readings": {"refractory": 12},
    "refractory 60 readings": {"refractory": 60},
    "no windowed means (smooth 1)": {"smooth": 1},
    "windowed means over 10 readings": {"smooth": 10},
    "no seasonality (no seasonal rates either)": {"seasonality": "none"},
    "seasonality weekly": {"seasonality": "weekly"},
    "slower memory (alpha 0.001)": {"alpha": 0.001},
    "faster memory (alpha 0.004)": {"alpha": 0.004},
    "rate_weight 1.0": {"rate_weight": 1.0},
    "rates at horizons 1, 3": {"horizons": [1, 3]},
    "learn_below 0.999999": {"learn_below": 0.999999},
    "no flagging (learn_below 1.0)": {"learn_below": 1.0},
}


def run_detector(
    corpus: Sequence[nab.Series], params: Mapping[str, Any]
) -> tuple[list[list[float | None]], float]:
    """Per-row scores of every series and the mean µs per reading."""
    from edge_agent.detection import make_detector

    out: list[list[float | None]] = []
    n = 0
    elapsed = 0.0
    for series in corpus:
        det = make_detector(params)
        stamps = [ts.replace(tzinfo=UTC) for ts in series.timestamps]
        monos = [ts.timestamp() for ts in stamps]
        scores: list[float | None] = []
        t0 = time.perf_counter()
        for ts, mono, value in zip(stamps, monos, series.values, strict=True):
            scores.append(det.score_learn(value, ts, mono))
        elapsed += time.perf_counter() - t0
        n += len(series.values)
        out.append(scores)
    return out, elapsed / n * 1e6


def river_baselines() -> dict[str, Callable[[Sequence[float]], list[float | None]]]:
    """The river detectors the product owner measured, for the same table."""
    from river import anomaly, compose, preprocessing, stats

    def hst(values: Sequence[float]) -> list[float | None]:
        model = compose.Pipeline(
            preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(n_trees=10, height=8, seed=42)
        )
        out: list[float | None] = []
        for v in values:
            x = {"v": v}
            out.append(model.score_one(x))
            model.learn_one(x)
        return out

    def sad(values: Sequence[float]) -> list[float | None]:
        model = anomaly.StandardAbsoluteDeviation(sub_stat=stats.Mean())
        out: list[float | None] = []
        for v in values:
            z = model.score_one({}, v)  # type: ignore[no-untyped-call]
            out.append(z / (1.0 + z))
            model.learn_one({}, v)  # type: ignore[no-untyped-call]
        return out

    return {"river MinMaxScaler | HalfSpaceTrees": hst, "river StandardAbsoluteDeviation": sad}


def _row(name: str, results: Mapping[str, nab.ProfileResult], us: float | None) -> str:
    figs = " | ".join(f"{results[p].normalised:5.1f}" for p in nab.PROFILES)
    cost = f"{us:.1f}" if us is not None else "-"
    return f"| {name} | {figs} | {cost} |"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="NAB folder (default: %(default)s)")
    parser.add_argument("--variants", action="store_true", help="also measure the variants")
    parser.add_argument("--baselines", action="store_true", help="also score river baselines")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="what to measure (default: all)",
    )
    parser.add_argument(
        "--stations", action="store_true", help="water: print the per-gauge table too"
    )
    args = parser.parse_args(argv)

    corpus = nab.load_corpus(args.data)
    if "score" in args.sections:
        score_section(corpus, args)
    if set(args.sections) - {"score"}:
        decision_sections(corpus, args)


#: The sections ``--sections`` accepts, in the order they run.
SECTIONS = ("score", "decisions", "water", "air", "crowd")


def decision_sections(corpus: Sequence[nab.Series], args: argparse.Namespace) -> None:
    """The agent's decisions with its shipped packs, through the replay engine."""
    from benchmarks import decisions, water
    from edge_agent.registry import Registry
    from edge_agent.rulepacks import load_pack

    registry = Registry()
    print()
    if "decisions" in args.sections:
        decisions.nab_decisions(load_pack("generic", None, registry), list(corpus))
    if "water" in args.sections:
        gauges = water.load()
        for name, datum in (("water_gauge", False), ("water", True)):
            pack = load_pack(name, None, registry)
            run = water.run_pack(gauges, pack, datum=datum)
            label = name if not datum else f"{name}, datum = calm median of the first 6 days"
            water.report(label, gauges, run, verbose=args.stations and not datum)
    if "air" in args.sections:
        decisions.air(load_pack("air_quality", None, registry))
    if "crowd" in args.sections:
        decisions.crowd(load_pack("generic", None, registry))


def score_section(corpus: Sequence[nab.Series], args: argparse.Namespace) -> None:
    """NAB score of the per-row anomaly_score (the table in docs/detection.md)."""
    weights = [nab.row_weights(len(s.values), s.windows) for s in corpus]
    rows = sum(len(s.values) for s in corpus)
    print(f"NAB: {len(corpus)} series, {rows} rows, {sum(w.n_windows for w in weights)} windows")
    print("| variant | standard | reward_low_FP_rate | reward_low_FN_rate | µs/reading |")
    print("|---|---|---|---|---|")
    variants = VARIANTS if args.variants else {"shipped defaults": {}}
    for name, overrides in variants.items():
        scores, us = run_detector(corpus, overrides)
        results = nab.score_corpus(scores, weights)
        print(_row(name, results, us), flush=True)
        if name == "shipped defaults":
            detail = results
    if args.baselines:
        for name, fn in river_baselines().items():
            t0 = time.perf_counter()
            base_scores = [fn(s.values) for s in corpus]
            us = (time.perf_counter() - t0) / rows * 1e6
            print(_row(name, nab.score_corpus(base_scores, weights), us), flush=True)
    print()
    for p, r in detail.items():
        print(
            f"anomaly_score {p}: {r.normalised:.1f} (threshold {r.threshold:.9f}, "
            f"TP {r.tp}, FP {r.fp}, FN {r.fn})"
        )


if __name__ == "__main__":
    main()
