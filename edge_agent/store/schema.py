"""The SQLite schema, as numbered migrations recorded in ``_migrations``.

A migration is applied once, inside a transaction, and never edited after
release: a node upgraded in the field replays only the ones it lacks. Tables
are created with sqlite-utils so column types and indexes read plainly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

Migration = tuple[int, str, Callable[[sqlite_utils.Database], None]]


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.table("counters").create({"name": str, "value": int}, pk="name")
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("readings").create(
        {
            "id": int,
            "sensor_id": str,
            "quantity": str,
            "value": float,
            "unit": str,
            "quality": str,
            "score": float,
            "ts": str,
            "clock_synced": int,
            "t_mono": float,
            "boot_id": str,
        },
        pk="id",
    )
    db.table("readings").create_index(["sensor_id", "id"])
    # The audit log: every alert event ever committed, by seq.
    db.table("alert_events").create(
        {
            "seq": int,
            "alert_id": str,
            "sensor_id": str,
            "hazard": str,
            "event": str,
            "level": str,
            "value": float,
            "unit": str,
            "reason": str,
            "ts": str,
            "clock_synced": int,
            "t_mono": float,
            "boot_id": str,
            "payload": str,
        },
        pk="seq",
    )
    db.table("alert_events").create_index(["alert_id"])
    db.table("alert_events").create_index(["ts"])
    db.table("alert_state").create(
        {
            "sensor_id": str,
            "hazard": str,
            "alert_id": str,
            "level": int,
            "acknowledged": int,
            "suppressed_level": int,
            "updated_seq": int,
        },
        pk=("sensor_id", "hazard"),
    )
    # The outbox: the single source of truth for what must still reach the broker.
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            priority INTEGER NOT NULL,
            topic TEXT NOT NULL,
            payload BLOB NOT NULL,
            qos INTEGER NOT NULL,
            retain INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            created_ts TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )"""
    )
    db.table("outbox").create_index(["priority", "id"])
    db.table("outbox").create_index(["topic"])
    db.table("commands").create(
        {
            "id": int,
            "ts": str,
            "name": str,
            "cmd_id": str,
            "payload": str,
            "outcome": str,
            "detail": str,
        },
        pk="id",
    )
    db.table("commands").create_index(["ts"])
    db.table("checkpoints").create(
        {"sensor_id": str, "quantity": str, "fingerprint": str, "state": bytes, "saved_ts": str},
        pk=("sensor_id", "quantity"),
    )
    for name in ("alert_seq", "telemetry_seq", "shed_rows", "shed_bytes"):
        db.table("counters").insert({"name": name, "value": 0})


def _v2_pressure_counters(db: sqlite_utils.Database) -> None:
    # Readings shed to make room when the disk (or max_db_bytes) is full, and
    # how often a write failed for lack of space or an I/O error.
    for name in ("readings_shed", "write_errors"):
        db.conn.execute("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)", (name,))


MIGRATIONS: list[Migration] = [
    (1, "initial schema", _v1_initial),
    (2, "storage pressure counters", _v2_pressure_counters),
]


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply missing migrations in order; return the versions applied."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM _migrations")}
    applied = []
    for version, name, fn in MIGRATIONS:
        if version in done:
            continue
        with db.atomic():
            fn(db)
            conn.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat()),
            )
        applied.append(version)
    return applied


def schema_version(db: sqlite_utils.Database) -> int:
    row = db.conn.execute("SELECT max(version) FROM _migrations").fetchone()
    return int(row[0] or 0)
