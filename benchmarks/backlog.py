"""Backlog drain and replay speed.

Run from the repository root::

    .venv/bin/python -m benchmarks.backlog [--quick]

Backlog drain: a store is filled with N telemetry rows (what an outage of a
few hours leaves behind), then a real agent starts on it with the broker up;
the figure is rows delivered per second, from READY until the outbox is
empty (read from a second, read-only connection). Baseline: bare paho
publishing the same number of QoS 1 messages and waiting for every PUBACK.

Replay: ``edge_agent.replay.Replayer`` (detection, rules, alert state) over a
recorded series, rows per second; baseline: the bare river HalfSpaceTrees
loop over as many values.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Figure,
    bench_config,
    broker,
    hst_us_per_reading,
    now,
    run_child,
    standalone,
    workdir,
)


def fill_outbox(state: Path, n: int) -> None:
    from edge_agent.store.db import PRIORITY_TELEMETRY, OutboxRow, Store

    store, _ = Store.open(state)
    payload = json.dumps(
        {
            "schema": "edge-agent/telemetry/1",
            "sensor_id": "smoke-0",
            "n": 60,
            "min": 8.1,
            "mean": 9.7,
            "max": 12.3,
            "last": 9.9,
            "ts": now().isoformat(),
        }
    ).encode()
    rows = [
        OutboxRow(
            "telemetry", "edge/bench/pi/telemetry/smoke-0", payload, 1, False, PRIORITY_TELEMETRY
        )
        for _ in range(n)
    ]
    for i in range(0, n, 1000):
        store.enqueue(rows[i : i + 1000])
    store.close()


def outbox_rows(state: Path) -> int:
    conn = sqlite3.connect(f"file:{state / 'edge-agent.db'}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
    finally:
        conn.close()


async def drain_child(url: str, n: int) -> dict[str, Any]:
    from edge_agent.config.load import build_config
    from edge_agent.pipeline.agent import Agent

    with workdir("drain-") as d:
        state = d / "state"
        fill_outbox(state, n)
        cfg = build_config(bench_config(state, url, 1, interval_s=3600.0))
        agent = Agent(cfg)
        await agent.start()
        t0 = time.perf_counter()
        try:
            deadline = time.monotonic() + 300
            while outbox_rows(state) > 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - t0
            left = outbox_rows(state)
        finally:
            await agent.stop()
    return {"rows": n - left, "seconds": elapsed, "per_s": (n - left) / elapsed}


def paho_qos1_rate(url: str, n: int) -> float:
    """Bare paho: n QoS 1 publishes, as fast as the in-flight window allows, until all PUBACKs."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(20)
    client.max_queued_messages_set(0)
    client.connect(host, int(port))
    client.loop_start()
    payload = b"x" * 200
    t0 = time.perf_counter()
    infos = [client.publish("bench/drain", payload, qos=1) for _ in range(n)]
    for info in infos:
        info.wait_for_publish(30)
    elapsed = time.perf_counter() - t0
    client.loop_stop()
    client.disconnect()
    return n / elapsed


def replay_rate(rows: int) -> float:
    import random

    from edge_agent.registry import Registry
    from edge_agent.replay import Replayer, read_rows, resolve_pack

    rng = random.Random(5)
    text = io.StringIO()
    text.write("timestamp,sensor_id,value\n")
    t = 1_700_000_000
    for i in range(rows):
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + i))
        text.write(f"{ts},smoke-1,{max(0.0, 10 + rng.gauss(0, 2)):.2f}\n")
    text.seek(0)
    registry = Registry()
    rep = Replayer(pack=resolve_pack("smoke", registry), registry=registry)
    t0 = time.perf_counter()
    summary = rep.run(read_rows(text, "bench.csv"), lambda r: None)
    return summary.rows / (time.perf_counter() - t0)


def run(quick: bool) -> list[Figure]:
    n = 3_000 if quick else 20_000
    with broker() as url:
        res = run_child("backlog", ["drain", url, str(n)])
        bare = paho_qos1_rate(url, n)
    replay = run_child("backlog", ["replay", str(5_000 if quick else 30_000)])
    hst = hst_us_per_reading(5_000 if quick else 20_000)
    return [
        Figure(
            "backlog_drain",
            f"backlog drain ({res['rows']} telemetry rows, QoS 1)",
            res["per_s"],
            "rows/s",
            "bare paho QoS 1",
            bare,
        ),
        Figure(
            "replay_rows",
            "replay (detection + rules + alerts)",
            replay["per_s"],
            "rows/s",
            "river HST",
            1e6 / hst,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        if argv[1] == "drain":
            out = asyncio.run(drain_child(argv[2], int(argv[3])))
        else:
            out = {"per_s": replay_rate(int(argv[2]))}
        print(json.dumps(out))
        return 0
    return standalone(__doc__ or "", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
