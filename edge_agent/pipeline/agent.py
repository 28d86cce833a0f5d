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
from edge_agent.config.load import NODE_SENSOR_ID
from edge_agent.config.model import Config, SensorConfig
from edge_agent.drivers.base import Driver, DriverContext, FrameStats
from edge_agent.errors import ConfigError
from edge_agent.liveness import Liveness
from edge_agent.model import Candidate, Hazard, Level
from edge_agent.mqtt.link import Inbound
from edge_agent.mqtt.payloads import CMD_RESULT_SCHEMA, Topics, dumps, iso, status_payload
from edge_agent.mqtt.publisher import LinkState, Publisher
from edge_agent.pipeline.acquire import acquire
from edge_agent.pipeline.alerts import AlertBook, Timing
from edge_agent.pipeline.decide import AlertStage
from edge_agent.pipeline.detect import Checkpoint, Detection, DetectSpec, detect_stage
from edge_agent.pipeline.evaluate import RuleSet, rules_stage
from edge_agent.pipeline.messages import Evaluated, StaffCommand, Stop, Tick
from edge_agent.pipeline.persist import PersistStage
from edge_agent.pipeline.render import EventRenderer
from edge_agent.pipeline.telemetry import TelemetryAggregator
from edge_agent.registry import Registry
from edge_agent.sdnotify import Notifier, run_watchdog
from edge_agent.signing import Signer, read_key, resolve_secret_path
from edge_agent.store.db import PRIORITY_CONTROL, OpenReport, OutboxRow
from edge_agent.store.runner import StoreRunner

log = logging.getLogger("edge_agent.agent")

CHECKPOINT_EVERY_S = 600.0
STATUS_EVERY_S = 10.0
#: Seconds a stage may go without progress before the watchdog stops pinging.
#: Every stage sees a tick each second; the publisher beats at least every
#: second too, except during a connect attempt (bounded by CONNECT_TIMEOUT_S).
STAGE_DEADLINES = {"detect": 10.0, "rules": 10.0, "alerts": 10.0, "store": 20.0, "publish": 25.0}
CONNECT_TIMEOUT_S = 10.0
#: ``{base}/cmd/probe``: the MQTT 3.1.1 write probe (see mqtt/publisher.py), never a command.
PROBE_COMMAND = "probe"
#: A silence command without duration_s mutes for this long (each output caps it).
DEFAULT_SILENCE_S = 600.0


@dataclass
class AgentHooks:
    """Callbacks for the CLI (demo printer, tail) and tests; all optional."""

    on_event: Callable[[dict[str, Any]], None] | None = None
    on_link: Callable[[LinkState], None] | None = None
    on_ready: Callable[[], None] | None = None
    on_levels: Callable[[Mapping[tuple[str, str], Level]], None] | None = None
    extra_subscriptions: list[str] = field(default_factory=list)


def build_rulesets(config: Config, registry: Registry) -> dict[str, RuleSet]:
    return {
        s.id: RuleSet(s.id, s.pack.build_rules(registry, s.overrides), s.pack.unit)
        for s in config.sensors
        if s.enabled
    }


def build_timings(config: Config) -> dict[str, Timing]:
    out = {NODE_SENSOR_ID: Timing(0.0, 0.0)}
    for s in config.sensors:
        info = s.pack.info(s.overrides)
        out[s.id] = Timing(info.raise_after_s, info.clear_after_s)
    return out


def detect_specs(config: Config) -> dict[str, DetectSpec]:
    return {
        s.id: DetectSpec(s.pack.quantity, {**s.pack.detection, **s.detection})
        for s in config.sensors
        if s.enabled
    }


