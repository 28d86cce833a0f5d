"""A clock far off at start that later jumps; a fleet reconnecting after a broker restart."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.config.load import load_config
from edge_agent.pipeline.agent import Agent
from tests.agent_helpers import start_agent, stop_agent, write_config
from tests.faults.helpers import (
    SITE,
    Ledger,
    Subscriber,
    committed_seqs,
    db_query,
    drained,
    fault_config,
    persistent_broker,
    wait_until,
)

pytestmark = pytest.mark.fault


class JumpingClock:
    """No RTC: the wall clock starts 20 years behind and unsynced, then NTP fixes it."""

    def __init__(self) -> None:
        self.offset = timedelta(days=-365 * 20)
        self._synced = False

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def synced(self) -> bool:
        return self._synced

    def jump(self) -> None:
        self.offset = timedelta(0)
        self._synced = True


def test_clock_far_off_at_start_then_jumps(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    device = "clock-pi"
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "a.toml", fault_config(state, broker.url, device))
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "clock-sub")
    clock = JumpingClock()

    async def scenario() -> tuple[int, int]:
        agent = Agent(load_config(cfg), clock=clock)
        await agent.start()
        try:
            await asyncio.to_thread(wait_until, lambda: len(sub.seqs()) >= 6, 30, "alerts")
            clock.jump()
            n = len(sub.alerts())
            await asyncio.to_thread(
                wait_until, lambda: len(sub.alerts()) >= n + 6, 30, "alerts after the jump"
            )
            assert agent.persist is not None
            await agent.persist.flush_readings()
            before = db_query(state, "SELECT count(*) FROM readings")[0][0]
            await agent.persist.prune()  # retention judged on the monotonic clock this boot
            after = db_query(state, "SELECT count(*) FROM readings")[0][0]
            await asyncio.to_thread(wait_until, drained(state, sub, device), 30, "drained")
        finally:
            await agent.stop()
        return before, after

    try:
        before, after = asyncio.run(scenario())
    finally:
        sub.close()
        broker.stop()
    alerts = sub.alerts()
    seqs = [a["seq"] for a in alerts]
    first_seen = list(dict.fromkeys(seqs))
    misordered = sum(1 for a, b in itertools.pairwise(first_seen) if b < a)
    early = [a for a in alerts if a["ts"] < "2010"]
    late = [a for a in alerts if a["ts"] >= "2020"]
    lost, _ = Ledger("clock-jump").check(
        committed_seqs(state),
        seqs,
        misordered=misordered,
        before_jump=len(early),
        after_jump=len(late),
        readings_pruned_wrongly=before - after,
    )
    assert not lost and misordered == 0
    assert early and all(a["clock_synced"] is False for a in early)
    assert late and any(a["clock_synced"] is True for a in late)
    assert before == after, "a clock jump expired nothing"


FLEET = 6


@pytest.mark.slow
def test_fleet_reconnects_after_broker_restart_spread_by_jitter(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    devices = [f"fleet-{i}" for i in range(FLEET)]
    states = {d: tmp_path / d / "state" for d in devices}
    procs = {}
    sub = Subscriber(broker.port, f"edge/{SITE}/#", "fleet-sub")
    try:
        for d in devices:
            (tmp_path / d).mkdir()
            cfg = write_config(
                tmp_path / d / "a.toml",
                fault_config(
                    states[d],
                    broker.url,
                    d,
                    scenarios=("smoke",),
                    interval_s=0.2,
                    backoff=(1.0, 8.0),
                ),
            )
            procs[d] = start_agent(cfg, log=tmp_path / d / "agent.log")
        for d in devices:
            wait_until(lambda d=d: len(sub.seqs(d)) >= 2, 40, f"{d} alerting")
        broker.stop()
        time.sleep(6)  # every agent is in backoff by now
        n_msgs = len(sub.messages())
        broker.start()
        restart = time.monotonic()
        for d in devices:
            wait_until(drained(states[d], sub, d), 60, f"{d} drained")

        def online_times() -> dict[str, float]:
            out: dict[str, float] = {}
            for t, topic, payload, _ in sub.messages()[n_msgs:]:
                if (
                    topic.endswith("/status")
                    and payload
                    and json.loads(payload)["state"] == "online"
                ):
                    out.setdefault(topic.split("/")[2], t - restart)
            return out

        wait_until(lambda: len(online_times()) == FLEET, 30, "every agent back online")
        times = sorted(online_times().values())
    finally:
        for p in procs.values():
            stop_agent(p)
        sub.close()
        broker.stop()
    lost_total = 0
    for d in devices:
        lost_total += len(committed_seqs(states[d]) - set(sub.seqs(d)))
    Ledger("fleet-reconnect").check(
        set(),
        [],
        agents=FLEET,
        first_reconnect_s=times[0],
        last_reconnect_s=times[-1],
        reconnect_spread_s=times[-1] - times[0],
        lost_all_agents=lost_total,
    )
    assert lost_total == 0
    assert times[-1] - times[0] > 0.5, "reconnects were spread, not in lock-step"
