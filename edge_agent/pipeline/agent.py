"""The agent: wires drivers -> detect -> rules -> alerts -> store -> publish.

Stages are joined by bounded asyncio queues, so a slow stage pushes back on
the drivers instead of growing memory. Start order follows telegraf: the
store and the publisher first, drivers last, so nothing is read before it can
be kept and delivered. Stop order is the reverse: drivers stop, the queues
drain, model checkpoints and readings are written, ``offline`` is retained,
the store is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_agent.clock import Clock, SystemClock, boot_id
from edge_agent.commands import Command, CommandError, parse_command
from edge_agent.config.model import Config
from edge_agent.drivers.base import Driver, DriverContext, FrameStats
from edge_agent.model import Level
from edge_agent.mqtt.link import Inbound
from edge_agent.mqtt.payloads import CMD_RESULT_SCHEMA, Topics, dumps, iso, status_payload
from edge_agent.mqtt.publisher import LinkState, Publisher
from edge_agent.pipeline.acquire import acquire
from edge_agent.pipeline.alerts import AlertBook, Timing
from edge_agent.pipeline.decide import AlertStage
from edge_agent.pipeline.detect import Checkpoint, Detection, DetectSpec, detect_stage
from edge_agent.pipeline.evaluate import RuleSet, rules_stage
from edge_agent.pipeline.messages import StaffCommand, Stop, Tick
from edge_agent.pipeline.persist import PersistStage
from edge_agent.pipeline.render import EventRenderer
from edge_agent.pipeline.telemetry import TelemetryAggregator
from edge_agent.registry import Registry
from edge_agent.store.db import PRIORITY_CONTROL, OpenReport, OutboxRow
from edge_agent.store.runner import StoreRunner

log = logging.getLogger("edge_agent.agent")

CHECKPOINT_EVERY_S = 600.0
STAGES = ("detect", "rules", "alerts", "store", "publish")


@dataclass
class AgentHooks:
    """Callbacks for the CLI (demo printer, tail) and tests; all optional."""

    on_event: Callable[[dict[str, Any]], None] | None = None
    on_link: Callable[[LinkState], None] | None = None
    on_ready: Callable[[], None] | None = None
    on_levels: Callable[[Mapping[tuple[str, str], Level]], None] | None = None
    extra_subscriptions: list[str] = field(default_factory=list)


def build_rulesets(config: Config, registry: Registry) -> dict[str, RuleSet]:
    return {s.id: RuleSet(s.id, s.pack.build_rules(registry, s.overrides), s.pack.unit)
            for s in config.sensors if s.enabled}


def build_timings(config: Config) -> dict[str, Timing]:
    out = {}
    for s in config.sensors:
        info = s.pack.info(s.overrides)
        out[s.id] = Timing(info.raise_after_s, info.clear_after_s)
    return out


def build_detection(config: Config) -> Detection:
    return Detection({s.id: DetectSpec(s.pack.quantity, {**s.pack.detection, **s.detection})
                      for s in config.sensors if s.enabled})


class Agent:
    """One running agent. Use :meth:`run`, or :meth:`start` / :meth:`stop` in tests."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
        pin_factory: Any | None = None,
        hooks: AgentHooks | None = None,
        queue_size: int = 1000,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.registry = registry or Registry()
        self.hooks = hooks or AgentHooks()
        self.boot_id = boot_id()
        self.topics = Topics(config.base_topic)
        self.runner = StoreRunner()
        self.book = AlertBook(build_timings(config))
        self.rulesets = build_rulesets(config, self.registry)
        self.detection = build_detection(config)
        self.renderer = EventRenderer(config, self.boot_id)
        self.context = DriverContext(clock=self.clock, pin_factory=pin_factory)
        self.drivers: dict[str, Driver] = {
            s.id: self.registry.driver(s.driver)(s.id, s.driver_options, self.context)
            for s in config.sensors if s.enabled
        }
        self.beats: dict[str, float] = {}
        self._q_detect: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._q_rules: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._q_alerts: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._q_store: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._acquirers: list[asyncio.Task[None]] = []
        self._pub_stop = asyncio.Event()
        self.publisher: Publisher | None = None
        self.persist: PersistStage | None = None
        self.open_report: OpenReport | None = None
        self.started_mono: float | None = None
        self.ready = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def start(self) -> None:
        cfg = self.config
        self.started_mono = time.monotonic()
        self.open_report = await self.runner.open(
            cfg.agent.state_dir, outbox_max_bytes=cfg.store.outbox_max_bytes,
            min_free_bytes=cfg.store.min_free_bytes)
        if self.open_report.problem:
            log.error("%s", self.open_report.problem)
        store = self.runner.store
        self.book.restore(await self.runner.call(store.open_alerts))
        if self.detection.active:
            rows = await self.runner.call(store.load_checkpoints)
            dropped = self.detection.restore(Checkpoint(*r) for r in rows)
            for sid in dropped:
                log.info("sensor %s: detector settings changed, model starts afresh", sid)
        await self.runner.call(store.set_meta_many, {
            "boot_id": self.boot_id, "started_ts": iso(self.clock.now()),
            "clock_synced": str(self.clock.synced()).lower(), "version": _version(),
            "config": str(cfg.source or ""),
        })

        telemetry = TelemetryAggregator(
            cfg.telemetry.interval_s, cfg.telemetry.alert_interval_s,
            alerting=lambda sid: any(k[0] == sid for k in self.book.levels()))
        self.publisher = Publisher(
            cfg.mqtt, self.runner,
            will=(self.topics.status, self._status("offline")),
            online=lambda: (self.topics.status, self._status("online")),
            offline=lambda: (self.topics.status, self._status("offline")),
            subscriptions=[self.topics.cmd_filter, *self.hooks.extra_subscriptions],
            on_message=self._on_message,
            on_state=self._on_link_state,
        )
        self.publisher.heartbeat = self._beat("publish")
        self.persist = PersistStage(
            cfg, self.runner, self.renderer, telemetry, self.clock, self.boot_id,
            on_committed=self._on_committed, wake_publisher=self.publisher.wake,
            heartbeat=self._beat("store"))
        stage = AlertStage(self.book, self.clock, on_levels=self.hooks.on_levels,
                           on_feedback=self.detection.feedback, heartbeat=self._beat("alerts"))
        self._spawn("publish", self.publisher.run(self._pub_stop))
        self._spawn("store", self.persist.run(self._q_store))
        self._spawn("alerts", stage.run(self._q_alerts, self._q_store))
        self._spawn("rules", rules_stage(self.rulesets, self.book.level, self._stats, self.clock,
                                         self._q_rules, self._q_alerts, self._beat("rules")))
        self._spawn("detect", detect_stage(self.detection, self._q_detect, self._q_rules,
                                           self._beat("detect")))
        self._spawn("ticker", self._ticker())
        for driver in self.drivers.values():
            self._acquirers.append(asyncio.create_task(
                acquire(driver, self._q_detect), name=f"acquire:{driver.sensor_id}"))
        self.ready.set()
        if self.hooks.on_ready is not None:
            self.hooks.on_ready()

    async def stop(self) -> None:
        """Drivers first, then drain every stage, checkpoint, say offline, close."""
        for t in self._acquirers:
            t.cancel()
        await asyncio.gather(*self._acquirers, return_exceptions=True)
        for driver in self.drivers.values():
            with contextlib.suppress(Exception):
                await driver.aclose()
        ticker = self._tasks.pop("ticker", None)
        if ticker is not None:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        if "detect" in self._tasks:
            await self._q_detect.put(Stop())
            for name in ("detect", "rules", "alerts", "store"):
                task = self._tasks.get(name)
                if task is not None:
                    await asyncio.gather(task, return_exceptions=True)
        if self.runner._store is not None:
            await self.save_checkpoints()
        self._pub_stop.set()
        pub = self._tasks.get("publish")
        if pub is not None:
            await asyncio.gather(pub, return_exceptions=True)
        await self.runner.close()

    def _spawn(self, name: str, coro: Any) -> None:
        self._tasks[name] = asyncio.create_task(coro, name=name)

    async def _ticker(self) -> None:
        next_checkpoint = time.monotonic() + CHECKPOINT_EVERY_S
        while True:
            await asyncio.sleep(1.0)
            with contextlib.suppress(asyncio.QueueFull):
                self._q_rules.put_nowait(Tick(self.clock.monotonic()))
            if time.monotonic() >= next_checkpoint:
                next_checkpoint = time.monotonic() + CHECKPOINT_EVERY_S
                await self.save_checkpoints()

    async def save_checkpoints(self) -> None:
        cps = self.detection.checkpoints()
        if cps:
            store = self.runner.store
            await self.runner.call(store.save_checkpoints,
                                   [(c.sensor_id, c.quantity, c.fingerprint, c.state)
                                    for c in cps])

    # -- helpers --------------------------------------------------------------------------------

    def _beat(self, stage: str) -> Callable[[], None]:
        beats = self.beats

        def beat() -> None:
            beats[stage] = time.monotonic()

        return beat

    def _stats(self, sensor_id: str) -> FrameStats | None:
        d = self.drivers.get(sensor_id)
        return d.stats() if d else None

    def _status(self, state: str) -> bytes:
        return dumps(status_payload(
            state, site_id=self.config.agent.site_id, device_id=self.config.agent.device_id,
            ts=self.clock.now(), clock_synced=self.clock.synced(), boot_id=self.boot_id,
            sensors=[s.id for s in self.config.sensors if s.enabled]))

    def _on_committed(self, payload: dict[str, Any]) -> None:
        if self.hooks.on_event is not None:
            self.hooks.on_event(payload)

    def _on_link_state(self, state: LinkState) -> None:
        if self.hooks.on_link is not None:
            self.hooks.on_link(state)

    # -- commands -------------------------------------------------------------------------------

    def _on_message(self, msg: Inbound) -> None:
        prefix = self.topics.cmd("")
        if msg.topic.startswith(prefix):
            name = msg.topic[len(prefix):]
            if name != "result":
                asyncio.get_running_loop().create_task(self.handle_command(name, msg.payload))

    async def handle_command(self, name: str, payload: bytes) -> tuple[str, str]:
        """Validate, apply, audit and answer one command; returns (outcome, detail)."""
        cmd_id: str | None = None
        try:
            cmd = parse_command(name, payload)
            cmd_id = cmd.id
            outcome, detail = await self._apply(cmd)
        except CommandError as exc:
            outcome, detail = "error", str(exc)
            with contextlib.suppress(Exception):
                raw = json.loads(payload)
                if isinstance(raw, dict) and isinstance(raw.get("id"), str | int):
                    cmd_id = str(raw["id"])
        result = {"schema": CMD_RESULT_SCHEMA, "id": cmd_id, "command": name,
                  "outcome": outcome, "detail": detail, "site_id": self.config.agent.site_id,
                  "device_id": self.config.agent.device_id, "ts": iso(self.clock.now())}
        store = self.runner.store
        await self.runner.call(store.record_command, name, cmd_id,
                               payload.decode("utf-8", "replace")[:4000], outcome, detail)
        await self.runner.call(store.enqueue, [OutboxRow(
            "cmd_result", self.topics.cmd_result, dumps(result), qos=1, retain=False,
            priority=PRIORITY_CONTROL)])
        if self.publisher is not None:
            self.publisher.wake()
        return outcome, detail

    async def _apply(self, cmd: Command) -> tuple[str, str]:
        if cmd.name in ("ack", "resolve"):
            reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            await self._q_alerts.put(StaffCommand(cmd.name, cmd.args, reply))
            outcome, detail, _events = await reply
            return outcome, detail
        return "error", f"{cmd.name}: not available on this node"

    # -- status ---------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "stages": {k: round(now - v, 2) for k, v in self.beats.items()},
            "link": self.publisher.describe() if self.publisher else None,
            "open_alerts": len(self.book.open_alerts()),
            "queues": {"detect": self._q_detect.qsize(), "rules": self._q_rules.qsize(),
                       "alerts": self._q_alerts.qsize(), "store": self._q_store.qsize()},
        }


def _version() -> str:
    from edge_agent import __version__

    return __version__
