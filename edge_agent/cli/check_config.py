"""``edge-agent check-config PATH``: validate without touching hardware or network."""

from __future__ import annotations

import argparse
import sys

from edge_agent.errors import ConfigError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent check-config",
        description="Validate a config file and the rule packs it uses. Exit 0 if valid; "
        "exit 2 with one line per problem (file:line: key.path: what is wrong).",
    )
    parser.add_argument("config", help="path to the agent's TOML config")
    args = parser.parse_args(argv)
    from edge_agent.config.load import load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        n = len(exc.problems)
        print(f"{n} problem{'s' if n != 1 else ''} found in {args.config}", file=sys.stderr)
        return 2
    sensors = ", ".join(f"{s.id} ({s.driver}, {s.pack.name})" for s in cfg.sensors) or "none"
    print(
        f"{args.config}: OK. site {cfg.agent.site_id}, device {cfg.agent.device_id}, "
        f"broker {cfg.mqtt.url}, sensors: {sensors}"
    )
    return 0