def build_detection(config: Config) -> Detection:
    return Detection(detect_specs(config))


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
            for s in config.sensors
            if s.enabled
        }
        self.liveness = Liveness()
        for stage, deadline in STAGE_DEADLINES.items():
            self.liveness.register(stage, deadline)
        self.notifier = Notifier()
        self.alarm: Any = None  # LocalAlarm when [[outputs]] are configured
        self._node_conditions: dict[str, tuple[Level, dict[str, Any]]] = {}
        self._announced: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._q_detect: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._q_rules: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._q_alerts: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._q_store: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._acquirers: dict[str, asyncio.Task[None]] = {}
        self._pub_stop = asyncio.Event()
        self.publisher: Publisher | None = None
        self.signer: Signer | None = None
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
        self.signer = build_signer(cfg)
        self._loop = asyncio.get_running_loop()
        self.started_mono = time.monotonic()
        self.open_report = await self.runner.open(
            cfg.agent.state_dir,
            outbox_max_bytes=cfg.store.outbox_max_bytes,
            min_free_bytes=cfg.store.min_free_bytes,
            max_db_bytes=cfg.store.max_db_bytes,
        )
        if self.open_report.problem:
            log.error("%s", self.open_report.problem)
        store = self.runner.store
        # Rows a broker refused last time get another chance: the ACL may be fixed.
        retried = await self.runner.call(store.outbox_retry_failed)
        if retried:
            log.warning("%d outbox row(s) refused by the broker before are queued again", retried)
        self.book.restore(await self.runner.call(store.open_alerts))
        if self.detection.active:
            rows = await self.runner.call(store.load_checkpoints)
            dropped = self.detection.restore(Checkpoint(*r) for r in rows)
            for sid in dropped:
                log.info("sensor %s: detector settings changed, model starts afresh", sid)
        await self.runner.call(
            store.set_meta_many,
            {
                "boot_id": self.boot_id,
                "started_ts": iso(self.clock.now()),
                "clock_synced": str(self.clock.synced()).lower(),
                "version": _version(),
                "config": str(cfg.source or ""),
            },
        )

        if cfg.outputs:
            from edge_agent.outputs import LocalAlarm

            self.alarm = LocalAlarm(
                list(cfg.outputs),
                pin_factory=self.context.pin_factory,
                clock=self.clock,
                on_silence=self._on_button_silence,
            )
            self.alarm.update(self.book.levels())

        telemetry = TelemetryAggregator(
            cfg.telemetry.interval_s,
            cfg.telemetry.alert_interval_s,
            alerting=lambda sid: any(k[0] == sid for k in self.book.levels()),
        )
        self.publisher = Publisher(
            cfg.mqtt,
            self.runner,
            will=(self.topics.status, self._status("offline")),
            online=lambda: (self.topics.status, self._status("online")),
            offline=lambda: (self.topics.status, self._status("offline")),
            subscriptions=self._subscriptions(),
            on_message=self._on_message,
            on_state=self._on_link_state,
            on_problem=self._on_publish_problem,
            on_connected=self._on_connected,
            connect_timeout=CONNECT_TIMEOUT_S,
            signer=self.signer,
            probe_topic=self.topics.cmd(PROBE_COMMAND),
        )
        self.publisher.heartbeat = self._beat("publish")
        self.persist = PersistStage(
            cfg,
            self.runner,
            self.renderer,
            telemetry,
            self.clock,
            self.boot_id,
            on_committed=self._on_committed,
            wake_publisher=self.publisher.wake,
            heartbeat=self._beat("store"),
            on_condition=self.node_condition,
        )
        stage = AlertStage(
            self.book,
            self.clock,
            on_levels=self._on_levels,
            on_feedback=self.detection.feedback,
            heartbeat=self._beat("alerts"),
        )
        self._spawn("publish", self.publisher.run(self._pub_stop))
        self._spawn("store", self.persist.run(self._q_store))
        self._spawn("alerts", stage.run(self._q_alerts, self._q_store))
        self._spawn(
            "rules",
            rules_stage(
                self.rulesets,
                self.book.level,
                self._stats,
                self.clock,
                self._q_rules,
                self._q_alerts,
                self._beat("rules"),
            ),
        )
        self._spawn(
            "detect",
            detect_stage(self.detection, self._q_detect, self._q_rules, self._beat("detect")),
        )
        self._spawn("ticker", self._ticker())
        self._spawn("loop-probe", self.liveness.run_loop_probe())
        self._spawn("watchdog", run_watchdog(self.notifier, self.liveness.is_alive))
        if self.alarm is not None:
            self._spawn("alarm", self.alarm.run())
        if self.open_report.problem:
            self.node_condition(
                "store_replaced",
                Level.ORANGE,
                {"detail": self.open_report.problem, "moved_to": str(self.open_report.moved_aside)},
            )
        for driver in self.drivers.values():
            self._start_acquire(driver)
        self.ready.set()
        self.notifier.ready(status=self.status_line())
        if self.hooks.on_ready is not None:
            self.hooks.on_ready()

    async def stop(self) -> None:
        """Drivers first, then drain every stage, checkpoint, say offline, close."""
        self.notifier.stopping(status="stopping: draining the pipeline")
        for t in self._acquirers.values():
            t.cancel()
        await asyncio.gather(*self._acquirers.values(), return_exceptions=True)
        for driver in self.drivers.values():
            with contextlib.suppress(Exception):
                await driver.aclose()
        for name in ("ticker", "watchdog", "loop-probe", "alarm"):
            task = self._tasks.pop(name, None)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if "detect" in self._tasks:
            await self._q_detect.put(Stop())
            for name in ("detect", "rules", "alerts", "store"):
                task = self._tasks.get(name)
                if task is not None:
                    await asyncio.gather(task, return_exceptions=True)
        if self.runner.is_open:
            await self.save_checkpoints()
        self._pub_stop.set()
        pub = self._tasks.get("publish")
        if pub is not None:
            await asyncio.gather(pub, return_exceptions=True)
        if self.runner.is_open:
            # `status` must not show a stopped agent as connected (the last broker
            # error is kept: it is what an operator needs to see next).
            store = self.runner.store
            with contextlib.suppress(Exception):
                await self.runner.call(
                    store.set_meta_many,
                    {
                        "broker_state": "stopped",
                        "broker_state_ts": iso(self.clock.now()),
                    },
                )
        await self.runner.close()
        if self.alarm is not None:
            # The outputs stay as they are until the process exits: an agent
            # restarting under an open alert must not silence the siren.
            self.alarm = None
        self.notifier.close()

    def _start_acquire(self, driver: Driver) -> None:
        self._acquirers[driver.sensor_id] = asyncio.create_task(
            acquire(driver, self._q_detect), name=f"acquire:{driver.sensor_id}"
        )

    def _spawn(self, name: str, coro: Any) -> None:
        self._tasks[name] = asyncio.create_task(coro, name=name)

    async def _ticker(self) -> None:
        next_checkpoint = time.monotonic() + CHECKPOINT_EVERY_S
        next_status = time.monotonic() + STATUS_EVERY_S
        while True:
            await asyncio.sleep(1.0)
            # Ticks travel the whole pipeline, so every stage beats at least once a
            # second even when no sensor reads: the watchdog then means "stuck".
            with contextlib.suppress(asyncio.QueueFull):
                self._q_detect.put_nowait(Tick(self.clock.monotonic()))
            now = time.monotonic()
            if now >= next_status:
                next_status = now + STATUS_EVERY_S
                self.notifier.status(self.status_line())
            if now >= next_checkpoint:
                next_checkpoint = now + CHECKPOINT_EVERY_S
                await self.save_checkpoints()

    async def save_checkpoints(self) -> None:
        cps = self.detection.checkpoints()
        if cps:
            store = self.runner.store
            await self.runner.call(
                store.save_checkpoints,
                [(c.sensor_id, c.quantity, c.fingerprint, c.state) for c in cps],
            )

    # -- helpers --------------------------------------------------------------------------------

    def _beat(self, stage: str) -> Callable[[], None]:
        liveness = self.liveness

        def beat() -> None:
            liveness.beat(stage)

        return beat

    def status_line(self) -> str:
        """One line for systemd's STATUS=: what an operator checks first."""
        link = self.publisher.link_state.state if self.publisher else "starting"
        n_open = len(self.book.open_alerts())
        published = self.publisher.link_state.published if self.publisher else 0
        return (
            f"{len(self.drivers)} sensors, {n_open} open alert(s), broker {link}, "
            f"{published} published"
        )

    def _stats(self, sensor_id: str) -> FrameStats | None:
        d = self.drivers.get(sensor_id)
        return d.stats() if d else None

    def _status(self, state: str) -> bytes:
        return dumps(
            status_payload(
                state,
                site_id=self.config.agent.site_id,
                device_id=self.config.agent.device_id,
                ts=self.clock.now(),
                clock_synced=self.clock.synced(),
                boot_id=self.boot_id,
                sensors=[s.id for s in self.config.sensors if s.enabled],
            )
        )

    def _on_committed(self, payload: dict[str, Any]) -> None:
        if self.hooks.on_event is not None:
            self.hooks.on_event(payload)

    def _on_link_state(self, state: LinkState) -> None:
        if self.runner.is_open:
            store = self.runner.store
            asyncio.get_running_loop().create_task(
                self.runner.call(
                    store.set_meta_many,
                    {
                        "broker_state": state.state,
                        "broker_state_ts": iso(self.clock.now()),
                        "broker_error": state.last_error or "",
                    },
                )
            )
        if self.hooks.on_link is not None:
            self.hooks.on_link(state)

    def _on_levels(self, levels: Mapping[tuple[str, str], Level]) -> None:
        """Straight from the state machine to the siren: no broker, disk or clock needed."""
        if self.alarm is not None:
            self.alarm.update(levels)
        if self.hooks.on_levels is not None:
            self.hooks.on_levels(levels)

    def _on_button_silence(self, info: dict[str, Any]) -> None:
        """A silence happened (a local button on gpiozero's thread, or a command).

        Button presses are local commands: they go into the audit trail too.
        """
        by = str(info.get("by", ""))
        loop = self._loop
        if not by.startswith("button:") or loop is None:
            return

        def record() -> None:
            store = self.runner.store
            loop.create_task(
                self.runner.call(
                    store.record_command,
                    "silence",
                    None,
                    json.dumps(info),
                    "ok",
                    f"local alarm silenced for {info.get('duration_s')} s by {by}",
                )
            )

        loop.call_soon_threadsafe(record)

    def node_condition(self, name: str, level: Level, detail: dict[str, Any] | None = None) -> None:
        """Raise (or, with Level.NONE, clear) a ``device`` alert about the node itself.

        Used for problems no sensor rule can see: a store that had to be
        replaced, a broker refusing our publishes, a disk that is full.
        """
        if level is Level.NONE:
            self._node_conditions.pop(name, None)
        else:
            self._node_conditions[name] = (level, dict(detail or {}))
        worst = max((lv for lv, _ in self._node_conditions.values()), default=Level.NONE)
        reason: dict[str, Any] = {
            "kind": "fault",
            "rule": "node",
            "fault": "+".join(sorted(self._node_conditions)) or name,
            "conditions": {k: d for k, (_, d) in self._node_conditions.items()},
        }
        cand = Candidate(
            NODE_SENSOR_ID,
            Hazard.DEVICE,
            worst,
            None,
            None,
            reason,
            self.clock.monotonic(),
            self.clock.now(),
            self.clock.synced(),
        )
        self._q_alerts.put_nowait(Evaluated(None, [cand]))

    def _on_publish_problem(self, name: str, detail: str | None) -> None:
        """A broker refusing (MQTT 5) or silently dropping (3.1.1 probe) our publishes."""
        if detail is None:
            self.node_condition(name, Level.NONE)
        else:
            self.node_condition(name, Level.ORANGE, {"detail": detail})

    def _subscriptions(self) -> list[str]:
        subs = [self.topics.cmd_filter, *self.hooks.extra_subscriptions]
        if self.config.homeassistant.enabled:
            from edge_agent.ha_discovery import ha_status_topic

            subs.append(ha_status_topic(self.config.homeassistant.prefix))
        return subs

    def _on_connected(self) -> None:
        if self.config.homeassistant.enabled:
            asyncio.get_running_loop().create_task(self.announce())

    async def announce(self) -> None:
        """Home Assistant discovery: retained configs for the agent and every sensor."""
        from edge_agent.ha_discovery import SensorInfo, discovery_messages, removal_messages

        cfg = self.config
        sensors = [
            SensorInfo(
                s.id,
                s.pack.quantity,
                s.pack.unit,
                s.pack.hazard.value,
                name=s.name,
                location=s.location,
            )
            for s in cfg.sensors
            if s.enabled
        ]
        msgs = discovery_messages(
            prefix=cfg.homeassistant.prefix,
            base_topic=cfg.base_topic,
            site_id=cfg.agent.site_id,
            device_id=cfg.agent.device_id,
            version=_version(),
            sensors=sensors,
            lang=cfg.agent.locale,
        )
        gone = sorted(self._announced - {s.sensor_id for s in sensors})
        if gone:
            msgs += removal_messages(
                cfg.homeassistant.prefix, cfg.agent.device_id, gone, site_id=cfg.agent.site_id
            )
        self._announced = {s.sensor_id for s in sensors}
        store = self.runner.store
        await self.runner.call(
            store.enqueue,
            [
                OutboxRow(
                    "discovery", topic, payload, qos=1, retain=True, priority=PRIORITY_CONTROL
                )
                for topic, payload in msgs
            ],
        )
        if self.publisher is not None:
            self.publisher.wake()

    # -- commands -------------------------------------------------------------------------------

    def _on_message(self, msg: Inbound) -> None:
        prefix = self.topics.cmd("")
        if self.config.homeassistant.enabled:
            from edge_agent.ha_discovery import ha_status_topic, is_ha_online, rediscovery_delay

            if msg.topic == ha_status_topic(self.config.homeassistant.prefix):
                if is_ha_online(msg.payload):
                    import random

                    loop = asyncio.get_running_loop()
                    loop.call_later(
                        rediscovery_delay(random.Random()),
                        lambda: loop.create_task(self.announce()),
                    )
                return
        if msg.topic.startswith(prefix):
            name = msg.topic[len(prefix) :]
            if name in ("result", PROBE_COMMAND):
                return
            payload: bytes | None = msg.payload
            if self.signer is not None:
                payload = self.signer.check_command(msg.topic, msg.payload, msg.sig)
            if payload is None:
                log.warning(
                    "command %r refused: not signed with the operator key ([signing])", name
                )
                asyncio.get_running_loop().create_task(
                    self.refuse_command(name, msg.payload, "not signed with the operator key")
                )
                return
            asyncio.get_running_loop().create_task(self.handle_command(name, payload))

    async def refuse_command(self, name: str, payload: bytes, why: str) -> None:
        """Audit a command that failed its signature check; answer it as an error."""
        store = self.runner.store
        detail = f"{name}: refused, {why}"
        await self.runner.call(
            store.record_command,
            name,
            None,
            payload.decode("utf-8", "replace")[:4000],
            "refused",
            detail,
        )
        await self._answer(name, None, "error", detail)

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
        store = self.runner.store
        await self.runner.call(
            store.record_command,
            name,
            cmd_id,
            payload.decode("utf-8", "replace")[:4000],
            outcome,
            detail,
        )
        await self._answer(name, cmd_id, outcome, detail)
        return outcome, detail

    async def _answer(self, name: str, cmd_id: str | None, outcome: str, detail: str) -> None:
        result = {
            "schema": CMD_RESULT_SCHEMA,
            "id": cmd_id,
            "command": name,
            "outcome": outcome,
            "detail": detail,
            "site_id": self.config.agent.site_id,
            "device_id": self.config.agent.device_id,
            "ts": iso(self.clock.now()),
        }
        store = self.runner.store
        await self.runner.call(
            store.enqueue,
            [
                OutboxRow(
                    "cmd_result",
                    self.topics.cmd_result,
                    dumps(result),
                    qos=1,
                    retain=False,
                    priority=PRIORITY_CONTROL,
                )
            ],
        )
        if self.publisher is not None:
            self.publisher.wake()

    async def _apply(self, cmd: Command) -> tuple[str, str]:
        if cmd.name in ("ack", "resolve"):
            reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            await self._q_alerts.put(StaffCommand(cmd.name, cmd.args, reply))
            outcome, detail, _events = await reply
            return outcome, detail
        if cmd.name == "silence":
            if self.alarm is None:
                return "error", "silence: this node has no local alarm outputs ([[outputs]])"
            asked = float(cmd.args.get("duration_s") or DEFAULT_SILENCE_S)
            applied = self.alarm.silence(asked, f"mqtt:{cmd.args['by']}")
            if applied <= 0:
                return "ok", "silence: nothing was sounding"
            return "ok", (
                f"silence: local alarm silenced for {applied:g} s by {cmd.args['by']}"
                + (" (capped)" if applied < asked else "")
            )
        if cmd.name == "reload":
            return await self.reload()
        return "error", f"{cmd.name}: not available on this node"

    async def reload(self) -> tuple[str, str]:
        """Re-read the config and rule packs; keep alert state, models and the outbox.

        Sensors added or whose driver settings changed are (re)started, removed
        ones stopped; rules, timings, locations and texts take effect at once.
        The broker link, ids, state directory and outputs need a restart.
        """
        from edge_agent.config.load import load_config

        if self.config.source is None:
            return "error", "reload: this agent was not started from a config file"
        try:
            new = load_config(self.config.source)
        except ConfigError as exc:
            return "error", "reload refused, config unchanged: " + "; ".join(exc.problems)
        old = self.config
        restart = [
            name
            for name, a, b in (
                ("mqtt", old.mqtt, new.mqtt),
                ("agent", old.agent, new.agent),
                ("outputs", old.outputs, new.outputs),
            )
            if a != b
        ]
        old_sensors = {s.id: s for s in old.sensors if s.enabled}
        new_sensors = {s.id: s for s in new.sensors if s.enabled}
        changed = [
            sid
            for sid in new_sensors
            if sid in old_sensors and _driver_changed(old_sensors[sid], new_sensors[sid])
        ]
        removed = [sid for sid in old_sensors if sid not in new_sensors]
        added = [sid for sid in new_sensors if sid not in old_sensors]
        for sid in removed + changed:
            task = self._acquirers.pop(sid, None)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            driver = self.drivers.pop(sid, None)
            if driver is not None:
                with contextlib.suppress(Exception):
                    await driver.aclose()
        self.config = new
        self.rulesets.clear()
        self.rulesets.update(build_rulesets(new, self.registry))
        for sid, timing in build_timings(new).items():
            self.book.set_timing(sid, timing)
        self.detection.reconfigure(detect_specs(new))
        self.renderer = EventRenderer(new, self.boot_id)
        if self.persist is not None:
            self.persist.renderer = self.renderer
        for sid in added + changed:
            s = new_sensors[sid]
            driver = self.registry.driver(s.driver)(s.id, s.driver_options, self.context)
            self.drivers[sid] = driver
            self._start_acquire(driver)
        if new.homeassistant.enabled and self.publisher is not None and self.publisher.connected:
            await self.announce()
        detail = (
            f"reload: {len(new_sensors)} sensors (added {added or 'none'}, removed "
            f"{removed or 'none'}, restarted {changed or 'none'}); rules and timings "
            "reloaded, alert state kept"
        )
        if restart:
            detail += f"; restart needed for changes to: {', '.join(restart)}"
        return "ok", detail

    # -- status ---------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {
            "liveness": self.liveness.snapshot(),
            "link": self.publisher.describe() if self.publisher else None,
            "open_alerts": len(self.book.open_alerts()),
            "queues": {
                "detect": self._q_detect.qsize(),
                "rules": self._q_rules.qsize(),
                "alerts": self._q_alerts.qsize(),
                "store": self._q_store.qsize(),
            },
        }


def build_signer(config: Config) -> Signer | None:
    """The payload signer and command checker, or None when ``[signing]`` is off.

    Raises ConfigError for a missing or world-readable key file, so a node
    never runs believing it signs when it does not.
    """
    sg = config.signing
    if not sg.enabled:
        return None
    base = config.source.resolve().parent if config.source else None
    device_key = read_key(resolve_secret_path(sg.key_file, base_dir=base))
    if device_key is None:
        raise ConfigError([f"signing.key_file: {sg.key_file} is empty; signing needs a key"])
    operator_key = None
    if sg.operator_key_file:
        operator_key = read_key(resolve_secret_path(sg.operator_key_file, base_dir=base))
    if operator_key is None:
        log.warning("signing is on but there is no operator key: every command will be refused")
    return Signer(
        device_key=device_key,
        operator_key=operator_key,
        v5=config.mqtt.protocol == "5",
        require_signed_commands=True,
    )


def _driver_changed(a: SensorConfig, b: SensorConfig) -> bool:
    return a.driver != b.driver or a.driver_options != b.driver_options


def _version() -> str:
    from edge_agent import __version__

    return __version__
