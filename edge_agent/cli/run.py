"""``edge-agent run --config PATH``: the daemon."""

from __future__ import annotations

import argparse
import asyncio
import sys

from edge_agent.cli.daemon import setup_logging, stop_on_signals
from edge_agent.errors import ConfigError, StoreError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent run",
        description="Run the agent: read sensors, detect, raise graded alerts, store them, "
        "publish them over MQTT. Stops cleanly on SIGTERM/SIGINT.",
    )
    parser.add_argument("--config", required=True, help="path to the agent's TOML config")
    parser.add_argument(
        "-v", "--verbose", action="count", default=1, help="more log output (-vv for debug)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    args = parser.parse_args(argv)
    setup_logging(0 if args.quiet else args.verbose)
    from edge_agent.config.load import load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(config))
    except ConfigError as exc:  # e.g. a signing key that cannot be used, found at start
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return 1
    return 0


async def _run(config: object) -> None:
    from edge_agent.config.model import Config
    from edge_agent.pipeline.agent import Agent

    assert isinstance(config, Config)
    stop = asyncio.Event()
    stop_on_signals(stop)
    agent = Agent(config)
    await agent.run(stop)
