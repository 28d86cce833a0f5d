"""Liveness verdicts on a controlled clock (the loop probe itself is exercised in test_sdnotify)."""

from __future__ import annotations

import asyncio

import pytest

from edge_agent.liveness import Liveness


class FakeMono:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_idle_but_beating_stages_are_alive_and_a_silent_one_is_not() -> None:
    mono = FakeMono()
    # a loop-lag window longer than the test: only the stage deadlines decide here
    lv = Liveness(max_loop_lag_s=1000, probe_interval_s=1, monotonic=mono)
    lv.register("acquire", deadline_s=10)
    lv.register("publish", deadline_s=30)
    assert lv.is_alive()
    mono.t += 9
    lv.beat("acquire")  # e.g. a queue.get() timed out: idle, healthy
    assert lv.is_alive()
    mono.t += 2  # acquire beat 2 s ago, publish registered 11 s ago: both within deadline
    assert lv.is_alive()
    mono.t += 9  # acquire silent 11 s > 10 s
    assert not lv.is_alive()
    assert lv.problems() == ["stage 'acquire' silent for 11.0 s > 10 s"]
    snap = lv.snapshot()
    assert snap["alive"] is False
    assert snap["stages"]["acquire"]["beats"] == 1


def test_missing_probe_means_blocked_loop() -> None:
    mono = FakeMono()
    lv = Liveness(max_loop_lag_s=2, probe_interval_s=1, monotonic=mono)
    assert lv.is_alive()  # grace period before the first probe
    mono.t += 3.5
    assert lv.problems() == ["event loop blocked: no loop probe for 3.5 s"]


def test_probe_measures_lag_on_a_real_loop() -> None:
    lv = Liveness(max_loop_lag_s=0.2, probe_interval_s=0.02)

    async def main() -> tuple[bool, bool, float]:
        task = asyncio.create_task(lv.run_loop_probe())
        await asyncio.sleep(0.1)
        healthy = lv.is_alive()
        import time

        time.sleep(0.5)  # block the loop
        await asyncio.sleep(0)  # let the overdue probe run
        await asyncio.sleep(0.001)
        after_block = lv.is_alive()
        lag = lv.loop_lag_s
        task.cancel()
        return healthy, after_block, lag

    healthy, after_block, lag = asyncio.run(main())
    assert healthy
    assert not after_block
    assert lag >= 0.4


def test_unknown_stage_and_bad_deadline_are_errors() -> None:
    lv = Liveness()
    lv.register("rules", 5)
    with pytest.raises(KeyError, match="'rulez' beat but was never registered"):
        lv.beat("rulez")
    with pytest.raises(ValueError, match="must be > 0"):
        lv.register("x", 0)
    lv.unregister("rules")
    assert lv.stages == ()
