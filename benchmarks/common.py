"""What every benchmark shares: figures with their baselines, configs, a broker, processes.

A figure is only meaningful beside a baseline measured in the same run on the
same machine (a shared 2-core box is never quiet), so :class:`Figure` carries
both and the ratio. Benchmarks that need a clean process (memory, start-up,
SD writes) run the agent as a child and read ``/proc``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


@dataclass
class Figure:
    """One measured figure, its baseline from the same run, and the target it answers."""

    key: str
    label: str
    value: float
    unit: str
    baseline_label: str = ""
    baseline: float | None = None
    #: "value/baseline <= 3" style targets compare the ratio; "value <= 50" the value.
    target: str = ""
    target_ratio: float | None = None
    target_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def ok(self) -> bool | None:
        if self.target_ratio is not None and self.ratio is not None:
            return self.ratio <= self.target_ratio
        if self.target_value is not None:
            return self.value <= self.target_value
        return None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["ok"] = self.ok
        return d


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def table(figures: Sequence[Figure]) -> str:
    """One plain-text table: figure, value, baseline, ratio, target, verdict."""
    rows = [("figure", "value", "baseline", "ratio", "target", "")]
    for f in figures:
        base = f"{fmt(f.baseline)} ({f.baseline_label})" if f.baseline is not None else "-"
        verdict = {True: "ok", False: "MISSED", None: ""}[f.ok]
        rows.append(
            (
                f.label,
                f"{fmt(f.value)} {f.unit}",
                base,
                f"{f.ratio:.2f}x" if f.ratio is not None else "-",
                f.target,
                verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); exact for the small samples we take."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- configs ----------------------------------------------------------------------------------

SCENARIOS = ("smoke", "water", "crowd")


def bench_config(
    state_dir: Path,
    broker_url: str,
    n_sensors: int,
    *,
    interval_s: float = 1.0,
    overrides: dict[str, Any] | None = None,
    telemetry: dict[str, Any] | None = None,
    store: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An in-code config of ``n_sensors`` sim sensors cycling smoke, water, crowd.

    Everything else is at its default (detection on, as the packs ship).
    """
    sensors = []
    for i in range(n_sensors):
        sc = SCENARIOS[i % len(SCENARIOS)]
        s: dict[str, Any] = {
            "id": f"{sc}-{i}",
            "driver": "sim",
            "scenario": sc,
            "rules": sc,
            "interval_s": interval_s,
            "cycle_s": 600.0,
            "location": {"building": "1", "zone": f"zone {i}"},
        }
        if overrides:
            s["overrides"] = dict(overrides)
        sensors.append(s)
    return {
        "agent": {"site_id": "bench", "device_id": "pi", "state_dir": str(state_dir)},
        "mqtt": {"url": broker_url, "backoff_initial_s": 0.2, "backoff_max_s": 1.0},
        "telemetry": telemetry or {},
        "store": store or {},
        "sensors": sensors,
    }


def toml_config(data: dict[str, Any]) -> str:
    """Write :func:`bench_config`'s dict as TOML (for agents run as a child process)."""

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        raise TypeError(type(v))

    out = []
    for section in ("agent", "mqtt", "telemetry", "store"):
        out.append(f"[{section}]")
        out += [f"{k} = {val(v)}" for k, v in data.get(section, {}).items()]
        out.append("")
    for s in data.get("sensors", []):
        out.append("[[sensors]]")
        out += [f"{k} = {val(v)}" for k, v in s.items()]
        out.append("")
    return "\n".join(out)


# -- processes, brokers, /proc ----------------------------------------------------------------


@contextlib.contextmanager
def broker() -> Iterator[str]:
    """A private Mosquitto on a free loopback port; yields its URL."""
    sys.path.insert(0, str(REPO))
    from tests.broker import Broker

    with tempfile.TemporaryDirectory(prefix="bench-mqtt-") as tmp:
        b = Broker(Path(tmp))
        b.start()
        try:
            yield b.url
        finally:
            b.stop()


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A scratch folder on the real disk (not tmpfs): SD-write figures need a block device."""
    base = REPO / "build" / "bench-tmp"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=base) as tmp:
        yield Path(tmp)


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS``/``VmHWM``... of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Vm"):
            key, _, rest = line.partition(":")
            out[key] = int(rest.split()[0])
    return out


def proc_io(pid: int | str = "self") -> dict[str, int]:
    """``/proc/PID/io``: ``write_bytes`` is what reached the block layer."""
    out = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        key, _, val = line.partition(":")
        out[key.strip()] = int(val)
    return out


def time_command(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Wall seconds of a command: the minimum of ``runs`` (the least disturbed run)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            list(argv),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=str(REPO),
            env={**os.environ, **(env or {})},
            check=False,
        )
        best = min(best, time.perf_counter() - t0)
    return best


def run_child(module: str, args: Sequence[str], timeout: float = 600) -> Any:
    """Run ``python -m benchmarks.MODULE --child ARGS`` and parse the JSON it prints last."""
    proc = subprocess.run(
        [PY, "-m", f"benchmarks.{module}", "--child", *args],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmarks.{module} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def now() -> datetime:
    return datetime.now(UTC)


# -- baselines --------------------------------------------------------------------------------


def hst_us_per_reading(n: int = 20_000) -> float:
    """Bare river ``HalfSpaceTrees(n_trees=10, height=8)`` score-then-learn, µs per reading."""
    import random

    from river import anomaly

    rng = random.Random(1)
    values = [20.0 + rng.gauss(0, 2) for _ in range(n)]
    best = float("inf")
    for _ in range(3):
        model = anomaly.HalfSpaceTrees(n_trees=10, height=8, seed=42)
        t0 = time.perf_counter()
        for v in values:
            x = {"v": v}
            model.score_one(x)  # type: ignore[no-untyped-call]
            model.learn_one(x)  # type: ignore[no-untyped-call]
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


READING_ROW = (
    "smoke-0",
    "pm2_5",
    12.5,
    "µg/m³",
    "ok",
    0.12,
    "2026-01-01T00:00:00+00:00",
    1,
    1.0,
    "boot",
)


def sqlite_executemany(
    folder: Path, rows: int, batch: int, *, synchronous: str = "FULL"
) -> tuple[float, int]:
    """Bare sqlite3: ``rows`` reading rows in transactions of ``batch``, WAL, one fsync each.

    Returns (rows per second, bytes written to disk by this process meanwhile).
    """
    import sqlite3

    path = folder / "bare.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor_id TEXT, quantity TEXT, "
        "value REAL, unit TEXT, quality TEXT, score REAL, ts TEXT, clock_synced INTEGER, "
        "t_mono REAL, boot_id TEXT)"
    )
    sql = (
        "INSERT INTO readings (sensor_id, quantity, value, unit, quality, score, ts, "
        "clock_synced, t_mono, boot_id) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    data = [READING_ROW] * batch
    io0 = proc_io()["write_bytes"]
    t0 = time.perf_counter()
    done = 0
    while done < rows:
        conn.execute("BEGIN")
        conn.executemany(sql, data)
        conn.execute("COMMIT")
        done += batch
    elapsed = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    written = proc_io()["write_bytes"] - io0
    return done / elapsed, written


def standalone(doc: str, run: Callable[[bool], list[Figure]], argv: list[str]) -> int:
    """``python -m benchmarks.NAME [--quick]``: one part of the suite, run alone."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args(argv)
    print(table(run(args.quick)))
    return 0
