"""Every benchmark, one table: ``python -m benchmarks`` (or ``python -m benchmarks.run``).

Run from the repository root::

    .venv/bin/python -m benchmarks            # the full run (about 10 minutes)
    .venv/bin/python -m benchmarks --quick    # short run, under 3 minutes
    .venv/bin/python -m benchmarks --only startup,memory
    .venv/bin/python -m benchmarks --list

Each figure is printed beside its baseline measured in the same run (bare
river, bare paho QoS 1, bare sqlite executemany, ``python -c pass``) and the
ratio, with the target of issue 8 where there is one. The results are written
as JSON (``--json``, default ``benchmarks/results/latest[-quick].json``) so
runs can be compared; ``--compare OLD.json`` prints the change per figure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import REPO, Figure, table

#: name -> (module, what it measures). Each module has ``run(quick) -> list[Figure]``.
BENCHMARKS: dict[str, tuple[str, str]] = {
    "startup": ("benchmarks.startup", "CLI start-up; daemon to READY and first publish"),
    "pipeline": ("benchmarks.pipeline", "ingest throughput at 3/30/300 sensors; alert latency"),
    "memory": ("benchmarks.memory", "resident memory at 3/30/300 sensors"),
    "backlog": ("benchmarks.backlog", "backlog drain rate; replay rows/s"),
    "sd_writes": ("benchmarks.sd_writes", "SD bytes written per hour"),
}


def _runner(module: str) -> Callable[[bool], list[Figure]]:
    fn: Callable[[bool], list[Figure]] = importlib.import_module(module).run
    return fn


def _delivery_extra(quick: bool) -> str | None:
    """``benchmarks/delivery.py`` (outbox delivery, its own helper's): its output, if present."""
    if not (REPO / "benchmarks" / "delivery.py").exists():
        return None
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.delivery", *(["--quick"] if quick else [])],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=900,
        check=False,
    )
    return (proc.stdout + (proc.stderr[-2000:] if proc.returncode else "")).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="short run (under 3 minutes)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--compare", type=Path, help="an earlier results JSON to compare with")
    parser.add_argument(
        "--no-delivery", action="store_true", help="skip benchmarks/delivery.py even if present"
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, (_, what) in BENCHMARKS.items():
            print(f"{name:10s} {what}")
        return 0
    names = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; see --list")
    figures: list[Figure] = []
    timings: dict[str, float] = {}
    t_all = time.monotonic()
    for name in names:
        t0 = time.monotonic()
        print(f"[{name}] {BENCHMARKS[name][1]} ...", file=sys.stderr, flush=True)
        figures += _runner(BENCHMARKS[name][0])(args.quick)
        timings[name] = round(time.monotonic() - t0, 1)
    extra = None if (args.no_delivery or args.only) else _delivery_extra(args.quick)
    total = time.monotonic() - t_all

    mode = "quick" if args.quick else "full"
    print(
        f"edge-agent benchmarks ({mode} run, {total:.0f} s, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    print(table(figures))
    if extra:
        print("\nbenchmarks/delivery.py:\n" + extra)
    results = {
        "mode": mode,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": round(total, 1),
        "timings_s": timings,
        "figures": [f.as_dict() for f in figures],
        "delivery": extra,
    }
    out = (
        args.json
        or REPO / "benchmarks" / "results" / f"latest{'-quick' if args.quick else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {out}")
    if args.compare:
        old = {f["key"]: f for f in json.loads(args.compare.read_text())["figures"]}
        print(f"\nchange against {args.compare}:")
        for f in figures:
            o = old.get(f.key)
            if o and o["value"]:
                print(
                    f"  {f.key:28s} {o['value']:>12.4g} -> {f.value:>12.4g} "
                    f"({(f.value / o['value'] - 1) * 100:+.0f}%)"
                )
    missed = [f.key for f in figures if f.ok is False]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
