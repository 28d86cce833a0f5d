"""``edge-agent check-config PATH``: validate without touching hardware or network.

Installers run this in a loop while editing, and the target is a Pi: it
parses its one argument by hand instead of importing argparse, whose imports
(gettext, locale, shutil) would add a third to its start-up time.
"""

from __future__ import annotations

import sys

from edge_agent.errors import ConfigError

USAGE = "usage: edge-agent check-config [-h] CONFIG"
HELP = f"""{USAGE}

Validate a config file and the rule packs it uses, without touching hardware or
network. Exit 0 if valid; exit 2 with one line per problem
(file:line: key.path: what is wrong).

positional arguments:
  CONFIG      path to the agent's TOML config

options:
  -h, --help  show this help message and exit"""


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(HELP)
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        what = "the config path is required" if not argv else f"unexpected {' '.join(argv)!r}"
        print(f"{USAGE}\nedge-agent check-config: error: {what}", file=sys.stderr)
        return 2
    path = argv[0]
    from edge_agent.config.load import load_config

    try:
        cfg = load_config(path)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        n = len(exc.problems)
        print(f"{n} problem{'s' if n != 1 else ''} found in {path}", file=sys.stderr)
        return 2
    sensors = ", ".join(f"{s.id} ({s.driver}, {s.pack.name})" for s in cfg.sensors) or "none"
    print(
        f"{path}: OK. site {cfg.agent.site_id}, device {cfg.agent.device_id}, "
        f"broker {cfg.mqtt.url}, sensors: {sensors}"
    )
    return 0
