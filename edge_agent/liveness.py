"""Is the daemon really working? The answer the systemd watchdog pings on.

A hung node is worse than a crashed one: it looks up, so nobody restarts it,
and it raises no alarm. Two things must hold for the daemon to count as
alive:

* the event loop is responsive: a probe task sleeps for a short interval and
  measures how late it wakes (loop lag); a late or missing probe means some
  coroutine is blocking the loop;
* every registered pipeline stage has beaten within its own deadline.

A stage beats each time round its loop, *including* when it woke up with
nothing to do (a queue ``get`` that timed out, a driver poll with no frame):
an idle but healthy stage is alive, a stage stuck in a call is not. So a stage
waits with a timeout shorter than its deadline, e.g.::

    while True:
        liveness.beat("rules")
        try:
            item = await asyncio.wait_for(queue.get(), timeout=2.0)
        except TimeoutError:
            continue
        ...

:meth:`Liveness.beat` is safe to call from driver threads: it is a single
dict store, which the GIL makes atomic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Stage:
    deadline_s: float
    last_beat: float
    beats: int = 0


class Liveness:
    """Tracks loop lag and per-stage heartbeats.

    ``monotonic`` is injectable (tests use a fake); it must be the same clock
    for :meth:`beat`, the probe and :meth:`is_alive`. The probe task
    (:meth:`run_loop_probe`) must run for the loop to count as responsive:
    if nobody starts it, :meth:`is_alive` turns false after
    ``probe_interval_s + max_loop_lag_s``, which is the safe failure.
    """

    def __init__(
        self,
        *,
        max_loop_lag_s: float = 5.0,
        probe_interval_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_loop_lag_s <= 0 or probe_interval_s <= 0:
            raise ValueError("max_loop_lag_s and probe_interval_s must be > 0")
        self._max_lag = max_loop_lag_s
        self._probe_interval = probe_interval_s
        self._monotonic = monotonic
        self._stages: dict[str, _Stage] = {}
        now = monotonic()
        self._probe_at = now  # grace period: the probe has not had a chance yet
        self._lag = 0.0

    # -- stages -----------------------------------------------------------------

    def register(self, stage: str, deadline_s: float) -> None:
        """Start watching ``stage``: it must beat at least every ``deadline_s`` seconds.

        Registering counts as a first beat, so a stage gets one full deadline
        to start. Registering again replaces the deadline.
        """
        if deadline_s <= 0:
            raise ValueError(f"deadline for stage {stage!r} must be > 0, got {deadline_s!r}")
        self._stages[stage] = _Stage(deadline_s=deadline_s, last_beat=self._monotonic())

    def unregister(self, stage: str) -> None:
        """Stop watching ``stage`` (it finished on purpose, e.g. a driver removed on reload)."""
        self._stages.pop(stage, None)

    def beat(self, stage: str) -> None:
        """Record that ``stage`` made progress or idled healthily just now."""
        try:
            entry = self._stages[stage]
        except KeyError:
            known = ", ".join(sorted(self._stages)) or "none"
            raise KeyError(
                f"stage {stage!r} beat but was never registered (known: {known})"
            ) from None
        entry.last_beat = self._monotonic()
        entry.beats += 1

    @property
    def stages(self) -> tuple[str, ...]:
        """Names of the stages being watched."""
        return tuple(self._stages)

    # -- loop probe ---------------------------------------------------------------

    async def run_loop_probe(self) -> None:
        """Measure event-loop lag forever; run it as a task next to the pipeline."""
        while True:
            before = self._monotonic()
            await asyncio.sleep(self._probe_interval)
            after = self._monotonic()
            self._lag = max(0.0, after - before - self._probe_interval)
            self._probe_at = after

    @property
    def loop_lag_s(self) -> float:
        """How late the last probe woke, in seconds."""
        return self._lag

    # -- verdict ----------------------------------------------------------------

    def problems(self, now_mono: float | None = None) -> list[str]:
        """Why the daemon is not alive, one sentence each; empty when it is."""
        now = self._monotonic() if now_mono is None else now_mono
        out: list[str] = []
        probe_age = now - self._probe_at
        if probe_age > self._probe_interval + self._max_lag:
            out.append(f"event loop blocked: no loop probe for {probe_age:.1f} s")
        elif self._lag > self._max_lag:
            out.append(f"event loop lagging: {self._lag:.1f} s > {self._max_lag:g} s")
        for name, entry in self._stages.items():
            silent = now - entry.last_beat
            if silent > entry.deadline_s:
                out.append(f"stage {name!r} silent for {silent:.1f} s > {entry.deadline_s:g} s")
        return out

    def is_alive(self, now_mono: float | None = None) -> bool:
        """True when the loop is responsive and every stage beat within its deadline."""
        return not self.problems(now_mono)

    def snapshot(self, now_mono: float | None = None) -> dict[str, Any]:
        """For ``edge-agent status`` and the STATUS= line: lag, and seconds since each beat."""
        now = self._monotonic() if now_mono is None else now_mono
        return {
            "alive": self.is_alive(now),
            "loop_lag_s": round(self._lag, 3),
            "stages": {
                name: {
                    "since_beat_s": round(now - e.last_beat, 3),
                    "deadline_s": e.deadline_s,
                    "beats": e.beats,
                }
                for name, e in self._stages.items()
            },
            "problems": self.problems(now),
        }
