"""Drain the outbox to the broker: at least once, alert events first, nothing lost.

The publisher owns the reconnect loop (exponential backoff with full jitter
and a cap, so a fleet does not reconnect in lock-step after a broker
restart). While connected it keeps up to ``max_inflight`` outbox rows in
flight; a row is deleted only when its PUBACK arrives with a success reason
code. A refused publish (MQTT 5 reason code such as 0x87 "not authorized",
which Mosquitto sends for an ACL deny) is parked, counted and reported,
never treated as delivered. When the connection ends, everything in flight
stays in the outbox and is sent again on the next connection: duplicates
are possible (consumers dedupe on device_id + seq), losses are not.

MQTT 3.1.1 has no reason code in PUBACK, and Mosquitto acknowledges a
publish it dropped by ACL exactly like a delivered one. So under 3.1.1 the
publisher first proves that the broker forwards what this node writes: it
publishes a probe on ``{base}/cmd/probe`` (the node subscribes to
``{base}/cmd/+`` anyway) and drains the outbox only after the probe came
back. No echo means "publish_unverified": the outbox is held and the
operator is told, instead of rows being deleted as if delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from edge_agent.config.model import MqttConfig
from edge_agent.mqtt.link import Ack, Inbound, Link, LinkError
from edge_agent.signing import Signer
from edge_agent.store.db import OutboxItem
from edge_agent.store.runner import StoreRunner

log = logging.getLogger("edge_agent.publish")

#: Seconds between probes while a 3.1.1 broker does not echo what we write.
REPROBE_S = 30.0


def full_jitter(attempt: int, initial: float, cap: float, rng: random.Random) -> float:
    """AWS-style "full jitter": uniform in [0, min(cap, initial * 2**attempt)]."""
    return rng.uniform(0.0, min(cap, initial * (2 ** min(attempt, 30))))


@dataclass(slots=True)
class LinkState:
    """What ``status`` and the demo show about the broker link."""

    state: str = "starting"  # starting | connecting | connected | disconnected
    since_mono: float = field(default_factory=time.monotonic)
    last_error: str | None = None
    connects: int = 0
    published: int = 0
    refused: int = 0
    last_publish_mono: float | None = None


class Publisher:
    """The outbox drainer and reconnect loop."""

    def __init__(
        self,
        cfg: MqttConfig,
        store: StoreRunner,
        *,
        will: tuple[str, bytes],
        online: Callable[[], tuple[str, bytes]],
        offline: Callable[[], tuple[str, bytes]],
        subscriptions: list[str],
        on_message: Callable[[Inbound], None],
        on_state: Callable[[LinkState], None] | None = None,
        on_problem: Callable[[str, str | None], None] | None = None,
        on_connected: Callable[[], None] | None = None,
        rng: random.Random | None = None,
        connect_timeout: float = 10.0,
        signer: Signer | None = None,
        probe_topic: str | None = None,
    ) -> None:
        """``on_problem(name, detail)`` reports an operator-visible delivery problem
        (``publish_refused``, ``publish_unverified``); ``detail`` None clears it.
        ``probe_topic`` (inside a subscribed filter) enables the MQTT 3.1.1 echo probe.
        """
        self.cfg = cfg
        self.store = store
        self._will = will
        self._online = online
        self._offline = offline
        self._subscriptions = subscriptions
        self._on_message = on_message
        self._on_state = on_state
        self._on_problem = on_problem
        self._problems: set[str] = set()
        self._signer = signer
        self._probe_topic = probe_topic if cfg.protocol == "3.1.1" else None
        self._probe_nonce: str | None = None
        self._probe_echoed = False
        self._on_connected = on_connected
        self._rng = rng or random.Random()
        self._connect_timeout = connect_timeout
        self.link_state = LinkState()
        self._logged_error: str | None = None
        self._wake = asyncio.Event()
        self._acks: list[Ack] = []
        self._lost = asyncio.Event()
        self._link: Link | None = None
        self.heartbeat: Callable[[], None] = lambda: None

    def wake(self) -> None:
        """Tell the publisher the outbox has new rows."""
        self._wake.set()

    @property
    def connected(self) -> bool:
        return self.link_state.state == "connected"

    def _set_state(self, state: str, error: str | None = None) -> None:
        changed = state != self.link_state.state or error != self.link_state.last_error
        self.link_state.state = state
        self.link_state.since_mono = time.monotonic()
        if error is not None or state == "connected":
            self.link_state.last_error = error
        if changed:
            if state == "connected":
                log.info("connected to %s:%s", self.cfg.host, self.cfg.port)
            elif state == "disconnected" and error != self._logged_error:
                log.warning("broker link down: %s", error)
            if state != "connecting":
                self._logged_error = error
            if self._on_state is not None:
                self._on_state(self.link_state)

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            self._set_state("connecting")
            link = self._new_link()
            try:
                await link.connect(self._connect_timeout)
            except LinkError as exc:
                self._set_state("disconnected", str(exc))
                delay = full_jitter(
                    attempt, self.cfg.backoff_initial_s, self.cfg.backoff_max_s, self._rng
                )
                attempt += 1
                await _wait(stop, max(delay, 0.05), self.heartbeat)
                continue
            attempt = 0
            self._link = link
            self.link_state.connects += 1
            self._set_state("connected")
            try:
                await self._serve(link, stop)
            finally:
                self._link = None
                if stop.is_set():
                    await self._say_offline(link)
                await link.aclose()
            if not stop.is_set():
                self._set_state("disconnected", link.lost_reason or "connection lost")
                # Back off a little even after a good connection, with jitter, so
                # a fleet does not reconnect in lock-step after a broker restart.
                await _wait(
                    stop,
                    full_jitter(0, self.cfg.backoff_initial_s, self.cfg.backoff_max_s, self._rng),
                    self.heartbeat,
                )

    def _new_link(self) -> Link:
        self._lost = asyncio.Event()
        self._acks = []
        loop = asyncio.get_running_loop()

        def on_ack(ack: Ack) -> None:
            self._acks.append(ack)
            self._wake.set()

        def on_lost(reason: str) -> None:
            self._lost.set()
            self._wake.set()

        return Link(
            self.cfg,
            loop=loop,
            will=self._sign_will(),
            on_ack=on_ack,
            on_message=self._inbound,
            on_lost=on_lost,
        )

    def _sign_will(self) -> tuple[str, bytes]:
        # A Will has no user properties here; under 3.1.1 the embedded form signs it.
        topic, payload = self._will
        if self._signer is not None and not self._signer.v5:
            payload, _ = self._signer.sign(topic, payload)
        return topic, payload

    def _inbound(self, msg: Inbound) -> None:
        if msg.topic == self._probe_topic:
            if self._probe_nonce is not None and self._probe_nonce.encode() in msg.payload:
                self._probe_echoed = True
                self._wake.set()
            return
        self._on_message(msg)

    def _send(self, link: Link, topic: str, payload: bytes, qos: int, retain: bool) -> int | None:
        sig = None
        if self._signer is not None:
            payload, sig = self._signer.sign(topic, payload)
        return link.publish(topic, payload, qos, retain, sig)

    def _problem(self, name: str, detail: str | None) -> None:
        if detail is None:
            if name not in self._problems:
                return
            self._problems.discard(name)
        else:
            self._problems.add(name)
        if self._on_problem is not None:
            self._on_problem(name, detail)

    async def _verify_writes(self, link: Link, stop: asyncio.Event) -> bool:
        """MQTT 3.1.1 only: publish a probe and wait for the broker to echo it back."""
        assert self._probe_topic is not None
        while not stop.is_set() and not self._lost.is_set():
            self._probe_nonce = secrets.token_hex(8)
            self._probe_echoed = False
            body = b'{"probe":"' + self._probe_nonce.encode() + b'"}'
            if self._send(link, self._probe_topic, body, 1, False) is None:
                return False
            deadline = time.monotonic() + max(5.0, float(self.cfg.keepalive_s))
            while not self._probe_echoed and time.monotonic() < deadline:
                if stop.is_set() or self._lost.is_set():
                    return False
                self.heartbeat()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            if self._probe_echoed:
                self._problem("publish_unverified", None)
                return True
            detail = (
                f"the broker does not forward what this node publishes (no echo of "
                f"{self._probe_topic}): check its ACL allows readwrite on this node's topics; "
                "the outbox is held"
            )
            if self.link_state.last_error != detail:
                log.error("%s", detail)
            self.link_state.last_error = detail
            if self._on_state is not None:
                self._on_state(self.link_state)
            self._problem("publish_unverified", detail)
            end = time.monotonic() + REPROBE_S
            while time.monotonic() < end and not stop.is_set() and not self._lost.is_set():
                self.heartbeat()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
        return False

    async def _serve(self, link: Link, stop: asyncio.Event) -> None:
        for sub in self._subscriptions:
            link.subscribe(sub)
        topic, payload = self._online()
        self._send(link, topic, payload, 1, True)
        if self._probe_topic is not None and not await self._verify_writes(link, stop):
            return
        if self._on_connected is not None:
            self._on_connected()
        inflight: dict[int, tuple[int, str]] = {}  # mid -> (outbox row id, kind)
        # Rows read ahead of the window, so the window refills the moment a PUBACK
        # arrives instead of after a store round trip (they stay in the outbox).
        ready: deque[OutboxItem] = deque()
        window = self.cfg.max_inflight
        store = self.store.store
        while not stop.is_set() and not self._lost.is_set():
            self.heartbeat()
            self._wake.clear()
            acks, self._acks = self._acks, []
            done: list[int] = []
            refused: list[tuple[int, str]] = []
            alert_ok = False
            for ack in acks:
                entry = inflight.pop(ack.mid, None)
                if entry is None:
                    continue  # the status message or a row from before a resend
                if ack.ok:
                    done.append(entry[0])
                    alert_ok = alert_ok or entry[1] == "alert"
                else:
                    refused.append((entry[0], ack.reason))
            while ready and len(inflight) < window:
                row = ready.popleft()
                mid = self._send(link, row.topic, row.payload, row.qos, row.retain)
                if mid is None:
                    self._lost.set()
                    break
                if row.qos == 0:
                    done.append(row.id)
                else:
                    inflight[mid] = (row.id, row.kind)
            if done:
                await self.store.call(store.outbox_done, done)
                self.link_state.published += len(done)
                self.link_state.last_publish_mono = time.monotonic()
            for row_id, reason in refused:
                await self.store.call(store.outbox_failed, row_id, f"refused: {reason}")
                self.link_state.refused += 1
                log.error(
                    "broker refused outbox row %s (%s): kept, not delivered; "
                    "check the broker's ACL for this device",
                    row_id,
                    reason,
                )
                self._problem("publish_refused", f"broker refused a publish: {reason}")
            if alert_ok and not refused:
                self._problem("publish_refused", None)
            if len(ready) < window and not self._lost.is_set():
                busy = [r for r, _ in inflight.values()] + [r.id for r in ready]
                more = await self.store.call(store.outbox_batch, 2 * window - len(ready), busy)
                ready.extend(more)
                if more and len(inflight) < window:
                    continue  # publish them at once
            if self._acks:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def _say_offline(self, link: Link) -> None:
        """On a clean stop, retain ``offline`` ourselves: a clean DISCONNECT suppresses the Will."""
        if self._lost.is_set():
            return
        topic, payload = self._offline()
        mid = self._send(link, topic, payload, 1, True)
        if mid is None:
            return
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not any(a.mid == mid for a in self._acks):
            await asyncio.sleep(0.02)

    def describe(self) -> dict[str, object]:
        s = self.link_state
        return {
            "state": s.state,
            "since_s": round(time.monotonic() - s.since_mono, 1),
            "last_error": s.last_error,
            "connects": s.connects,
            "published": s.published,
            "refused": s.refused,
        }


async def _wait(stop: asyncio.Event, seconds: float, beat: Callable[[], None]) -> None:
    """Sleep up to ``seconds`` or until ``stop``; keep beating so the watchdog sees us alive."""
    end = time.monotonic() + seconds
    while not stop.is_set():
        beat()
        left = end - time.monotonic()
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(left, 1.0))
