"""Long backlog (alerts first, telemetry shed oldest-first) and calm/emergency telemetry rates."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from tests.agent_helpers import start_agent, stop_agent, write_config
from tests.faults.helpers import (
    SITE,
    Ledger,
    Subscriber,
    committed_seqs,
    db_query,
    drained,
    fault_config,
    more_sensors,
    persistent_broker,
    wait_until,
)

pytestmark = pytest.mark.fault


def test_long_backlog_alerts_first_telemetry_shed_oldest_first(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    device = "backlog-pi"
    state = tmp_path / "state"
    text = fault_config(
        state,
        broker.url,
        device,
        interval_s=0.5,
        telemetry=(1, 1),
        store_extra="outbox_max_bytes = 65536",
    )
    cfg = write_config(tmp_path / "a.toml", more_sensors(text, 8))  # 24 sensors
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    sub = None
    try:
        wait_until(
            lambda: bool(
                db_query(state, "SELECT 1 FROM counters WHERE name='shed_rows' AND value>0")
            ),
            60,
            "telemetry shed under the byte bound",
        )
        outbox_bytes, tel_bytes = db_query(
            state,
            "SELECT sum(bytes), coalesce(sum(CASE WHEN kind='telemetry' THEN bytes END), 0) "
            "FROM outbox",
        )[0]
        backlog_alerts = committed_seqs(state)
        broker.start()
        sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "backlog-sub")
        t0 = time.monotonic()
        drain_s = wait_until(drained(state, sub, device), 60, "the backlog")
        wait_until(lambda: len(sub.messages("/telemetry/smoke-1")) >= 3, 30, "telemetry")
        stop_agent(proc)
    finally:
        stop_agent(proc, kill=True)
        if sub is not None:
            sub.close()
        broker.stop()
    assert sub is not None
    msgs = sub.messages()
    kinds = []
    for _, topic, payload, _ in msgs:
        if topic.endswith("/alerts") and json.loads(payload)["seq"] in backlog_alerts:
            kinds.append("A")
        elif "/telemetry/" in topic:
            kinds.append("T")
    last_alert = max(i for i, k in enumerate(kinds) if k == "A")
    first_tel = kinds.index("T")
    tel_seqs = [json.loads(p)["seq"] for _, t, p, _ in msgs if "/telemetry/" in t]
    counters = dict(db_query(state, "SELECT name, value FROM counters"))
    lost, _ = Ledger("long-backlog").check(
        committed_seqs(state),
        sub.seqs(device),
        backlog_alerts=len(backlog_alerts),
        outbox_bytes_at_heal=outbox_bytes,
        telemetry_bytes_at_heal=tel_bytes,
        shed_rows=counters["shed_rows"],
        shed_bytes=counters["shed_bytes"],
        drain_s=drain_s,
        heal_to_drained_s=time.monotonic() - t0,
    )
    assert not lost
    # Alert events are never evicted, so they may exceed the bound alone; telemetry
    # only fills what they leave (plus one tick of new summaries, shed on the next).
    assert tel_bytes == 0 or outbox_bytes <= 65536 + 24 * 1024, (outbox_bytes, tel_bytes)
    assert last_alert < first_tel, "every backlog alert event before any telemetry"
    # Oldest-first: what survived is the newest telemetry, so the first seq
    # delivered is past everything shed.
    assert min(tel_seqs) > counters["shed_rows"] * 0.5


def test_telemetry_faster_while_an_alert_is_open(tmp_path: Path) -> None:
    b = persistent_broker(tmp_path / "mosq")
    b.start()
    device = "rate-pi"
    state = tmp_path / "state"
    cfg = write_config(
        tmp_path / "a.toml",
        fault_config(
            state,
            b.url,
            device,
            scenarios=("water",),
            cycle_s=24,
            interval_s=0.2,
            telemetry=(4, 1),
            clear_after_s=0.2,
        ),
    )
    sub = Subscriber(b.port, f"edge/{SITE}/{device}/#", "rate-sub")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_until(
            lambda: any(a["event"] == "cleared" for a in sub.alerts()), 40, "a full alert cycle"
        )
        time.sleep(13)  # calm again for a while
    finally:
        stop_agent(proc)
        sub.close()
        b.stop()
    alerts = [(m[0], json.loads(m[2])) for m in sub.messages("/alerts")]
    opened = next(t for t, a in alerts if a["event"] == "raised")
    closed = next(t for t, a in alerts if a["event"] == "cleared")
    tel = [m[0] for m in sub.messages("/telemetry/water-1")]
    gaps_alert = [b2 - a for a, b2 in itertools.pairwise(tel) if opened + 1.5 < a < closed - 1.5]
    gaps_calm = [b2 - a for a, b2 in itertools.pairwise(tel) if a > closed + 4.5 or b2 < opened]
    Ledger("telemetry-rates").check(
        set(),
        [],
        alert_gap_s=sum(gaps_alert) / max(1, len(gaps_alert)),
        calm_gap_s=sum(gaps_calm) / max(1, len(gaps_calm)),
    )
    assert gaps_alert and gaps_calm
    assert max(gaps_alert) < 2.0, gaps_alert
    assert min(gaps_calm) > 3.0, gaps_calm
