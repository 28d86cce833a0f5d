"""``edge-agent audit``: the record a community needs after an incident.

Exports every alert event from the store's audit log (``alert_events``, which
keeps the exact payload that was published) and every command staff or
operators sent (``commands``, with its outcome), merged in time order, as CSV
(one header row, UTF-8; ``--excel`` adds a BOM so Excel and WPS show Chinese
text) or JSON (``json``: one array; ``jsonl``: one object per line).

Both kinds of record share one set of columns (:data:`COLUMNS`); a column
that does not apply is empty (CSV) or null (JSON). ``record`` says which kind
a row is: ``alert`` or ``command``. JSON records also carry ``payload``: the
alert event exactly as published, or the command as received (parsed when it
was JSON, else the raw text), so nothing is lost in the flattening.

Times: ``--since``/``--until`` take ISO 8601 (``2026-03-01``,
``2026-03-01T08:00:00+08:00``; a time without an offset is UTC) or a
duration back from now (``-24h``, ``-7d``, ``-30m``, ``-90s``, ``-2w``).
Records are ordered by ``ts``, then by alert ``seq``. Rows stamped while the
node's clock was not synced (``clock_synced`` false) may be out of place in
time; their ``seq`` order is still the true order of alert events.

Exit status: 0 on success, 1 when there is no store, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from edge_agent.cli.status import (
    StoreUnavailable,
    add_location_args,
    iso_z,
    parse_ts,
    read_store,
    write_stdout,
)

COLUMNS: tuple[str, ...] = (
    "record",
    "ts",
    "clock_synced",
    "seq",
    "alert_id",
    "site_id",
    "device_id",
    "sensor_id",
    "hazard",
    "event",
    "level",
    "value",
    "unit",
    "by",
    "note",
    "verdict",
    "command",
    "cmd_id",
    "outcome",
    "detail",
    "reason",
    "title",
    "message",
)
FORMATS = ("csv", "json", "jsonl")

_RELATIVE = re.compile(r"^-?\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)$", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeArgError(ValueError):
    """A --since/--until value that is neither ISO 8601 nor a duration."""


def parse_time_arg(option: str, text: str, now: datetime) -> datetime:
    """``-24h`` -> now minus 24 h; ``2026-03-01`` -> that midnight UTC; ``now`` -> now."""
    value = text.strip()
    if value.lower() == "now":
        return now
    m = _RELATIVE.match(value)
    if m:
        return now - timedelta(seconds=float(m.group(1)) * _UNIT_S[m.group(2).lower()])
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise TimeArgError(
            f"{option}: {text!r} is not a time: use ISO 8601 (2026-03-01, "
            "2026-03-01T08:00:00Z, 2026-03-01T16:00+08:00; no offset means UTC) or a duration "
            "back from now (-30m, -24h, -7d, -2w)"
        ) from None
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Record:
    """One audit row: its sort key, its flat columns and the original payload."""

    at: datetime
    order: tuple[int, int]
    row: dict[str, Any]
    payload: Any


def alert_records(conn: sqlite3.Connection) -> Iterable[Record]:
    for seq, ts, payload_text in conn.execute(
        "SELECT seq, ts, payload FROM alert_events ORDER BY seq"
    ):
        try:
            p = json.loads(payload_text)
        except (TypeError, json.JSONDecodeError):
            p = {}
        if not isinstance(p, dict):
            p = {}
        raw_reason = p.get("reason")
        reason: dict[str, Any] = raw_reason if isinstance(raw_reason, dict) else {}
        row = {
            "record": "alert",
            "ts": iso_z(ts),
            "clock_synced": p.get("clock_synced"),
            "seq": seq,
            **{
                k: p.get(k)
                for k in (
                    "alert_id",
                    "site_id",
                    "device_id",
                    "sensor_id",
                    "hazard",
                    "event",
                    "level",
                    "value",
                    "unit",
                    "title",
                    "message",
                )
            },
            "by": reason.get("by"),
            "note": reason.get("note"),
            "verdict": reason.get("verdict"),
            "reason": json.dumps(reason, ensure_ascii=False, sort_keys=True) if reason else None,
        }
        yield Record(_when(ts), (0, int(seq)), row, p)


def command_records(conn: sqlite3.Connection) -> Iterable[Record]:
    for row_id, ts, name, cmd_id, payload_text, outcome, detail in conn.execute(
        "SELECT id, ts, name, cmd_id, payload, outcome, detail FROM commands ORDER BY id"
    ):
        try:
            parsed: Any = json.loads(payload_text) if payload_text else None
        except json.JSONDecodeError:
            parsed = None
        args = parsed if isinstance(parsed, dict) else {}
        row = {
            "record": "command",
            "ts": iso_z(ts),
            "command": name,
            "cmd_id": cmd_id,
            "outcome": outcome,
            "detail": detail,
            **{
                k: _text(args.get(k))
                for k in ("alert_id", "sensor_id", "hazard", "by", "note", "verdict")
            },
        }
        yield Record(
            _when(ts), (1, int(row_id)), row, parsed if parsed is not None else payload_text
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _when(ts: str | None) -> datetime:
    return parse_ts(ts) or datetime.min.replace(tzinfo=UTC)


def collect(
    conn: sqlite3.Connection, since: datetime | None, until: datetime | None
) -> list[Record]:
    """Alert events and commands in [since, until], merged in time order."""
    records = [*alert_records(conn), *command_records(conn)]
    records = [
        r for r in records if (since is None or r.at >= since) and (until is None or r.at <= until)
    ]
    records.sort(key=lambda r: (r.at, r.order))
    return records


def write(records: list[Record], fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for r in records:
            writer.writerow({k: _csv_cell(r.row.get(k)) for k in COLUMNS})
        return
    rows = [{**{k: r.row.get(k) for k in COLUMNS}, "payload": r.payload} for r in records]
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        out.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _join_dash_values(argv: list[str]) -> list[str]:
    """``--since -24h`` -> ``--since=-24h``: argparse would take ``-24h`` for an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--since", "--until") and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent audit",
        description="Export the audit trail: every alert event (seq, time, alert, sensor, "
        "hazard, event, level, value, who acknowledged or resolved it with note and verdict, "
        "the message people received) and every command with its outcome, in time order. "
        "Reads the store read-only; safe while the agent runs.",
        epilog="Times: ISO 8601 (2026-03-01, 2026-03-01T08:00:00Z; no offset means UTC) or a "
        "duration back from now (-30m, -24h, -7d, -2w). Formats: csv (header row), json (one "
        "array), jsonl (one object per line); JSON records add the original payload.",
    )
    add_location_args(parser)
    parser.add_argument("--since", metavar="TIME", help="only records at or after TIME")
    parser.add_argument("--until", metavar="TIME", help="only records at or before TIME")
    parser.add_argument(
        "--format", choices=FORMATS, default="csv", help="output format (default csv)"
    )
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument(
        "--excel", action="store_true", help="CSV with a UTF-8 byte-order mark, for Excel and WPS"
    )
    args = parser.parse_args(_join_dash_values(argv))

    now = datetime.now(UTC)
    try:
        since = parse_time_arg("--since", args.since, now) if args.since is not None else None
        until = parse_time_arg("--until", args.until, now) if args.until is not None else None
    except TimeArgError as exc:
        parser.error(str(exc))
    if since and until and until < since:
        parser.error(
            f"--until ({iso_z(until.isoformat())}) is before --since ({iso_z(since.isoformat())})"
        )
    try:
        records, caveat = read_store(
            "edge-agent audit",
            args.config,
            args.state_dir,
            lambda conn, _state_dir: collect(conn, since, until),
        )
    except StoreUnavailable as exc:
        return exc.code
    if caveat:
        print(f"edge-agent audit: note: {caveat}", file=sys.stderr)

    buf = io.StringIO(newline="")
    write(records, args.format, buf)
    text = buf.getvalue()
    if args.output:
        encoding = "utf-8-sig" if args.excel and args.format == "csv" else "utf-8"
        try:
            Path(args.output).write_text(text, encoding=encoding, newline="")
        except OSError as exc:
            print(
                f"edge-agent audit: cannot write {args.output}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
        n_alerts = sum(r.row["record"] == "alert" for r in records)
        print(
            f"edge-agent audit: wrote {n_alerts} alert events and "
            f"{len(records) - n_alerts} commands to {args.output}",
            file=sys.stderr,
        )
    else:
        if args.excel and args.format == "csv":
            text = "\ufeff" + text
        return write_stdout(text)
    return 0
