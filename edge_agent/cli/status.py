"""``edge-agent status [--config PATH] [--state-dir DIR] [--json]``: what the node is doing now.

Reads the state directory's SQLite store *read-only* and says what staff and
installers ask first: which alerts are open, what is still waiting for the
broker (and what was shed), when something last reached the broker, whether
the broker link is up, what each sensor last read, and which agent (version,
boot, start time, clock) wrote it all.

It never imports river, numpy or paho, and deliberately not
``edge_agent.store.db`` either (that pulls in sqlite-utils and, through it,
numpy): ``status`` must answer at once on a loaded Pi Zero. It does not run
the full config validation either, only reads ``[agent].state_dir``, so a
config with an unrelated mistake (or a password file staff may not read) does
not hide the node's state.

Broker link contract (meta keys the daemon writes when its link changes;
``status`` says "unknown" while they are absent):

- ``broker_state``: ``starting`` | ``connecting`` | ``connected`` |
  ``disconnected`` | ``stopped`` (the daemon writes ``stopped`` on a clean stop);
- ``broker_state_ts``: ISO 8601 UTC time the link entered that state;
- ``broker_error``: the last connection error text (empty or absent when none).

Exit status: 0 when the store was read, 1 when there is no store or it cannot
be read, 2 on usage or config errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from edge_agent.errors import ConfigError, StoreError
from edge_agent.model import Level

T = TypeVar("T")

#: Same file name as ``edge_agent.store.db.DB_NAME``; repeated here so this command never
#: imports the store module (sqlite-utils, numpy).
DB_NAME = "edge-agent.db"
DEFAULT_CONFIG = Path("/etc/edge-agent/edge-agent.toml")
DEFAULT_STATE_DIR = "/var/lib/edge-agent"
BROKER_STATES = ("starting", "connecting", "connected", "disconnected", "stopped")


# -- finding and opening the store (shared with ``audit``) -------------------------------------


def add_location_args(parser: argparse.ArgumentParser) -> None:
    """``--config`` / ``--state-dir``: where the store is. Shared by status and audit."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--config",
        metavar="PATH",
        help=f"agent config; its [agent].state_dir names the store (default {DEFAULT_CONFIG})",
    )
    where.add_argument(
        "--state-dir",
        metavar="DIR",
        help="read this state directory directly instead of the config's",
    )


