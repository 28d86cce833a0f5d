"""The SQLite store: durable seq, outbox order and bounds, retained supersede, corruption."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from edge_agent.model import AlertEvent, EventKind, Hazard, Level
from edge_agent.pipeline.alerts import OpenAlert
from edge_agent.store.db import (
    PRIORITY_TELEMETRY,
    EventCommit,
    OutboxRow,
    Store,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def event(kind: EventKind = EventKind.RAISED, level: Level = Level.ORANGE) -> AlertEvent:
    return AlertEvent(
        "a1", "s1", Hazard.SMOKE, kind, level, 300.0, "µg/m³", {"rule": "r"}, T0, True, 1.0
    )


def render(ev: AlertEvent) -> tuple[dict[str, object], list[OutboxRow]]:
    payload = {"seq": ev.seq, "event": ev.event.value}
    return payload, [OutboxRow("alert", "t/alerts", str(payload).encode())]


def commit(store: Store, kind: EventKind = EventKind.RAISED, open_: bool = True) -> int:
    st = OpenAlert("s1", Hazard.SMOKE, "a1", Level.ORANGE) if open_ else None
    return store.commit_events([EventCommit(event(kind), render, st, "t/active/s1")], "boot")[0].seq


def test_seq_survives_reopen_and_has_no_gaps(tmp_path: Path) -> None:
    store, report = Store.open(tmp_path)
    assert report.created and report.migrations == [1, 2]
    assert [commit(store) for _ in range(3)] == [1, 2, 3]
    store.close()
    store, report = Store.open(tmp_path)
    assert report.migrations == []
    assert commit(store, EventKind.CLEARED, open_=False) == 4
    assert store.open_alerts() == []
    store.close()


def test_outbox_sends_alerts_first_and_leaves_only_after_done(tmp_path: Path) -> None:
    store, _ = Store.open(tmp_path)
    store.add_telemetry(
        [lambda seq: OutboxRow("telemetry", "t/tel", b"x" * 10, qos=1, priority=PRIORITY_TELEMETRY)]
    )
    commit(store)
    batch = store.outbox_batch(10)
    assert [i.kind for i in batch] == ["alert", "active", "telemetry"]
    store.outbox_done([batch[0].id])
    left = store.outbox_batch(10)
    assert [i.kind for i in left] == ["active", "telemetry"]
    assert "alert" not in store.backlog()
    store.close()


def test_retained_state_supersedes_unsent_older_rows(tmp_path: Path) -> None:
    store, _ = Store.open(tmp_path)
    commit(store)
    commit(store, EventKind.CLEARED, open_=False)
    actives = [i for i in store.outbox_batch(10) if i.kind == "active"]
    assert len(actives) == 1 and actives[0].payload == b""
    store.close()


def test_telemetry_is_shed_oldest_first_and_alerts_never(tmp_path: Path) -> None:
    store, _ = Store.open(tmp_path, outbox_max_bytes=64 * 1024)
    for _ in range(5):
        commit(store)
    for i in range(200):
        store.add_telemetry(
            [
                lambda seq, i=i: OutboxRow(
                    "telemetry", "t/tel", b"%05d" % i + b"x" * 1000, priority=PRIORITY_TELEMETRY
                )
            ]
        )
    backlog = store.backlog()
    assert backlog["alert"]["rows"] == 5
    assert store.outbox_bytes <= 64 * 1024
    assert store.counters()["shed_rows"] > 0
    kept = [i.payload[:5] for i in store.outbox_batch(1000) if i.kind == "telemetry"]
    assert kept[-1] == b"00199" and kept == sorted(kept), "the newest telemetry is kept"
    store.close()


def test_corrupt_database_is_moved_aside(tmp_path: Path) -> None:
    store, _ = Store.open(tmp_path)
    commit(store)
    store.close()
    db = tmp_path / "edge-agent.db"
    data = bytearray(db.read_bytes())
    data[:16] = b"not a database!!"
    db.write_bytes(bytes(data))
    store, report = Store.open(tmp_path)
    assert report.moved_aside is not None and report.moved_aside.exists()
    assert report.problem and "corrupt" in report.problem
    # A replacement store never reuses seqs (consumers dedupe on device_id + seq).
    assert commit(store) > 1
    store.close()
