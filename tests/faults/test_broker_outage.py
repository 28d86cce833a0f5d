"""Broker down during an alert burst; the acceptance run (broker down 30 s, two SIGKILLs)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.agent_helpers import start_agent, stop_agent, write_config
from tests.faults.helpers import (
    SITE,
    Ledger,
    Subscriber,
    committed_seqs,
    drained,
    fault_config,
    persistent_broker,
    wait_until,
)

pytestmark = pytest.mark.fault


def test_broker_stopped_and_restarted_during_alert_burst(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    device = "outage-pi"
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "a.toml", fault_config(state, broker.url, device))
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "outage-sub")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_until(lambda: len(sub.seqs()) >= 5, 30, "first alerts")
        broker.stop()
        down_at = len(committed_seqs(state))
        time.sleep(8)  # the burst goes on with nowhere to go
        backlog = len(committed_seqs(state)) - down_at
        broker.start()
        drain_s = wait_until(drained(state, sub, device), 60, "the backlog to drain")
    finally:
        stop_agent(proc)
        sub.close()
        broker.stop()
    lost, _ = Ledger("broker-outage").check(
        committed_seqs(state),
        sub.seqs(device),
        committed_while_down=backlog,
        drain_s=drain_s,
    )
    assert backlog > 10, "the outage saw an alert burst"
    assert not lost


@pytest.mark.slow
def test_acceptance_broker_down_30s_and_two_sigkills_every_seq_arrives(tmp_path: Path) -> None:
    """Issue 5's done-when: sim alerts, broker stopped 30 s, agent SIGKILLed twice, restarted."""
    broker = persistent_broker(tmp_path / "mosq")
    broker.start()
    device = "accept-pi"
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "a.toml", fault_config(state, broker.url, device))
    log = tmp_path / "agent.log"
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", "accept-sub")
    proc = start_agent(cfg, log=log)
    try:
        wait_until(lambda: len(sub.seqs()) >= 5, 30, "first alerts")
        broker.stop()
        time.sleep(10)
        stop_agent(proc, kill=True)  # SIGKILL 1, broker down
        proc = start_agent(cfg, log=log)
        time.sleep(10)
        stop_agent(proc, kill=True)  # SIGKILL 2, broker still down
        proc = start_agent(cfg, log=log)
        time.sleep(10)  # 30 s of broker outage in all
        broker.start()
        drain_s = wait_until(drained(state, sub, device), 90, "every seq to arrive")
        stop_agent(proc)
    finally:
        stop_agent(proc, kill=True)
        sub.close()
        broker.stop()
    committed = committed_seqs(state)
    seqs = sub.seqs(device)
    lost, _ = Ledger("acceptance-30s-outage-2-kills").check(committed, seqs, drain_s=drain_s)
    assert not lost
    assert set(seqs) == set(range(1, max(seqs) + 1)), "every seq from first to last, no gaps"