def state_dir_from(config: str | None, state_dir: str | None) -> Path:
    """The state directory named by ``--state-dir``, else by the config's ``[agent].state_dir``.

    Relative paths in the config are relative to the config file, as for the
    daemon. Raises ConfigError naming the file and key when it cannot tell.
    """
    if state_dir:
        return Path(state_dir).expanduser()
    path = Path(config).expanduser() if config else DEFAULT_CONFIG
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        hint = "" if config else " (pass --config PATH or --state-dir DIR)"
        raise ConfigError([f"{path}: config file not found{hint}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    agent = data.get("agent", {})
    if not isinstance(agent, dict):
        raise ConfigError([f"{path}: agent: must be a table ([agent])"])
    value = agent.get("state_dir", DEFAULT_STATE_DIR)
    if not isinstance(value, str) or not value:
        raise ConfigError([f"{path}: agent.state_dir: must be a non-empty string (a folder)"])
    found = Path(value).expanduser()
    return found if found.is_absolute() else path.resolve().parent / found


def connect_readonly(state_dir: Path) -> tuple[sqlite3.Connection, str | None]:
    """A read-only connection to the store, and a caveat to show when the read may be stale.

    Never creates files in the state directory: with no ``-wal`` file (the
    agent is stopped and checkpointed) the database is opened ``immutable``,
    because a plain read-only open would create ``-wal``/``-shm`` files owned
    by whoever runs ``status`` (root, say) that the daemon could then not
    write. While the agent runs its ``-wal`` exists and a normal read-only
    connection sees every committed row without blocking the daemon.
    """
    path = state_dir / DB_NAME
    if not path.exists():
        if not state_dir.exists():
            raise StoreError(
                f"no state directory {state_dir}: has the agent run with this state_dir?"
            )
        raise StoreError(f"no store at {path}: has the agent run with this state_dir?")
    wal = Path(f"{path}-wal")
    caveat = None
    try:
        if wal.exists():
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            conn.execute("PRAGMA busy_timeout=5000")
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # The WAL index cannot be opened by this user (no write access to the
                # folder): read the main file alone; the latest commits may be missing.
                conn.close()
                conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
                caveat = (
                    f"{wal} could not be read by this user: figures may miss the "
                    "latest commits (run as the agent's user for an exact view)"
                )
        else:
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None
    if not _has_tables(conn, ("meta", "alert_state", "alert_events", "outbox", "counters")):
        conn.close()
        raise StoreError(
            f"{path} is not an edge-agent store (tables missing): has the agent "
            "run with this state_dir?"
        )
    return conn, caveat


class StoreUnavailable(Exception):
    """The store could not be found or read; the reason was printed. ``code`` is the exit code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def read_store(
    prog: str,
    config: str | None,
    state_dir_arg: str | None,
    read: Callable[[sqlite3.Connection, Path], T],
) -> tuple[T, str | None]:
    """Find the store (from --config or --state-dir), read it with ``read``, close it.

    Returns what ``read`` returned and the caveat of :func:`connect_readonly`.
    Problems are printed for the person at the terminal and raised as
    :class:`StoreUnavailable`: 2 for a config that names no usable state
    directory, 1 for a store that is missing or unreadable.
    """
    try:
        state_dir = state_dir_from(config, state_dir_arg)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        raise StoreUnavailable(2) from None
    try:
        conn, caveat = connect_readonly(state_dir)
    except StoreError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        raise StoreUnavailable(1) from None
    try:
        return read(conn, state_dir), caveat
    except sqlite3.DatabaseError as exc:
        print(f"{prog}: cannot read {state_dir / DB_NAME}: {exc}", file=sys.stderr)
        raise StoreUnavailable(1) from None
    finally:
        conn.close()


def _has_tables(conn: sqlite3.Connection, names: Sequence[str]) -> bool:
    found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return set(names) <= found


def parse_ts(text: str | None) -> datetime | None:
    """An ISO 8601 stamp from the store as an aware UTC datetime (None if absent or bad)."""
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)


def iso_z(text: str | None) -> str | None:
    """Normalise a stored stamp to ``2026-03-01T08:00:00.123Z`` (unparseable ones pass through)."""
    ts = parse_ts(text)
    if ts is None:
        return text or None
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- gathering ---------------------------------------------------------------------------------


def collect(conn: sqlite3.Connection, state_dir: Path) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data (this is also the ``--json`` output)."""
    meta = {r[0]: r[1] for r in conn.execute("SELECT key, value FROM meta")}
    counters = {r[0]: int(r[1]) for r in conn.execute("SELECT name, value FROM counters")}
    synced = meta.get("clock_synced")
    report: dict[str, Any] = {
        "state_dir": str(state_dir),
        "db": str(state_dir / DB_NAME),
        "agent": {
            "version": meta.get("version"),
            "boot_id": meta.get("boot_id"),
            "started_ts": iso_z(meta.get("started_ts")),
            "clock_synced": None if synced is None else synced.lower() == "true",
            "config": meta.get("config") or None,
            # The daemon's open connection keeps the -wal file; a clean stop removes it.
            "running": None if Path(f"{state_dir / DB_NAME}-wal").exists() else False,
        },
        "broker": _broker(meta),
        "last_publish_ts": iso_z(meta.get("last_publish_ts")),
        "active_alerts": _active_alerts(conn),
        "outbox": _outbox(conn),
        "shed": {"rows": counters.get("shed_rows", 0), "bytes": counters.get("shed_bytes", 0)},
        "alert_events": counters.get("alert_seq", 0),
        "last_readings": _last_readings(conn),
    }
    return report


def _broker(meta: dict[str, str]) -> dict[str, Any]:
    state = meta.get("broker_state")
    if state is None:
        return {"state": "unknown", "since": None, "error": None}
    return {
        "state": state,
        "since": iso_z(meta.get("broker_state_ts")),
        "error": meta.get("broker_error") or None,
    }


def _active_alerts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT s.sensor_id, s.hazard, s.alert_id, s.level, s.acknowledged, s.suppressed_level, "
        "(SELECT min(ts) FROM alert_events e WHERE e.alert_id = s.alert_id), "
        "l.ts, l.value, l.unit, l.seq "
        "FROM alert_state s LEFT JOIN alert_events l ON l.seq = s.updated_seq "
        "ORDER BY s.level DESC, s.sensor_id, s.hazard"
    ).fetchall()
    out = []
    for sid, hazard, alert_id, level, ack, suppressed, since, last_ts, value, unit, seq in rows:
        out.append(
            {
                "sensor_id": sid,
                "hazard": hazard,
                "alert_id": alert_id,
                "level": _label(level),
                "acknowledged": bool(ack),
                "suppressed_level": _label(suppressed),
                "since": iso_z(since),
                "updated": iso_z(last_ts),
                "value": value,
                "unit": unit,
                "seq": seq,
            }
        )
    return out


def _label(level: Any) -> str | None:
    try:
        return Level(int(level)).label
    except (TypeError, ValueError):
        return None


def _outbox(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind, n, size, refused, oldest in conn.execute(
        "SELECT kind, count(*), coalesce(sum(bytes), 0), sum(last_error IS NOT NULL), "
        "min(created_ts) FROM outbox GROUP BY kind "
        "ORDER BY min(priority), kind != 'alert', kind"
    ):
        out[kind] = {
            "rows": int(n),
            "bytes": int(size),
            "refused": int(refused or 0),
            "oldest": iso_z(oldest),
        }
    return out


def _last_readings(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT r.sensor_id, r.quantity, r.value, r.unit, r.quality, r.ts FROM readings r "
        "JOIN (SELECT sensor_id, quantity, max(id) AS id FROM readings "
        "GROUP BY sensor_id, quantity) m ON m.id = r.id ORDER BY r.sensor_id, r.quantity"
    ).fetchall()
    return [
        {
            "sensor_id": r[0],
            "quantity": r[1],
            "value": r[2],
            "unit": r[3],
            "quality": r[4],
            "ts": iso_z(r[5]),
        }
        for r in rows
    ]


# -- showing -----------------------------------------------------------------------------------


def when(text: str | None, now: datetime) -> str:
    """``2026-03-01 16:00:00 CST (5 min ago)`` in the viewer's local time; "never" for None."""
    ts = parse_ts(text)
    if ts is None:
        return text or "never"
    local = ts.astimezone()
    zone = f" {local.tzname()}" if local.tzname() else ""
    return f"{local:%Y-%m-%d %H:%M:%S}{zone} ({ago(now - ts)})"


def ago(delta: timedelta) -> str:
    s = delta.total_seconds()
    if s < 0:
        return "in the future: check the clock"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if s >= size:
            return f"{s / size:.0f} {unit} ago"
    return f"{s:.0f} s ago"


def size(n: int) -> str:
    for step, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} B"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    """Left-aligned text columns; numbers right-aligned."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(vals: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(vals, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return [line(list(headers)), *(line(r) for r in cells)]


def render_text(report: dict[str, Any], now: datetime, caveat: str | None = None) -> str:
    agent, broker = report["agent"], report["broker"]
    synced = {True: "yes", False: "NO (times may be wrong)", None: "unknown"}[agent["clock_synced"]]
    lines = [f"edge-agent status of {report['db']}"]
    if caveat:
        lines.append(f"note: {caveat}")
    boot = (agent["boot_id"] or "unknown")[:8]
    lines += [
        f"agent:         version {agent['version'] or 'unknown'}, boot {boot}, started "
        f"{when(agent['started_ts'], now)}, clock synced: {synced}",
    ]
    if agent["running"] is False:
        lines.append("               not running: the store was closed cleanly")
    if broker["state"] == "unknown":
        lines.append("broker:        unknown (this agent does not record its broker link)")
    else:
        text = f"{broker['state']}"
        if broker["since"]:
            text += f" since {when(broker['since'], now)}"
        if broker["error"]:
            text += f"; last error: {broker['error']}"
        if agent["running"] is False and broker["state"] != "stopped":
            text = f"not connected (the agent is not running); last recorded: {text}"
        lines.append(f"broker:        {text}")
    lines.append(f"last publish:  {when(report['last_publish_ts'], now)}")
    lines.append(f"alert events:  {report['alert_events']} committed since the store was made")

    active = report["active_alerts"]
    lines += ["", f"active alerts: {len(active) or 'none'}"]
    if active:
        lines += table(
            ("sensor", "hazard", "level", "since", "value", "acknowledged"),
            [
                (
                    a["sensor_id"],
                    a["hazard"],
                    a["level"],
                    when(a["since"], now),
                    _value(a["value"], a["unit"]),
                    "yes" if a["acknowledged"] else "no",
                )
                for a in active
            ],
        )

    outbox = report["outbox"]
    shed = report["shed"]
    total = sum(k["rows"] for k in outbox.values())
    lines += ["", f"outbox:        {'empty' if not total else f'{total} rows waiting'}"]
    if outbox:
        lines += table(
            ("kind", "rows", "bytes", "refused", "oldest"),
            [
                (kind, k["rows"], size(k["bytes"]), k["refused"], when(k["oldest"], now))
                for kind, k in outbox.items()
            ],
        )
    lines.append(
        f"shed:          {shed['rows']} telemetry rows ({size(shed['bytes'])}) dropped "
        "to keep the outbox bounded; alert events are never shed"
    )

    readings = report["last_readings"]
    lines += ["", f"last readings: {len(readings) or 'none stored'}"]
    if readings:
        lines += table(
            ("sensor", "quantity", "value", "quality", "at"),
            [
                (
                    r["sensor_id"],
                    r["quantity"],
                    _value(r["value"], r["unit"]),
                    r["quality"],
                    when(r["ts"], now),
                )
                for r in readings
            ],
        )
    return "\n".join(lines)


def _value(value: Any, unit: Any) -> str:
    if value is None:
        return "-"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent status",
        description="Show what the agent is doing, from its state directory (read-only, safe "
        "while the agent runs): active alerts, the outbox backlog by kind, shed telemetry, the "
        "last successful publish, the broker link, the last reading of each sensor, and the "
        "agent's version, boot and start time. Exit 1 when there is no store.",
    )
    add_location_args(parser)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the same figures) for scripts"
    )
    args = parser.parse_args(argv)
    try:
        report, caveat = read_store("edge-agent status", args.config, args.state_dir, collect)
    except StoreUnavailable as exc:
        return exc.code
    if caveat:
        report["caveat"] = caveat
    text = (
        json.dumps(report, ensure_ascii=False, indent=2)
        if args.json
        else render_text(report, datetime.now(UTC), caveat)
    )
    return write_stdout(text + "\n")


def write_stdout(text: str) -> int:
    """Write and flush; a reader that went away (``| head``) is not an error worth a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()
    return 0


def quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
