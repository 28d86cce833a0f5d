"""The store stage: commit alert events durably, batch readings, emit telemetry.

An alert event is committed (fsync) before anyone hears of it: listeners
(the demo's printer, the tail) and the publisher are told only after the
commit returns. Readings are written in batches every ``reading_batch_s``
so an SD card sees a few syncs a minute, not one per reading.

A full disk (or ``store.max_db_bytes``) or an I/O error never stops the
stage: the store sheds telemetry and old readings first; alert events it
still cannot write are kept in memory, in order, and retried every tick,
and a ``device`` alert (``disk_full``) tells the operator.
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
from edge_agent.errors import StoreError
from edge_agent.model import Level
from edge_agent.pipeline.messages import Decided, Stop, Tick
from edge_agent.pipeline.render import EventRenderer
from edge_agent.pipeline.telemetry import TelemetryAggregator
from edge_agent.store.db import EventCommit, is_pressure
from edge_agent.store.runner import StoreRunner

log = logging.getLogger("edge_agent.store")

PRUNE_EVERY_S = 600.0
MAX_BATCH = 2000
#: A disk_full device alert clears after this long without a failed write.
PRESSURE_CLEAR_S = 60.0

ConditionFn = Callable[[str, Level, dict[str, Any]], None]


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
        on_condition: ConditionFn | None = None,
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
        self.on_condition = on_condition
        self.readings_written = 0
        self.write_errors = 0
        #: Alert events not yet written (disk full): kept in order, retried each tick.
        self._pending: list[EventCommit] = []
        self._pressure_seen = 0
        self._pressure_mono: float | None = None
        self._pending_logged = -1e18

    async def run(self, inq: asyncio.Queue[Decided | Tick | Stop]) -> None:
        while True:
            item = await inq.get()
            self.heartbeat()
            if isinstance(item, Stop):
                await self._commit_pending()
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
        self._pending.extend(
            EventCommit(ev, self.renderer, state, topics.active(ev.sensor_id))
            for ev, state in item.events
        )
        await self._commit_pending()

    async def _commit_pending(self) -> None:
        if not self._pending:
            return
        commits = list(self._pending)
        store = self.runner.store
        try:
            committed = await self.runner.call(store.commit_events, commits, self.boot_id)
        except StoreError as exc:
            self.write_errors += 1
            now = time.monotonic()
            if now - self._pending_logged >= 30.0:
                self._pending_logged = now
                log.error(
                    "could not commit %d alert event(s), kept in memory and retried: %s",
                    len(commits),
                    exc,
                )
            self._check_pressure(force=str(exc))
            return
        del self._pending[: len(commits)]
        self._check_pressure()
        self.wake_publisher()
        for c in committed:
            try:
                self.on_committed(c.payload)
            except Exception:  # a listener must never stop the pipeline
                log.exception("alert listener failed")

    def _check_pressure(self, force: str | None = None) -> None:
        """Raise ``disk_full`` when the store hit storage pressure; clear it when calm again."""
        store = self.runner.store
        now = time.monotonic()
        if force is not None or store.pressure_count != self._pressure_seen:
            self._pressure_seen = store.pressure_count
            first = self._pressure_mono is None
            self._pressure_mono = now
            if first and self.on_condition is not None:
                self.on_condition(
                    "disk_full",
                    Level.ORANGE,
                    {
                        "detail": force or store.pressure_error or "storage pressure",
                        "action": "telemetry and old readings shed; alert events kept",
                    },
                )
        elif (
            self._pressure_mono is not None
            and not self._pending
            and now - self._pressure_mono >= PRESSURE_CLEAR_S
        ):
            self._pressure_mono = None
            if self.on_condition is not None:
                self.on_condition("disk_full", Level.NONE, {})

    async def on_tick(self, tick: Tick) -> None:
        now = time.monotonic()
        await self._commit_pending()
        if now - self._last_flush >= self.config.store.reading_batch_s:
            await self.flush_readings()
        if self.config.telemetry.enabled:
            due = self.telemetry.due(tick.t_mono)
            if due:
                renders = [self._telemetry_render(s) for s in due]
                store = self.runner.store
                try:
                    await self.runner.call(store.add_telemetry, renders)
                except StoreError as exc:
                    self.write_errors += 1
                    log.error("telemetry not stored (%d summaries lost): %s", len(renders), exc)
                self.wake_publisher()
        self._check_pressure()
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
            if not isinstance(exc, StoreError) and not is_pressure(exc):
                raise
            self.write_errors += 1
            log.error("could not write %d readings: %s", len(batch), exc)

    async def prune(self) -> None:
        keep_s = self.config.store.readings_retention_h * 3600
        older_ts = self.clock.now() - timedelta(seconds=keep_s) if self.clock.synced() else None
        store = self.runner.store
        try:
            await self.runner.call(
                store.prune_readings,
                boot_id=self.boot_id,
                older_than_mono=self.clock.monotonic() - keep_s,
                older_than_ts=older_ts,
            )
        except Exception as exc:
            if not is_pressure(exc):
                raise
            log.error("could not prune readings: %s", exc)
