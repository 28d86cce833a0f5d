"""``edge-agent``: one command, subcommands loaded only when used.

Each subcommand lives in its own module exposing ``main(argv) -> int`` and is
imported on demand, so ``edge-agent --version`` or ``check-config`` never
pays for river, numpy or paho.
"""

from __future__ import annotations

import importlib
import sys

from edge_agent import __version__

#: name -> (module, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "edge_agent.cli.demo",
        "run the full pipeline on simulated smoke, water and crowd sensors",
    ),
    "run": ("edge_agent.cli.run", "run the agent (the daemon) with a config file"),
    "check-config": (
        "edge_agent.cli.check_config",
        "validate a config and its rule packs (exit 2 on any problem)",
    ),
    "status": ("edge_agent.cli.status", "show active alerts, outbox backlog, last readings"),
    "probe": ("edge_agent.cli.probe", "read a few values from one sensor: the wiring check"),
    "replay": (
        "edge_agent.cli.replay",
        "run recorded CSV data through detection, rules and alerts",
    ),
    "tail": ("edge_agent.cli.tail", "print alerts from a broker as people read them"),
    "audit": ("edge_agent.cli.audit", "export the audit trail of alert events and commands"),
}


def usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: edge-agent COMMAND [ARGS...]",
        "",
        "A community hazard early-warning node: sensors -> detection -> graded alerts ->",
        "SQLite -> MQTT. Run `edge-agent COMMAND --help` for a command's options.",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += [
        "",
        "options:",
        "  --version  print the version and exit",
        "  -h, --help  show this help",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"edge-agent {__version__}")
        return 0
    name, rest = args[0], args[1:]
    entry = COMMANDS.get(name)
    if entry is None:
        print(f"edge-agent: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(entry[0])
    except ModuleNotFoundError as exc:
        if exc.name != entry[0]:
            raise
        print(f"edge-agent: command {name!r} is not available in this build", file=sys.stderr)
        return 2
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
