"""``edge-agent replay``: recorded CSV through the daemon's detection, rules and alerts."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from edge_agent.errors import ConfigError

PROGRESS_MIN_BYTES = 2_000_000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent replay",
        description="Run recorded data through the same detection, rules and alert state "
        "machine as the daemon, as fast as the machine allows, on the recorded timestamps. "
        "Input: CSV with header 'timestamp,value' (one series, NAB format) or "
        "'timestamp,sensor_id,value', values in the pack's unit. Output: "
        "timestamp,sensor_id,value,anomaly_score,level.",
    )
    parser.add_argument("--input", required=True, type=Path, help="CSV file to replay")
    parser.add_argument(
        "--rules",
        default="generic",
        help="rule pack for sensors not in --config (default: generic)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="agent config: sensors found there use their own pack and overrides",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="write per-row scores and levels here (default: no CSV output)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="draw value, anomaly score and alert levels to this PNG",
    )
    parser.add_argument("--quiet", action="store_true", help="no summary table")
    args = parser.parse_args(argv)

    from edge_agent.registry import Registry
    from edge_agent.replay import (
        OUTPUT_HEADER,
        Replayer,
        ReplayInputError,
        Result,
        format_score,
        read_rows,
        resolve_pack,
    )

    registry = Registry()
    try:
        config = None
        if args.config is not None:
            from edge_agent.config.load import load_config

            config = load_config(args.config, registry=registry, check_files=False)
        pack = resolve_pack(args.rules, registry)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    if not args.input.is_file():
        print(f"edge-agent replay: --input {args.input}: no such file", file=sys.stderr)
        return 2

    replayer = Replayer(pack=pack, config=config, registry=registry)
    plot_data: dict[str, list[tuple[Any, float, float | None, int]]] = {}
    out_file: TextIO | None = None
    writer: Any = None
    if args.output is not None:
        out_file = args.output.open("w", newline="", encoding="utf-8")
        writer = csv.writer(out_file, lineterminator="\n")
        writer.writerow(OUTPUT_HEADER)
    progress = _Progress(args.input) if sys.stderr.isatty() else None

    def on_result(res: Result) -> None:
        row = res.row
        if writer is not None:
            writer.writerow(
                (
                    row.raw_ts,
                    row.sensor_id,
                    row.raw_value,
                    format_score(res.score),
                    res.level.label or "",
                )
            )
        if args.plot is not None:
            plot_data.setdefault(row.sensor_id, []).append(
                (row.ts, row.value, res.score, int(res.level))
            )
        if progress is not None:
            progress.tick()

    started = time.perf_counter()
    try:
        with args.input.open(encoding="utf-8", newline="") as f:
            if progress is not None:
                progress.attach(f)
            summary = replayer.run(read_rows(f, str(args.input)), on_result)
    except ReplayInputError as exc:
        print(f"edge-agent replay: {exc}", file=sys.stderr)
        return 2
    finally:
        if out_file is not None:
            out_file.close()
        if progress is not None:
            progress.done()
    elapsed = time.perf_counter() - started

    if args.plot is not None:
        from edge_agent.replay_plot import plot

        plot(plot_data, args.plot, pack_name=pack.name, unit=pack.unit)
    if not args.quiet:
        _print_summary(summary, elapsed)
    return 0


def _print_summary(summary: Any, elapsed: float) -> None:
    rate = summary.rows / elapsed if elapsed > 0 else float("inf")
    print(
        f"replayed {summary.rows} rows of {len(summary.sensors)} sensor(s) in "
        f"{elapsed:.2f} s ({rate:,.0f} rows/s)"
    )
    raised = summary.raised()
    if not summary.events:
        print("no alerts raised")
        return
    worst: dict[tuple[str, str], int] = {}
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], str] = {}
    for ts, ev in summary.events:
        key = (ev.sensor_id, ev.hazard.value)
        worst[key] = max(worst.get(key, 0), int(ev.level))
        if ev.event.value == "raised":
            counts[key] += 1
            first.setdefault(key, ts)
    from edge_agent.model import Level

    print(f"{len(raised)} alert(s) raised:")
    print(f"  {'sensor':<24} {'hazard':<12} {'raised':>6}  {'worst':<7} first raised")
    for key in sorted(worst):
        print(
            f"  {key[0]:<24} {key[1]:<12} {counts[key]:>6}  "
            f"{Level(worst[key]).label or '-':<7} {first.get(key, '-')}"
        )


class _Progress:
    """A one-line progress bar on stderr for long inputs (terminal only)."""

    def __init__(self, path: Path) -> None:
        self.total = path.stat().st_size
        self.enabled = self.total >= PROGRESS_MIN_BYTES
        self.f: Any = None
        self.n = 0
        self.last = 0.0

    def attach(self, f: Any) -> None:
        self.f = f

    def tick(self) -> None:
        self.n += 1
        if not self.enabled or self.n % 5000:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        try:
            pos = self.f.buffer.tell() if hasattr(self.f, "buffer") else 0
        except (OSError, ValueError):
            pos = 0
        share = min(1.0, pos / self.total) if self.total else 0.0
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r[{bar:<30}] {share:5.1%} {self.n:,} rows")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()
