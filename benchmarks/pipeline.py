"""Whole-pipeline figures: ingest throughput with detection on, and alert latency.

Run from the repository root::

    .venv/bin/python -m benchmarks.pipeline [--quick]

Throughput: a real :class:`~edge_agent.pipeline.agent.Agent` (real SQLite
store, real Mosquitto, shipped packs, detection on) with N ``sim`` sensors
slowed to one reading an hour, so the readings measured are the ones fed
straight into the agent's first queue, as fast as the pipeline takes them.
A reading counts once the store stage has taken it (``readings_written`` plus
its pending batch). Each sensor count runs in a fresh process.

Latency: 100 readings/s over three smoke sensors; every half second one
sensor jumps to red for one reading (``raise_after_s = 0``), so an alert is
raised, committed with fsync, published at QoS 1 and received by a subscriber
on the same broker. The latency is the subscriber's receipt time minus the
reading's ``t_mono`` (the driver's frame time, carried in the alert payload).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from benchmarks.common import (
    Figure,
    bench_config,
    broker,
    hst_us_per_reading,
    now,
    percentile,
    run_child,
    standalone,
    workdir,
)


def calm_readings(agent: Any, per_sensor: int, step_s: float) -> list[Any]:
    """Readings around each sim sensor's calm baseline, interleaved across sensors."""
    from edge_agent.model import Reading

    rng = random.Random(7)
    t_mono0 = time.monotonic() + 1.0
    ts0 = now()
    out = []
    drivers = list(agent.drivers.values())
    for k in range(per_sensor):
        ts = ts0 + timedelta(seconds=k * step_s)
        for d in drivers:
            value = max(0.0, d.baseline + rng.gauss(0.0, d.noise))
            out.append(
                Reading(
                    d.sensor_id, d.quantity, round(value, 4), d.unit, t_mono0 + k * step_s, ts, True
                )
            )
    return out


def store_count(agent: Any) -> int:
    p = agent.persist
    return int(p.readings_written + len(p._batch))


async def wait_count(agent: Any, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while store_count(agent) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"store saw {store_count(agent)} of {target} readings")
        await asyncio.sleep(0.002)


async def feed(agent: Any, readings: list[Any], timeout: float = 600) -> float:
    """Put ``readings`` on the first queue; seconds until the store stage had them all."""
    base = store_count(agent)
    q = agent._q_detect
    t0 = time.perf_counter()
    for r in readings:
        await q.put(r)
    await wait_count(agent, base + len(readings), timeout)
    return time.perf_counter() - t0


