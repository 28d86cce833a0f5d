"""Resident memory of the agent at steady state with 3, 30 and 300 sensors.

Run from the repository root::

    .venv/bin/python -m benchmarks.memory [--quick]

Each figure comes from a fresh process running a real agent (store, broker,
detection on) whose sensors have each been fed enough readings to pass the
detector's warm-up and fill its seasonal profile (the readings span eight
days of wall time, so every half-hour slot of a day and week has been seen).
Then ``VmRSS`` is read from ``/proc/self/status``.

The baseline is a process that only imports the modules that agent process
had loaded (its ``sys.modules`` at the end), so the ratio is what running
costs beyond the code itself: models, queues, the SQLite cache, threads.
The detectors' own estimate of their size (``Detection.memory_bytes``) is
reported per sensor too: that is the part that grows with the site.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Figure,
    bench_config,
    broker,
    proc_status,
    run_child,
    standalone,
    workdir,
)

#: Eight days of readings per sensor, whatever their number.
SPAN_S = 8 * 86400.0


async def agent_child(
    n_sensors: int, per_sensor: int, url: str, modules_out: Path
) -> dict[str, Any]:
    from benchmarks.pipeline import calm_readings, feed, wait_count
    from edge_agent.config.load import build_config
    from edge_agent.pipeline.agent import Agent

    with workdir("mem-") as d:
        cfg = build_config(bench_config(d / "state", url, n_sensors, interval_s=3600.0))
        agent = Agent(cfg)
        await agent.start()
        try:
            await wait_count(agent, n_sensors, 30)
            readings = calm_readings(agent, per_sensor, SPAN_S / per_sensor)
            await feed(agent, readings)
            del readings
            await asyncio.sleep(1.5)  # a tick and a batch write: the steady-state shape
            gc.collect()
            status = proc_status()
            models = agent.detection.memory_bytes()
        finally:
            await agent.stop()
    modules_out.write_text(json.dumps(sorted(sys.modules)))
    return {
        "sensors": n_sensors,
        "rss_kib": status["VmRSS"],
        "hwm_kib": status["VmHWM"],
        "model_bytes_per_sensor": sum(models.values()) / max(1, len(models)),
    }


def imports_child(modules_file: Path) -> dict[str, Any]:
    for name in json.loads(modules_file.read_text()):
        if name.startswith(("benchmarks", "__main__")):
            continue
        # A module only importable in context (a test helper, a platform shim): skip it.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    gc.collect()
    time.sleep(0.2)
    return {"rss_kib": proc_status()["VmRSS"]}


def run(quick: bool) -> list[Figure]:
    per_sensor = {3: 600, 30: 400, 300: 200 if quick else 400}
    figures = []
    with broker() as url, workdir("memlist-") as d:
        for n, k in per_sensor.items():
            mods = d / f"modules-{n}.json"
            res = run_child("memory", ["agent", str(n), str(k), url, str(mods)])
            base = run_child("memory", ["imports", str(mods)])
            figures.append(
                Figure(
                    f"rss_{n}",
                    f"resident memory, {n} sensors (steady state)",
                    res["rss_kib"] / 1024,
                    "MiB",
                    "import-only process",
                    base["rss_kib"] / 1024,
                    target="<= 1.3x" if n == 30 else "",
                    target_ratio=1.3 if n == 30 else None,
                )
            )
            figures.append(
                Figure(
                    f"model_kib_per_sensor_{n}",
                    f"  detector state per sensor, {n} sensors",
                    res["model_bytes_per_sensor"] / 1024,
                    "KiB",
                    note="Detection.memory_bytes()",
                )
            )
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        if argv[1] == "agent":
            n, k, url, out = argv[2:6]
            res = asyncio.run(agent_child(int(n), int(k), url, Path(out)))
        else:
            res = imports_child(Path(argv[2]))
        print(json.dumps(res))
        return 0
    return standalone(__doc__ or "", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
