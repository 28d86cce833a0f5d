"""The SQLite store: readings, the alert audit log, open alerts, the outbox.

One :class:`Store` owns one connection and is used from one thread only
(:class:`~edge_agent.store.runner.StoreRunner` gives it that thread). WAL with
``synchronous=FULL`` makes every commit durable on return, which is what an
alert event needs before anyone is told about it; readings are written in
batches so the SD card sees few syncs.

The outbox is the single source of truth for delivery: a row leaves only
after the broker acknowledged it. It is bounded by bytes: past the bound (or
below the free-disk reserve) the oldest telemetry is shed and counted; alert
events are never shed.

Delivery bookkeeping (rows marked attempted or done) and raw readings are
committed with ``synchronous=NORMAL``: in WAL mode the next FULL commit
syncs them too, and losing them to a power cut costs at worst a resend (a
duplicate, which consumers drop) or the last batch of raw readings. Alert
events, their outbox rows and telemetry seqs are committed with FULL.

When a write fails because the disk (or ``max_db_bytes``) is full, the store
sheds telemetry from the outbox and the oldest raw readings, and tries
again; alert events are never shed. ``pressure`` tells the agent so it can
raise a ``device`` alert.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from edge_agent.errors import StoreError
from edge_agent.model import AlertEvent, Hazard, Level
from edge_agent.pipeline.alerts import OpenAlert
from edge_agent.store.schema import migrate

#: SQLite primary result codes we treat as storage pressure, not as bugs.
SQLITE_IOERR = 10
SQLITE_FULL = 13


class StoreFull(StoreError):
    """A write failed for lack of space (or an I/O error) even after shedding."""


def is_pressure(exc: BaseException) -> bool:
    """True for "disk full" and I/O errors: conditions to survive, not to crash on."""
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (SQLITE_FULL, SQLITE_IOERR):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "disk i/o error" in text


DB_NAME = "edge-agent.db"
T = TypeVar("T")

#: Outbox priorities: lower is sent first.
PRIORITY_ALERT = 0
PRIORITY_CONTROL = 1
PRIORITY_TELEMETRY = 2


@dataclass(frozen=True, slots=True)
class OutboxRow:
    kind: str  # "alert", "active", "cap", "cmd_result", "telemetry", "discovery"
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    priority: int = PRIORITY_ALERT


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    topic: str
    payload: bytes
    qos: int
    retain: bool
    attempts: int


@dataclass(slots=True)
class EventCommit:
    """An alert event to commit, its outbox rows rendered once its seq is known."""

    event: AlertEvent
    render: Callable[[AlertEvent], tuple[dict[str, Any], list[OutboxRow]]]
    state_after: OpenAlert | None
    #: Retained topic that carries the sensor's worst open alert (empty when none).
    active_topic: str | None = None


@dataclass(frozen=True, slots=True)
class Committed:
    seq: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpenReport:
    """What happened when the store was opened; the agent turns problems into device alerts."""

    path: Path
    created: bool
    migrations: list[int]
    moved_aside: Path | None = None
    problem: str | None = None


class Store:
    """Synchronous store; call from one thread only."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, *, outbox_max_bytes: int, min_free_bytes: int
    ) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.path = path
        self.outbox_max_bytes = outbox_max_bytes
        self.min_free_bytes = min_free_bytes
        self._outbox_bytes = int(
            conn.execute("SELECT coalesce(sum(bytes), 0) FROM outbox").fetchone()[0]
        )
        self._disk_checked = -1e18
        self._disk_low = False
        #: Storage pressure seen so far: episodes and the last error (for device alerts).
        self.pressure_count = 0
        self.pressure_error: str | None = None

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        outbox_max_bytes: int = 64 * 1024 * 1024,
        min_free_bytes: int = 0,
        max_db_bytes: int = 0,
    ) -> tuple[Store, OpenReport]:
        """Open (creating or migrating) the store in ``state_dir``.

        A database that fails ``quick_check`` is moved aside with its WAL and a
        fresh one is started: a warning node must keep warning, and the report
        says what happened so an operator is told.
        """
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create state directory {state_dir}: {exc}") from exc
        path = state_dir / DB_NAME
        created = not path.exists()
        moved, problem = None, None
        try:
            conn = _connect(path)
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                conn.close()
                raise sqlite3.DatabaseError(f"quick_check: {ok}")
        except sqlite3.DatabaseError as exc:
            problem = f"database {path} is corrupt ({exc}); moved aside, started a fresh one"
            moved = _move_aside(path)
            conn = _connect(path)
            created = True
        try:
            applied = migrate(sqlite_utils.Database(conn))
            if moved is not None:
                _continue_seqs(conn, moved)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"cannot migrate {path}: {exc}") from exc
        if max_db_bytes > 0:
            page = int(conn.execute("PRAGMA page_size").fetchone()[0])
            conn.execute(f"PRAGMA max_page_count={max(16, max_db_bytes // page)}")
        store = cls(conn, path, outbox_max_bytes=outbox_max_bytes, min_free_bytes=min_free_bytes)
        return store, OpenReport(path, created, applied, moved, problem)

    # -- durability levels and storage pressure ------------------------------------------------

    @contextlib.contextmanager
    def _relaxed(self) -> Iterator[None]:
        """Commit without an fsync of its own (the next FULL commit syncs it in WAL mode)."""
        self.conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA synchronous=FULL")

    def _under_pressure(self, fn: Callable[[], T]) -> T:
        """Run a write; on disk full / I/O error shed telemetry and readings, then retry once."""
        try:
            return fn()
        except sqlite3.DatabaseError as exc:
            if not is_pressure(exc):
                raise
            self._note_pressure(exc)
            self.make_room()
            try:
                return fn()
            except sqlite3.DatabaseError as exc2:
                if not is_pressure(exc2):
                    raise
                self._note_pressure(exc2)
                raise StoreFull(f"cannot write to {self.path}: {exc2}") from exc2

    def _note_pressure(self, exc: BaseException) -> None:
        self.pressure_count += 1
        self.pressure_error = str(exc)
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("UPDATE counters SET value = value + 1 WHERE name='write_errors'")

    def make_room(self) -> int:
        """Shed every telemetry row of the outbox and the older half of raw readings.

        Alert events, their outbox rows and alert state are never touched.
        Freed pages are reused by SQLite, so this helps under ``max_db_bytes``
        and on a full disk alike. Returns rows removed.
        """
        removed = 0
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")
        try:
            with self._relaxed(), self.db.atomic():
                row = self.conn.execute(
                    "SELECT count(*), coalesce(sum(bytes), 0) FROM outbox WHERE kind='telemetry'"
                ).fetchone()
                self.conn.execute("DELETE FROM outbox WHERE kind='telemetry'")
                self._outbox_bytes -= int(row[1])
                self._add("shed_rows", int(row[0]))
                self._add("shed_bytes", int(row[1]))
                removed += int(row[0])
                n_readings = int(self.conn.execute("SELECT count(*) FROM readings").fetchone()[0])
                if n_readings:
                    cut = self.conn.execute(
                        "SELECT id FROM readings ORDER BY id LIMIT 1 OFFSET ?",
                        (n_readings // 2,),
                    ).fetchone()[0]
                    gone = self.conn.execute("DELETE FROM readings WHERE id <= ?", (cut,)).rowcount
                    self._add("readings_shed", gone)
                    removed += gone
        except sqlite3.DatabaseError:
            # Even the delete could not be logged: nothing more to do here; the
            # caller reports StoreFull and keeps its alert events in memory.
            return 0
        return removed

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()

    # -- alert events ---------------------------------------------------------------------

    def commit_events(self, items: Sequence[EventCommit], boot_id: str) -> list[Committed]:
        """Assign seqs and commit events, audit rows, alert state and outbox rows durably.

        Raises :class:`StoreFull` when even shedding telemetry and readings
        left no room; the caller keeps the events and tries again.
        """
        return self._under_pressure(lambda: self._commit_events(items, boot_id))

    def _commit_events(self, items: Sequence[EventCommit], boot_id: str) -> list[Committed]:
        out: list[Committed] = []
        with self.db.atomic():
            for item in items:
                ev = item.event
                seq = self._next("alert_seq")
                ev.seq = seq
                if ev.event.value != "raised":
                    first = self.conn.execute(
                        "SELECT payload FROM alert_events WHERE alert_id = ? ORDER BY seq LIMIT 1",
                        (ev.alert_id,),
                    ).fetchone()
                    if first is not None:
                        ev.extra["first_payload"] = json.loads(first[0])
                payload, rows = item.render(ev)
                self.conn.execute(
                    "INSERT INTO alert_events (seq, alert_id, sensor_id, hazard, event, level, "
                    "value, unit, reason, ts, clock_synced, t_mono, boot_id, payload) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        seq,
                        ev.alert_id,
                        ev.sensor_id,
                        ev.hazard.value,
                        ev.event.value,
                        ev.level.label,
                        ev.value,
                        ev.unit,
                        json.dumps(ev.reason, ensure_ascii=False),
                        ev.ts.isoformat(),
                        int(ev.clock_synced),
                        ev.t_mono,
                        boot_id,
                        json.dumps(payload, ensure_ascii=False),
                    ),
                )
                st = item.state_after
                if st is None:
                    self.conn.execute(
                        "DELETE FROM alert_state WHERE sensor_id=? AND hazard=?",
                        (ev.sensor_id, ev.hazard.value),
                    )
                else:
                    self.conn.execute(
                        "INSERT OR REPLACE INTO alert_state (sensor_id, hazard, alert_id, level, "
                        "acknowledged, suppressed_level, updated_seq) VALUES (?,?,?,?,?,?,?)",
                        (
                            st.sensor_id,
                            st.hazard.value,
                            st.alert_id,
                            int(st.level),
                            int(st.acknowledged),
                            int(st.suppressed_level),
                            seq,
                        ),
                    )
                for row in rows:
                    self._enqueue(row)
                if item.active_topic:
                    latest = self.latest_open_event(ev.sensor_id)
                    body = (
                        b""
                        if latest is None
                        else json.dumps(latest, ensure_ascii=False, separators=(",", ":")).encode(
                            "utf-8"
                        )
                    )
                    self._enqueue(OutboxRow("active", item.active_topic, body, retain=True))
                out.append(Committed(seq, payload))
        return out

    def latest_open_event(self, sensor_id: str) -> dict[str, Any] | None:
        """The latest event payload of the worst open alert on a sensor (for the retained topic)."""
        row = self.conn.execute(
            "SELECT e.payload FROM alert_state s JOIN alert_events e ON e.seq = s.updated_seq "
            "WHERE s.sensor_id = ? ORDER BY s.level DESC, s.updated_seq DESC LIMIT 1",
            (sensor_id,),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def open_alerts(self) -> list[OpenAlert]:
        rows = self.conn.execute(
            "SELECT sensor_id, hazard, alert_id, level, acknowledged, suppressed_level "
            "FROM alert_state"
        ).fetchall()
        return [
            OpenAlert(r[0], Hazard(r[1]), r[2], Level(r[3]), bool(r[4]), Level(r[5])) for r in rows
        ]

    # -- readings and telemetry -------------------------------------------------------------

    def add_readings(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert a batch of readings in one transaction (no fsync of its own)."""

        def write() -> int:
            with self._relaxed(), self.db.atomic():
                cur = self.conn.executemany(
                    "INSERT INTO readings (sensor_id, quantity, value, unit, quality, score, ts, "
                    "clock_synced, t_mono, boot_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            return int(cur.rowcount)

        return self._under_pressure(write)

    def prune_readings(
        self, *, boot_id: str, older_than_mono: float, older_than_ts: datetime | None
    ) -> int:
        """Drop raw readings past retention.

        This boot's readings are judged on the monotonic clock, earlier boots'
        on the wall clock and only when it is synced, so a clock jump never
        expires data wrongly.
        """
        with self.db.atomic():
            n = self.conn.execute(
                "DELETE FROM readings WHERE boot_id = ? AND t_mono < ?", (boot_id, older_than_mono)
            ).rowcount
            if older_than_ts is not None:
                n += self.conn.execute(
                    "DELETE FROM readings WHERE boot_id != ? AND ts < ?",
                    (boot_id, older_than_ts.isoformat()),
                ).rowcount
        return n

    def add_telemetry(self, renders: Sequence[Callable[[int], OutboxRow]]) -> int:
        """Enqueue telemetry rows (each rendered with its telemetry seq); return rows shed."""

        def write() -> int:
            with self.db.atomic():
                for render in renders:
                    self._enqueue(render(self._next("telemetry_seq")))
                return self._shed_if_needed()

        return self._under_pressure(write)

    def enqueue(self, rows: Sequence[OutboxRow]) -> None:
        def write() -> None:
            with self.db.atomic():
                for row in rows:
                    self._enqueue(row)

        self._under_pressure(write)

    # -- outbox --------------------------------------------------------------------------------

    def _enqueue(self, row: OutboxRow) -> None:
        if row.retain:
            # A newer retained state supersedes undelivered older ones for the same
            # topic; otherwise a resend after reconnect could re-retain a stale state.
            freed = self.conn.execute(
                "SELECT coalesce(sum(bytes), 0) FROM outbox WHERE topic = ? AND attempts = 0",
                (row.topic,),
            ).fetchone()[0]
            self.conn.execute("DELETE FROM outbox WHERE topic = ? AND attempts = 0", (row.topic,))
            self._outbox_bytes -= int(freed)
        size = len(row.payload) + len(row.topic) + 64
        self.conn.execute(
            "INSERT INTO outbox (kind, priority, topic, payload, qos, retain, bytes, created_ts) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (
                row.kind,
                row.priority,
                row.topic,
                row.payload,
                row.qos,
                int(row.retain),
                size,
                datetime.now(UTC).isoformat(),
            ),
        )
        self._outbox_bytes += size

    def _shed_if_needed(self) -> int:
        """Shed the oldest telemetry while over the byte bound or the disk reserve."""
        over = self._outbox_bytes - self.outbox_max_bytes
        if self._disk_is_low():
            over = max(over, 1)
        if over <= 0:
            return 0
        shed_rows = shed_bytes = 0
        rows = self.conn.execute(
            "SELECT id, bytes FROM outbox WHERE kind = 'telemetry' AND attempts = 0 ORDER BY id"
        ).fetchall()
        doomed = []
        for row_id, size in rows:
            if shed_bytes >= over:
                break
            doomed.append((row_id,))
            shed_rows += 1
            shed_bytes += size
        if doomed:
            self.conn.executemany("DELETE FROM outbox WHERE id = ?", doomed)
            self._outbox_bytes -= shed_bytes
            self._add("shed_rows", shed_rows)
            self._add("shed_bytes", shed_bytes)
        return shed_rows

    def _disk_is_low(self) -> bool:
        if self.min_free_bytes <= 0:
            return False
        now = time.monotonic()
        if now - self._disk_checked > 10.0:
            self._disk_checked = now
            try:
                self._disk_low = shutil.disk_usage(self.path.parent).free < self.min_free_bytes
            except OSError:
                self._disk_low = False
        return self._disk_low

    def outbox_batch(self, limit: int, exclude: Iterable[int] = ()) -> list[OutboxItem]:
        """The next rows to send: alert events first, then by age.

        Reading writes nothing: a row that may be in flight can still be shed
        (telemetry) or superseded (a newer retained state); its PUBACK then
        finds no row and does nothing, which is right either way.
        """
        skip = sorted(set(exclude))
        rows = self.conn.execute(
            "SELECT id, kind, topic, payload, qos, retain, attempts FROM outbox "
            f"WHERE last_error IS NULL AND id NOT IN ({','.join('?' * len(skip))}) "
            "ORDER BY priority, id LIMIT ?",
            (*skip, limit),
        ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5]), r[6]) for r in rows]

    def outbox_done(self, ids: Sequence[int]) -> None:
        """Acknowledged rows leave the outbox, with older rows of the same retained topic."""
        if not ids:
            return
        with self._relaxed(), self.db.atomic():
            marks = ",".join("?" * len(ids))
            rows = self.conn.execute(
                f"SELECT id, topic, retain, bytes FROM outbox WHERE id IN ({marks})", list(ids)
            ).fetchall()
            for row_id, topic, retain, _size in rows:
                if retain:
                    older = self.conn.execute(
                        "SELECT coalesce(sum(bytes), 0) FROM outbox WHERE topic = ? AND id < ?",
                        (topic, row_id),
                    ).fetchone()[0]
                    self.conn.execute(
                        "DELETE FROM outbox WHERE topic = ? AND id < ?", (topic, row_id)
                    )
                    self._outbox_bytes -= int(older)
            self.conn.execute(f"DELETE FROM outbox WHERE id IN ({marks})", list(ids))
            self._outbox_bytes -= sum(int(r[3]) for r in rows)
            self.set_meta("last_publish_ts", datetime.now(UTC).isoformat())

    def outbox_failed(self, row_id: int, error: str) -> None:
        """A row the broker refused (e.g. not authorised): parked, visible, never 'delivered'."""
        with self.db.atomic():
            self.conn.execute("UPDATE outbox SET last_error = ? WHERE id = ?", (error, row_id))

    def outbox_retry_failed(self) -> int:
        """Put parked rows back in line (after a config reload or an operator's fix)."""
        with self.db.atomic():
            return self.conn.execute(
                "UPDATE outbox SET last_error = NULL WHERE last_error IS NOT NULL"
            ).rowcount

    def backlog(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for kind, n, size, failed in self.conn.execute(
            "SELECT kind, count(*), coalesce(sum(bytes),0), "
            "sum(last_error IS NOT NULL) FROM outbox GROUP BY kind"
        ):
            out[kind] = {"rows": int(n), "bytes": int(size), "refused": int(failed or 0)}
        return out

    @property
    def outbox_bytes(self) -> int:
        return self._outbox_bytes

    # -- counters, meta, checkpoints, commands ------------------------------------------------

    def _next(self, name: str) -> int:
        row = self.conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", (name,)
        ).fetchone()
        return int(row[0])

    def _add(self, name: str, amount: int) -> None:
        self.conn.execute("UPDATE counters SET value = value + ? WHERE name = ?", (amount, name))

    def counters(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self.conn.execute("SELECT name, value FROM counters")}

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def set_meta_many(self, values: dict[str, str]) -> None:
        with self.db.atomic():
            for k, v in values.items():
                self.set_meta(k, v)

    def meta(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM meta")}

    def save_checkpoints(self, rows: Iterable[tuple[str, str, str, bytes]]) -> None:
        now = datetime.now(UTC).isoformat()
        with self.db.atomic():
            self.conn.executemany(
                "INSERT OR REPLACE INTO checkpoints (sensor_id, quantity, fingerprint, state, "
                "saved_ts) VALUES (?,?,?,?,?)",
                [(*r, now) for r in rows],
            )

    def load_checkpoints(self) -> list[tuple[str, str, str, bytes]]:
        return [
            (r[0], r[1], r[2], bytes(r[3]))
            for r in self.conn.execute(
                "SELECT sensor_id, quantity, fingerprint, state FROM checkpoints"
            )
        ]

    def record_command(
        self, name: str, cmd_id: str | None, payload: str, outcome: str, detail: str
    ) -> None:
        with self.db.atomic():
            self.conn.execute(
                "INSERT INTO commands (ts, name, cmd_id, payload, outcome, detail) "
                "VALUES (?,?,?,?,?,?)",
                (datetime.now(UTC).isoformat(), name, cmd_id, payload, outcome, detail),
            )


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit syncs the WAL, so a committed alert survives a power cut.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA journal_size_limit=4194304")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _salvage_seqs(old: Path) -> dict[str, int]:
    """Whatever seq counters can still be read from a corrupt database (best effort)."""
    found: dict[str, int] = {}
    queries = {
        "alert_seq": (
            "SELECT value FROM counters WHERE name='alert_seq'",
            "SELECT max(seq) FROM alert_events",
        ),
        "telemetry_seq": ("SELECT value FROM counters WHERE name='telemetry_seq'",),
    }
    try:
        conn = sqlite3.connect(f"file:{old}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return found
    try:
        for name, sqls in queries.items():
            for sql in sqls:
                with contextlib.suppress(sqlite3.Error, TypeError, ValueError):
                    value = int(conn.execute(sql).fetchone()[0])
                    found[name] = max(found.get(name, 0), value)
    finally:
        conn.close()
    return found


def _continue_seqs(conn: sqlite3.Connection, old: Path) -> None:
    """Start a replacement store's seqs above anything the old one can have used.

    Consumers dedupe on (device_id, seq): a fresh store restarting at 1 would
    have its alerts dropped as duplicates. The floor is the old counter where
    it can be read, and never below the current Unix time in seconds, far
    above any count of events a node makes (unless the clock is far behind
    and the old file is unreadable: docs/reliability.md).
    """
    floor = int(time_wall())
    salvaged = _salvage_seqs(old)
    with contextlib.suppress(sqlite3.Error):
        conn.execute("BEGIN")
        for name in ("alert_seq", "telemetry_seq"):
            start = max(salvaged.get(name, 0), floor)
            conn.execute("UPDATE counters SET value = ? WHERE name = ?", (start, name))
        conn.execute("COMMIT")


def time_wall() -> float:
    return time.time()


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(target) + suffix))
    return target