async def throughput_child(n_sensors: int, readings: int, url: str) -> dict[str, Any]:
    from edge_agent.config.load import build_config
    from edge_agent.pipeline.agent import Agent

    with workdir("pipe-") as d:
        cfg = build_config(bench_config(d / "state", url, n_sensors, interval_s=3600.0))
        agent = Agent(cfg)
        await agent.start()
        try:
            if not agent.detection.active:
                raise RuntimeError("detection is off: the figure would not mean anything")
            await wait_count(agent, n_sensors, 30)  # each sim sensor's first reading
            per_sensor = max(1, readings // n_sensors)
            batch = calm_readings(agent, per_sensor, 1.0)
            # Past every detector's warm-up (150 readings), so the measured part is
            # the steady state: every reading scored, every model learning.
            warm = n_sensors * 160
            await feed(agent, batch[:warm])
            elapsed = await feed(agent, batch[warm:])
            n = len(batch) - warm
        finally:
            await agent.stop()
    return {"sensors": n_sensors, "readings": n, "seconds": elapsed, "per_s": n / elapsed}


# -- latency ----------------------------------------------------------------------------------


class Subscriber:
    """A paho client on its own thread that notes when each message arrives."""

    def __init__(self, url: str, topic: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        host, port = url.removeprefix("mqtt://").split(":")
        self.received: list[tuple[float, bytes]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, m: self.received.append(
            (time.monotonic(), bytes(m.payload))
        )
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.connect(host, int(port))
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("subscriber did not subscribe")

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        self.received.append((time.monotonic(), bytes(msg.payload)))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def paho_baseline(url: str, rate: float, seconds: float) -> list[float]:
    """Bare paho: QoS 1 publishes at ``rate``/s, latency to a subscriber's receipt (ms)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    sub = Subscriber(url, "bench/bare")
    host, port = url.removeprefix("mqtt://").split(":")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect(host, int(port))
    pub.loop_start()
    try:
        n = int(rate * seconds)
        t_next = time.monotonic()
        for _ in range(n):
            pub.publish("bench/bare", repr(time.monotonic()).encode(), qos=1)
            t_next += 1.0 / rate
            time.sleep(max(0.0, t_next - time.monotonic()))
        deadline = time.monotonic() + 5
        while len(sub.received) < n and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        pub.loop_stop()
        pub.disconnect()
        sub.close()
    return [(t - float(p)) * 1000 for t, p in sub.received]


async def latency_child(url: str, rate: float, seconds: float) -> dict[str, Any]:
    from edge_agent.config.load import build_config
    from edge_agent.model import Reading
    from edge_agent.pipeline.agent import Agent

    bare = paho_baseline(url, rate, min(seconds, 10.0))
    with workdir("lat-") as d:
        data = bench_config(
            d / "state",
            url,
            3,
            interval_s=3600.0,
            overrides={"raise_after_s": 0.0, "clear_after_s": 0.0},
        )
        for s in data["sensors"]:
            s["scenario"] = s["rules"] = "smoke"
        cfg = build_config(data)
        agent = Agent(cfg)
        await agent.start()
        sub = Subscriber(url, agent.topics.alerts)
        try:
            drivers = list(agent.drivers.values())
            rng = random.Random(3)
            red = drivers[0].peak  # above the pack's red threshold
            n = int(rate * seconds)
            spike_every = int(rate / 2)
            t_next = time.monotonic()
            for k in range(n):
                d = drivers[k % len(drivers)]
                value = red if k % spike_every == 0 and k else d.baseline + rng.gauss(0, d.noise)
                r = Reading(
                    d.sensor_id,
                    d.quantity,
                    round(max(0.0, value), 4),
                    d.unit,
                    time.monotonic(),
                    now(),
                    True,
                )
                agent._q_detect.put_nowait(r)
                t_next += 1.0 / rate
                await asyncio.sleep(max(0.0, t_next - time.monotonic()))
            await asyncio.sleep(1.0)
        finally:
            await agent.stop()
            sub.close()
    lat = []
    for t, payload in sub.received:
        msg = json.loads(payload)
        if msg.get("event") == "raised":
            lat.append((t - float(msg["t_mono"])) * 1000)
    return {
        "alerts": len(lat),
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat) if lat else float("nan"),
        "bare_p50_ms": percentile(bare, 50),
        "bare_p99_ms": percentile(bare, 99),
        "bare_n": len(bare),
    }


# -- the figures ------------------------------------------------------------------------------


def run(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    hst = hst_us_per_reading(5_000 if quick else 20_000)
    counts = {3: 3_000, 30: 9_000, 300: 60_000} if quick else {3: 20_000, 30: 40_000, 300: 120_000}
    with broker() as url:
        for n, readings in counts.items():
            res = run_child("pipeline", ["throughput", str(n), str(readings), url])
            us = 1e6 / res["per_s"]
            figures.append(
                Figure(
                    f"ingest_{n}",
                    f"ingest, {n} sensors (detection on)",
                    res["per_s"],
                    "readings/s",
                    "river HST",
                    1e6 / hst,
                    note=f"{us:.0f} µs/reading",
                )
            )
            figures.append(
                Figure(
                    f"cost_per_reading_{n}",
                    f"  cost per reading, {n} sensors",
                    us,
                    "µs",
                    "river HST",
                    hst,
                    target="<= 3x" if n == 30 else "",
                    target_ratio=3.0 if n == 30 else None,
                )
            )
        res = run_child("pipeline", ["latency", url, "100", "15" if quick else "60"])
    for p in ("p50", "p99"):
        figures.append(
            Figure(
                f"alert_latency_{p}",
                f"alert latency {p} @100 readings/s ({res['alerts']} alerts, fsync incl.)",
                res[f"{p}_ms"],
                "ms",
                "bare paho QoS 1",
                res[f"bare_{p}_ms"],
                target="< 50 ms" if p == "p99" else "",
                target_value=50.0 if p == "p99" else None,
            )
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        what, rest = argv[1], argv[2:]
        if what == "throughput":
            out = asyncio.run(throughput_child(int(rest[0]), int(rest[1]), rest[2]))
        else:
            out = asyncio.run(latency_child(rest[0], float(rest[1]), float(rest[2])))
        print(json.dumps(out))
        return 0
    return standalone(__doc__ or "", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
