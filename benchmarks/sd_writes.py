"""Bytes the agent writes to disk per hour: the figure that decides an SD card's life.

Run from the repository root::

    .venv/bin/python -m benchmarks.sd_writes [--quick] [--seconds S]

The agent runs as its own process, exactly as deployed (``edge-agent run``),
at the default config with three calm ``sim`` sensors at 1 Hz (no alert in the
window: a normal hour), its state folder on the real disk (not tmpfs). After
READY and a few seconds of start-up writes, ``write_bytes`` of ``/proc/PID/io`` (bytes the
kernel sent to the block device for this process, WAL and checkpoints
included) is sampled over the window and extrapolated to one hour. The growth
of the database and WAL files is reported too (what retention must bound).

The baseline is the least any design could write for the same data: a bare
sqlite3 ``executemany`` of the same 10 800 reading rows an hour, in the same
5 s batches, WAL with ``synchronous=FULL``, run in this process.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import (
    PY,
    REPO,
    Figure,
    bench_config,
    broker,
    proc_io,
    sqlite_executemany,
    table,
    toml_config,
    workdir,
)


def _db_bytes(state: Path) -> int:
    return sum(p.stat().st_size for p in state.glob("edge-agent.db*") if p.is_file())


def measure_agent(folder: Path, url: str, seconds: float, settle_s: float) -> dict[str, float]:
    data = bench_config(folder / "state", url, 3, interval_s=1.0)
    for s in data["sensors"]:
        # A normal hour is calm: the sim's first rise comes after 10 % of its cycle.
        s["cycle_s"] = 86400.0
    config = folder / "edge-agent.toml"
    config.write_text(toml_config(data))
    sock_path = folder / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(60)
    proc = subprocess.Popen(
        [PY, "-m", "edge_agent", "run", "--config", str(config), "-q"],
        cwd=str(REPO),
        env={**os.environ, "NOTIFY_SOCKET": str(sock_path), "EDGE_AGENT_CLOCK_SYNCED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while "READY=1" not in sock.recv(4096).decode().split("\n"):
            pass
        time.sleep(settle_s)
        io0, db0, t0 = proc_io(proc.pid), _db_bytes(folder / "state"), time.monotonic()
        time.sleep(seconds)
        io1, db1, t1 = proc_io(proc.pid), _db_bytes(folder / "state"), time.monotonic()
    finally:
        proc.terminate()
        proc.wait(30)
        sock.close()
    per_h = 3600.0 / (t1 - t0)
    return {
        "write_bytes_per_h": (io1["write_bytes"] - io0["write_bytes"]) * per_h,
        "wchar_per_h": (io1["wchar"] - io0["wchar"]) * per_h,
        "db_growth_per_h": (db1 - db0) * per_h,
        "window_s": t1 - t0,
    }


def run(quick: bool, seconds: float | None = None) -> list[Figure]:
    window = seconds or (60.0 if quick else 300.0)
    with broker() as url, workdir("sd-") as d:
        res = measure_agent(d, url, window, settle_s=7.0)
        bare_rate, bare_bytes = sqlite_executemany(d, 10_800, 15)
    if res["write_bytes_per_h"] == 0:
        raise RuntimeError("write_bytes stayed 0: is the scratch folder on tmpfs?")
    mib = 1024 * 1024
    return [
        Figure(
            "sd_bytes_per_hour",
            f"SD bytes written per hour (3 sensors @1 Hz, default config, {window:.0f} s)",
            res["write_bytes_per_h"] / mib,
            "MiB/h",
            "bare sqlite executemany",
            bare_bytes / mib,
            note=f"write() calls: {res['wchar_per_h'] / mib:.1f} MiB/h; "
            f"DB+WAL growth {res['db_growth_per_h'] / mib:.2f} MiB/h",
        ),
        Figure(
            "db_growth_per_hour",
            "  DB+WAL file growth per hour (WAL grows to ~4 MiB, then checkpoints)",
            res["db_growth_per_h"] / mib,
            "MiB/h",
        ),
        Figure(
            "sqlite_rows_per_s",
            "  bare sqlite executemany, 15-row batches, fsync each",
            bare_rate,
            "rows/s",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None, help="measuring window")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(table(run(args.quick, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
