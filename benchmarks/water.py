"""Water benchmark: the shipped water packs on the Hub'Eau gauges of January 2020.

The 45 gauges (Aude, Agly, Tech, Orb; 5-15 minute steps) are river gauges
whose zero is arbitrary, so a real installer cannot use depth-above-datum
levels there. Two configurations are measured:

* ``water_gauge`` (what we ship for river gauges): levels above the gauge's
  own learnt ordinary level (``reference = "baseline"``) plus rate of rise.
  The input is the gauge's reading in metres, untouched.
* ``water`` with a datum: the pack for garages and streets, fed metres above
  the gauge's calm median over its first six days (readings before 14 Jan),
  as an installer with no better datum might do. Shown for comparison.

Figures, per gauge whose level rose more than 1 m (peak minus the calm
median): the time of the first yellow-or-higher alert of the alert in force
at the peak, and its lead time before the peak; then the median lead time,
the gauges with no such alert (target: none), and the alert episodes that
do not overlap the flood (22-25 January) per gauge-month.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.episodes import Episode, ReplayRun, make_rows, months, replay
from edge_agent.model import Hazard, Level
from edge_agent.rulepacks import RulePack

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "water"
FILE = "hubeau_water_level_mm_10min_2020-01_aude.csv"
#: The flood episode named by the data set: an alert overlapping it is not false.
FLOOD = (datetime(2020, 1, 22, tzinfo=UTC), datetime(2020, 1, 26, tzinfo=UTC))
#: The peak of each gauge is looked for from here to here (some rose on 21 Jan).
PEAK_SEARCH = (datetime(2020, 1, 21, tzinfo=UTC), datetime(2020, 1, 28, tzinfo=UTC))
#: Readings before this give the calm median (the first six days).
CALM_UNTIL = datetime(2020, 1, 14, tzinfo=UTC)
MIN_RISE_M = 1.0


@dataclass(frozen=True, slots=True)
class Gauge:
    code: str
    label: str
    points: list[tuple[datetime, float]]  # metres as read

    @property
    def calm(self) -> float:
        return statistics.median(v for t, v in self.points if t < CALM_UNTIL)

    def peak(self) -> tuple[datetime, float]:
        inside = [(t, v) for t, v in self.points if PEAK_SEARCH[0] <= t < PEAK_SEARCH[1]]
        return max(inside, key=lambda p: p[1])


@dataclass(frozen=True, slots=True)
class StationResult:
    code: str
    label: str
    rise_m: float
    peak: datetime
    first_yellow: datetime | None
    rule: str | None

    @property
    def lead(self) -> timedelta | None:
        return None if self.first_yellow is None else self.peak - self.first_yellow


def load(root: Path = DATA) -> list[Gauge]:
    names: dict[str, str] = {}
    stations = root / "hubeau_stations.csv"
    if stations.is_file():
        with stations.open(newline="", encoding="utf-8") as f:
            names = {r["station_code"]: r["label"] for r in csv.DictReader(f)}
    by: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    with (root / FILE).open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            ts = datetime.fromisoformat(r["timestamp_utc"].replace("Z", "+00:00"))
            by[r["station_code"]].append((ts, float(r["water_level_mm"]) / 1000.0))
    return [Gauge(code, names.get(code, code), sorted(pts)) for code, pts in sorted(by.items())]


def run_pack(gauges: list[Gauge], pack: RulePack, *, datum: bool) -> ReplayRun:
    """Replay every gauge; with ``datum`` the values are metres above its calm median."""
    rows = []
    for g in gauges:
        shift = g.calm if datum else 0.0
        rows.extend(make_rows(g.code, ((t, v - shift) for t, v in g.points)))
    return replay(pack, rows)


def _alert_at(episodes: list[Episode], at: datetime) -> Episode | None:
    for ep in episodes:
        if ep.start <= at and (ep.end is None or ep.end > at):
            return ep
    return None


def station_results(gauges: list[Gauge], run: ReplayRun) -> list[StationResult]:
    by_sensor: dict[str, list[Episode]] = defaultdict(list)
    for ep in run.episodes:
        if ep.hazard is Hazard.WATER:
            by_sensor[ep.sensor_id].append(ep)
    out = []
    for g in gauges:
        peak_t, peak_v = g.peak()
        rise = peak_v - g.calm
        if rise <= MIN_RISE_M:
            continue
        at_peak = _alert_at(by_sensor[g.code], peak_t)
        first = None
        rule = None
        if at_peak is not None:
            for ts, lvl, rid in at_peak.steps:
                if lvl >= Level.YELLOW and ts <= peak_t:
                    first, rule = ts, rid
                    break
        out.append(StationResult(g.code, g.label, rise, peak_t, first, rule))
    return out


def false_episodes(gauges: list[Gauge], run: ReplayRun) -> tuple[dict[str, int], float]:
    """Water alert episodes not overlapping the flood, per gauge, and per gauge-month."""
    counts = {g.code: 0 for g in gauges}
    for ep in run.episodes:
        if ep.hazard is Hazard.WATER and not ep.overlaps(*FLOOD):
            counts[ep.sensor_id] += 1
    total_months = sum(months(g.points[0][0], g.points[-1][0]) for g in gauges)
    return counts, sum(counts.values()) / total_months


def _h(td: timedelta | None) -> str:
    return "-" if td is None else f"{td.total_seconds() / 3600:.1f} h"


def report(name: str, gauges: list[Gauge], run: ReplayRun, *, verbose: bool) -> None:
    results = station_results(gauges, run)
    counts, rate = false_episodes(gauges, run)
    leads = [r.lead for r in results if r.lead is not None]
    missed = [r for r in results if r.lead is None]
    if verbose:
        print("| gauge | rise m | peak (UTC) | first yellow+ | lead | by rule | false episodes |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            first = r.first_yellow.strftime("%d %b %H:%M") if r.first_yellow else "none"
            print(
                f"| {r.code} {r.label[:32]} | {r.rise_m:.2f} | {r.peak:%d %b %H:%M} | {first} "
                f"| {_h(r.lead)} | {r.rule or '-'} | {counts[r.code]} |"
            )
    median = (
        timedelta(seconds=statistics.median(x.total_seconds() for x in leads)) if leads else None
    )
    noisy = sorted(((n, c) for c, n in counts.items() if n), reverse=True)[:5]
    print(
        f"water [{name}]: {len(results)} gauges rose > {MIN_RISE_M:g} m; yellow+ before the "
        f"peak at {len(leads)}/{len(results)}; median lead {_h(median)} "
        f"(min {_h(min(leads, default=None))}, max {_h(max(leads, default=None))}); "
        f"no alert before the peak: {', '.join(r.code for r in missed) or 'none'}"
    )
    print(
        f"water [{name}]: {sum(counts.values())} alert episodes outside the flood "
        f"(22-25 Jan) on {len(gauges)} gauges = {rate:.2f} per gauge-month; "
        f"most: {', '.join(f'{c} {n}' for n, c in noisy) or '-'}"
    )
