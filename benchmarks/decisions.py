"""What the agent *decides* with its shipped packs, on the shared recordings.

* NAB: the NAB score of the alerts themselves (a detection at each row where
  an alert is raised or escalated; no oracle threshold), with the generic
  pack, and the replay speed over the whole shared NAB set.
* Air: PurpleAir 87173 (Troy NY, 10-minute PM2.5) through ``air_quality``.
* Crowd: Melbourne hourly pedestrian counts through ``generic`` (weekly
  seasonality): hourly *counts past a footpath* are flows with no floor
  area or capacity, so the crowd pack's density and capacity rules have
  nothing to grade; "unusual for this street at this hour of the week" is
  what the data can say.

Every figure comes from :class:`edge_agent.replay.Replayer`, the code path of
``edge-agent replay``.
"""

from __future__ import annotations

import csv
import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import nab
from benchmarks.episodes import ReplayRun, level_counts, make_rows, months, replay
from edge_agent.model import Hazard
from edge_agent.replay import Row
from edge_agent.rulepacks import RulePack

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
AIR = SHARED / "air" / "purpleair_troy_pm25_10min_2022-07_2023-03.csv"
CROWD = SHARED / "crowd" / "melbourne_pedestrian_hourly_2012-2015.csv"

#: PurpleAir channel agreement (Barkjohn et al. 2021, EPA's US-wide correction):
#: the A and B lasers disagree when they differ by more than 5 µg/m³ *and* by
#: more than 70 % of their mean.
AGREE_ABS = 5.0
AGREE_REL = 0.70


def nab_decisions(pack: RulePack, corpus: list[nab.Series]) -> None:
    """NAB profile scores of the alerts raised/escalated, and the replay speed."""
    weights = [nab.row_weights(len(s.values), s.windows) for s in corpus]
    detections: list[list[float | None]] = []
    rows = 0
    started = time.perf_counter()
    for s in corpus:
        points = [(ts.replace(tzinfo=UTC), v) for ts, v in zip(s.timestamps, s.values, strict=True)]
        run = replay(pack, make_rows("series", points))
        rows += run.rows
        detections.append(list(run.rises.get("series", [])))
    elapsed = time.perf_counter() - started
    n_windows = sum(w.n_windows for w in weights)
    for name, profile in nab.PROFILES.items():
        raw = nab.score_at_threshold(detections, weights, 1.0, profile)
        tp, fp, fn = nab._counts(
            [[-1.0 if x is None else x for x in d] for d in detections], weights, 1.0
        )
        print(
            f"decisions ({pack.name} pack, shipped defaults) {name}: "
            f"{nab.normalise(raw, n_windows, profile):.1f} (TP {tp}, FP {fp}, FN {fn})"
        )
    print(
        f"replay speed: {len(corpus)} NAB series, {rows} rows in {elapsed:.2f} s "
        f"({rows / elapsed:,.0f} rows/s; target: whole set under 60 s)"
    )


def air_rows() -> tuple[list[Row], dict[str, int]]:
    """Mean of the two lasers; where they disagree, the lower one (a failing laser reads high)."""
    points: list[tuple[datetime, float]] = []
    stats: Counter[str] = Counter()
    with AIR.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            ts = datetime.fromisoformat(r["timestamp_utc"]).replace(tzinfo=UTC)
            a, b = _num(r["pm25_atm_a"]), _num(r["pm25_atm_b"])
            if a is None and b is None:
                stats["no channel"] += 1
                continue
            if a is None or b is None:
                stats["one channel"] += 1
                points.append((ts, a if a is not None else b))  # type: ignore[arg-type]
                continue
            diff, mean = abs(a - b), (a + b) / 2.0
            if diff > AGREE_ABS and diff > AGREE_REL * mean:
                stats["channels disagree: lower kept"] += 1
                points.append((ts, min(a, b)))
            else:
                stats["channels agree: mean"] += 1
                points.append((ts, mean))
    return make_rows("purpleair-87173", points), dict(stats)


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def crowd_rows() -> list[Row]:
    by: dict[str, list[tuple[datetime, float]]] = {}
    with CROWD.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            # Local time, kept as the sensor's own clock: the weekly profile
            # is about local hours (a naive stamp is taken as UTC by replay).
            ts = datetime.fromisoformat(r["timestamp_local"]).replace(tzinfo=UTC)
            by.setdefault(f"melbourne-{r['sensor_id']}", []).append((ts, float(r["hourly_count"])))
    rows: list[Row] = []
    for sid, pts in sorted(by.items()):
        rows.extend(make_rows(sid, sorted(pts)))
    return rows


def episodes_per_month(name: str, run: ReplayRun, hazard: Hazard) -> None:
    """Alert episodes per sensor-month, by worst level, and the busiest months."""
    eps = [e for e in run.episodes if e.hazard is hazard]
    sensor_months = 0.0
    for pts in run.series.values():
        sensor_months += months(pts[0][0], pts[-1][0])
    by_month: Counter[str] = Counter(f"{e.start:%Y-%m}" for e in eps)
    worst = level_counts(eps)
    busiest = ", ".join(f"{m} {n}" for m, n in by_month.most_common(4))
    print(
        f"{name}: {run.rows} rows, {len(run.series)} sensor(s), {sensor_months:.1f} "
        f"sensor-months: {len(eps)} alert episodes = {len(eps) / sensor_months:.2f} per "
        f"sensor-month (worst level {worst}); busiest months: {busiest or '-'}"
    )
    for sid in sorted(run.series):
        mine = [e for e in eps if e.sensor_id == sid]
        pts = run.series[sid]
        m = months(pts[0][0], pts[-1][0])
        print(f"  {sid}: {len(mine)} episodes, {len(mine) / m:.2f} per month")


def air(pack: RulePack) -> None:
    rows, stats = air_rows()
    print(f"air: PM2.5 from two lasers: {stats}")
    episodes_per_month(f"air [{pack.name}]", replay(pack, rows, keep_series=True), pack.hazard)


def crowd(pack: RulePack, seasonality: str = "weekly") -> None:
    tuned = dataclasses.replace(pack, detection={**pack.detection, "seasonality": seasonality})
    run = replay(tuned, crowd_rows(), keep_series=True)
    episodes_per_month(f"crowd [{pack.name}, seasonality {seasonality}]", run, pack.hazard)
