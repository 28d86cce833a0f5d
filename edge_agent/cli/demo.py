"""``edge-agent demo``: the whole pipeline on three simulated sensors.

A smoke sensor in a garage, a water-level sensor beside it and a people
counter in a hall each walk through every alert level to red and back within
``--duration`` seconds. Alert timings are compressed for the demo (raise after
3 s, clear after 6 s) and the demo says so; everything else is the real
agent: the same rule packs, state machine, SQLite store and MQTT publisher.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edge_agent.cli.daemon import setup_logging, stop_on_signals

COLOURS = {"blue": "34", "yellow": "33", "orange": "38;5;208", "red": "31"}

DEMO_SENSORS: list[dict[str, Any]] = [
    {
        "id": "smoke-b1-garage",
        "scenario": "smoke",
        "rules": "smoke",
        "name": "B1 garage smoke",
        "location": {"building": "7", "floor": "B1", "zone": "garage"},
        "lag": 0.0,
    },
    {
        "id": "water-b1-garage",
        "scenario": "water",
        "rules": "water",
        "name": "B1 garage water",
        "location": {"building": "7", "floor": "B1", "zone": "garage ramp"},
        "lag": 2.0,
    },
    {
        "id": "crowd-hall-1",
        "scenario": "crowd",
        "rules": "crowd",
        "name": "Hall entrance",
        "location": {"building": "3", "floor": "1", "zone": "activity hall"},
        "lag": 4.0,
    },
]


def demo_config_data(
    broker: str,
    state_dir: Path,
    duration: float,
    locale: str,
    *,
    cap: bool = False,
    homeassistant: bool = False,
    interval_s: float = 1.0,
) -> dict[str, Any]:
    """The demo's config, as a config file would hold it (validated like one)."""
    cycle = max(30.0, duration)
    sensors = []
    for s in DEMO_SENSORS:
        sensors.append(
            {
                "id": s["id"],
                "driver": "sim",
                "scenario": s["scenario"],
                "rules": s["rules"],
                "name": s["name"],
                "location": s["location"],
                "cycle_s": cycle,
                "interval_s": interval_s,
                "phase_s": (cycle - s["lag"]) % cycle,
                "overrides": {"raise_after_s": 3.0, "clear_after_s": 6.0},
            }
        )
    return {
        "agent": {
            "site_id": "demo-site",
            "device_id": "demo-pi",
            "state_dir": str(state_dir),
            "locale": locale,
        },
        "mqtt": {"url": broker, "backoff_initial_s": 0.5, "backoff_max_s": 5.0, "keepalive_s": 10},
        "telemetry": {"interval_s": 10.0, "alert_interval_s": 5.0},
        "store": {"reading_batch_s": 2.0},
        "cap": {"enabled": cap},
        "homeassistant": {"enabled": homeassistant},
        "sensors": sensors,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent demo",
        description="Run the full pipeline on simulated smoke, water and crowd sensors. Each "
        "hazard rises through blue, yellow, orange and red and clears within --duration. Alert "
        "events are printed as they happen and published to --broker; with no broker they are "
        "kept and delivered once one appears.",
    )
    parser.add_argument(
        "--broker",
        default="mqtt://localhost:1883",
        help="MQTT broker URL (default mqtt://localhost:1883)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds to run; one full rise-and-clear cycle (default 60)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="keep the SQLite store here (default: a fresh temporary folder)",
    )
    parser.add_argument(
        "--lang",
        choices=("zh-CN", "en"),
        default="zh-CN",
        help="language of alert text (default zh-CN)",
    )
    parser.add_argument("--cap", action="store_true", help="also publish CAP 1.2 XML")
    parser.add_argument(
        "--homeassistant",
        action="store_true",
        help="announce entities by Home Assistant MQTT discovery",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    if args.duration < 30:
        parser.error("--duration must be at least 30 s (one cycle needs time to rise and clear)")
    setup_logging(args.verbose)

    from edge_agent.config.load import build_config
    from edge_agent.errors import ConfigError

    tmp = None
    state_dir = args.state_dir
    if state_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="edge-agent-demo-")
        state_dir = Path(tmp.name)
    try:
        config = build_config(
            demo_config_data(
                args.broker,
                state_dir,
                args.duration,
                args.lang,
                cap=args.cap,
                homeassistant=args.homeassistant,
            )
        )
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    try:
        return asyncio.run(_demo(config, args.duration))
    finally:
        if tmp is not None:
            tmp.cleanup()


async def _demo(config: Any, duration: float) -> int:
    from edge_agent.mqtt.publisher import LinkState
    from edge_agent.pipeline.agent import Agent, AgentHooks

    colour = sys.stdout.isatty()
    start = time.monotonic()
    counts: dict[str, int] = {}
    worst: dict[str, str] = {}

    def on_event(p: dict[str, Any]) -> None:
        counts[p["event"]] = counts.get(p["event"], 0) + 1
        if p["level"]:
            worst[p["hazard"]] = max(
                worst.get(p["hazard"], "blue"),
                p["level"],
                key=["blue", "yellow", "orange", "red"].index,
            )
        level = (p["level"] or "clear").upper()
        if colour and p["level"]:
            level = f"\033[{COLOURS[p['level']]}m{level}\033[0m"
        t = time.monotonic() - start
        print(
            f"[{t:5.1f}s] seq {p['seq']:>3}  {p['event']:<12} {level:<7} {p['title']}", flush=True
        )

    seen = {"state": ""}

    def on_link(s: LinkState) -> None:
        if s.state == "connected" and seen["state"] != "connected":
            print(f"broker: connected to {config.mqtt.url}; delivering alert events", flush=True)
        elif s.state == "disconnected" and seen["state"] != "disconnected":
            print(
                f"broker: {config.mqtt.url} is not reachable ({s.last_error}). Alerts are "
                "kept on disk and will be delivered when a broker appears.",
                flush=True,
            )
        if s.state in ("connected", "disconnected"):
            seen["state"] = s.state

    print(
        f"edge-agent demo: 3 simulated sensors for {duration:g} s (alert timings compressed "
        f"for the demo: raise after 3 s, clear after 6 s). Store: {config.agent.state_dir}",
        flush=True,
    )
    stop = asyncio.Event()
    stop_on_signals(stop)
    agent = Agent(config, hooks=AgentHooks(on_event=on_event, on_link=on_link))
    await agent.start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration)
        await _drain(agent, timeout=10.0)
    finally:
        await agent.stop()
    store_left = await _backlog(config)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no events"
    reached = ", ".join(f"{h} {lvl}" for h, lvl in sorted(worst.items())) or "none"
    print(
        f"demo finished: {summary}; worst levels: {reached}; undelivered in outbox: {store_left}",
        flush=True,
    )
    return 0


async def _drain(agent: Any, timeout: float) -> None:
    """Give the publisher a moment to deliver what is left, if it is connected."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and agent.publisher is not None and agent.publisher.connected:
        store = agent.runner.store
        backlog = await agent.runner.call(store.backlog)
        if not any(k != "telemetry" and v["rows"] for k, v in backlog.items()):
            return
        await asyncio.sleep(0.2)


async def _backlog(config: Any) -> str:
    from edge_agent.cli.status import connect_readonly

    conn, _ = connect_readonly(config.agent.state_dir)
    try:
        rows = conn.execute("SELECT kind, count(*) FROM outbox GROUP BY kind").fetchall()
    finally:
        conn.close()
    return ", ".join(f"{k} {n}" for k, n in rows) or "none"
