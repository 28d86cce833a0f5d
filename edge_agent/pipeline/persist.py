"""The store stage: commit alert events durably, batch readings, emit telemetry.

An alert event is committed (fsync) before anyone hears of it: listeners
(the demo's printer, the tail) and the publisher are told only after the
commit returns. Readings are written in batches every ``reading_batch_s``
so an SD card sees a few syncs a minute, not one per reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from edge_agent.clock import Clock
from edge_agent.config.model import Config
from edge_agent.pipeline.messages import Decided, Stop, Tick
from edge_agent.pipeline.render import EventRenderer
from edge_agent.pipeline.telemetry import TelemetryAggregator
from edge_agent.store.db import EventCommit
from edge_agent.store.runner import StoreRunner

log = logging.getLogger("edge_agent.store")

PRUNE_EVERY_S = 600.0
MAX_BATCH = 2000


class PersistStage:
    def __init__(
        self,
        config: Config,
        runner: StoreRunner,
        renderer: EventRenderer,
        telemetry: TelemetryAggregator,
        clock: Clock,
        boot_id: str,
        *,
        on_committed: Callable[[dict[str, Any]], None],
        wake_publisher: Callable[[], None],
        heartbeat: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.runner = runner
        self.renderer = renderer
        self.telemetry = telemetry
        self.clock = clock
        self.boot_id = boot_id
        self.on_committed = on_committed
        self.wake_publisher = wake_publisher
        self.heartbeat = heartbeat
        self._batch: list[tuple[Any, ...]] = []
        self._last_flush = time.monotonic()
        self._last_prune = time.monotonic()
        self.readings_written = 0
        self.write_errors = 0

    async def run(self, inq: asyncio.Queue[Decided | Tick | Stop]) -> None:
        while True:
            item = await inq.get()
            self.heartbeat()
            if isinstance(item, Stop):
                await self.flush_readings()
                return
            if isinstance(item, Tick):
                await self.on_tick(item)
                continue
            if item.scored is not None:
                r = item.scored.reading
                self._batch.append(
                    (
                        r.sensor_id,
                        r.quantity,
                        r.value,
                        r.unit,
                        r.quality.value,
                        item.scored.score,
                        r.ts.isoformat(),
                        int(r.clock_synced),
                        r.t_mono,
                        self.boot_id,
                    )
                )
                if self.config.telemetry.enabled:
                    self.telemetry.add(r)
                if len(self._batch) >= MAX_BATCH:
                    await self.flush_readings()
            if item.events:
                await self.commit(item)

    async def commit(self, item: Decided) -> None:
        topics = self.renderer.topics
        commits = [
            EventCommit(ev, self.renderer, state, topics.active(ev.sensor_id))
            for ev, state in item.events
        ]
        store = self.runner.store
        committed = await self.runner.call(store.commit_events, commits, self.boot_id)
        self.wake_publisher()
        for c in committed:
            try:
                self.on_committed(c.payload)
            except Exception:  # a listener must never stop the pipeline
                log.exception("alert listener failed")

    async def on_tick(self, tick: Tick) -> None:
        now = time.monotonic()
        if now - self._last_flush >= self.config.store.reading_batch_s:
            await self.flush_readings()
        if self.config.telemetry.enabled:
            due = self.telemetry.due(tick.t_mono)
            if due:
                renders = [self._telemetry_render(s) for s in due]
                store = self.runner.store
                await self.runner.call(store.add_telemetry, renders)
                self.wake_publisher()
        if now - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = now
            await self.prune()

    def _telemetry_render(self, summary: dict[str, Any]) -> Callable[[int], Any]:
        return lambda seq: self.renderer.telemetry_row(summary, seq)

    async def flush_readings(self) -> None:
        self._last_flush = time.monotonic()
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        store = self.runner.store
        try:
            await self.runner.call(store.add_readings, batch)
            self.readings_written += len(batch)
        except Exception as exc:  # disk full / I/O error: lose readings, never alerts
            self.write_errors += 1
            log.error("could not write %d readings: %s", len(batch), exc)

    async def prune(self) -> None:
        keep_s = self.config.store.readings_retention_h * 3600
        older_ts = self.clock.now() - timedelta(seconds=keep_s) if self.clock.synced() else None
        store = self.runner.store
        await self.runner.call(
            store.prune_readings,
            boot_id=self.boot_id,
            older_than_mono=self.clock.monotonic() - keep_s,
            older_than_ts=older_ts,
        )
