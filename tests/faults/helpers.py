"""Shared pieces of the fault suite: agent configs, a persistent subscriber, the ledger.

Every fault test asserts the same promise (RELIABILITY.md): every alert event
committed to the agent's SQLite store reaches a subscriber at least once.
:class:`Ledger` compares the store's ``alert_events`` with what the
subscriber received and prints the figures (lost, duplicates, timings).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.agent_helpers import sim_config
from tests.broker import Broker

SITE = "fault-site"


def stay_user() -> str:
    """Keep mosquitto as the test's user: as root it would drop to ``mosquitto``, which
    cannot enter pytest's 0700 temp folders (persistence, TLS files, password files)."""
    return "user root\n" if os.geteuid() == 0 else ""


def persistent_broker(workdir: Path, **kwargs: Any) -> Broker:
    """A broker that keeps sessions and queued messages across its own restarts."""
    pdir = workdir / "persist"
    pdir.mkdir(parents=True, exist_ok=True)
    extra = kwargs.pop("extra_conf", "")
    return Broker(
        workdir,
        extra_conf=f"{stay_user()}persistence true\npersistence_location {pdir}/\n{extra}",
        **kwargs,
    )


def fault_config(
    state_dir: Path,
    url: str,
    device: str,
    *,
    cycle_s: float = 6.0,
    interval_s: float = 0.1,
    scenarios: tuple[str, ...] = ("smoke", "water", "crowd"),
    mqtt_extra: str = "",
    store_extra: str = "",
    telemetry: tuple[float, float] = (5, 2),
    raise_after_s: float = 0.0,
    clear_after_s: float = 0.5,
    keepalive_s: int = 5,
    backoff: tuple[float, float] = (0.2, 1.0),
) -> str:
    """A burst-heavy sim agent: each sensor walks blue..red and back every ``cycle_s``."""
    text = sim_config(
        state_dir,
        url,
        scenarios=scenarios,
        cycle_s=cycle_s,
        interval_s=interval_s,
        raise_after_s=raise_after_s,
        clear_after_s=clear_after_s,
        site=SITE,
        device=device,
        mqtt_extra=mqtt_extra,
        extra=store_extra,
    )
    return (
        text.replace(
            "interval_s = 5\nalert_interval_s = 2",
            f"interval_s = {telemetry[0]}\nalert_interval_s = {telemetry[1]}",
        )
        .replace("keepalive_s = 5\n", f"keepalive_s = {keepalive_s}\n")
        .replace(
            "backoff_initial_s = 0.2\nbackoff_max_s = 1.0\n",
            f"backoff_initial_s = {backoff[0]}\nbackoff_max_s = {backoff[1]}\n",
        )
    )


def more_sensors(text: str, copies: int) -> str:
    """Repeat every ``[[sensors]]`` table ``copies`` times with ids ``{scenario}-{n}``."""
    head, _, sensors = text.partition("\n[[sensors]]")
    blocks = ["[[sensors]]" + b for b in ("\n[[sensors]]" + sensors).split("[[sensors]]")[1:]]
    out = []
    for n in range(1, copies + 1):
        for b in blocks:
            out.append(b.replace('-1"\ndriver', f'-{n}"\ndriver', 1))
    return head + "\n" + "\n".join(out)


class Subscriber:
    """An MQTT 5 subscriber with a persistent session: it misses nothing the broker kept."""

    def __init__(
        self, port: int, topic: str, client_id: str, login: tuple[str, str] | None = None
    ) -> None:
        self.topic = topic
        self.msgs: list[tuple[float, str, bytes, Any]] = []
        self._lock = threading.Lock()
        self.connects = 0
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.reconnect_delay_set(0.1, 0.5)
        if login is not None:
            self.client.username_pw_set(*login)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, keepalive=10, clean_start=False, properties=props)
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.connects and time.monotonic() < deadline:
            time.sleep(0.02)

    @classmethod
    def with_login(
        cls, port: int, topic: str, client_id: str, user: str, password: str
    ) -> Subscriber:
        return cls(port, topic, client_id, (user, password))

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connects += 1
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self.msgs.append(
                (time.monotonic(), msg.topic, bytes(msg.payload), getattr(msg, "properties", None))
            )

    def messages(self, suffix: str = "") -> list[tuple[float, str, bytes, Any]]:
        with self._lock:
            return [m for m in self.msgs if m[1].endswith(suffix)]

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(m[2]) for m in self.messages("/alerts")]

    def seqs(self, device: str | None = None) -> list[int]:
        return [
            int(a["seq"]) for a in self.alerts() if device is None or a.get("device_id") == device
        ]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def db_query(state_dir: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the agent's store without disturbing it (read-only; [] before it exists)."""
    path = state_dir / "edge-agent.db"
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def committed_seqs(state_dir: Path) -> set[int]:
    return {int(r[0]) for r in db_query(state_dir, "SELECT seq FROM alert_events")}


def outbox_alerts(state_dir: Path) -> int:
    rows = db_query(state_dir, "SELECT count(*) FROM outbox WHERE kind='alert'")
    return int(rows[0][0]) if rows else 0


class Ledger:
    """What was committed vs what arrived; prints the test's figures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.figures: dict[str, Any] = {}

    def check(self, committed: set[int], received: list[int], **extra: Any) -> tuple[set[int], int]:
        lost = committed - set(received)
        dups = len(received) - len(set(received))
        self.figures.update(
            committed=len(committed),
            received=len(received),
            lost=len(lost),
            duplicates=dups,
            **extra,
        )
        self.print()
        return lost, dups

    def print(self) -> None:
        parts = ", ".join(
            f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in self.figures.items()
        )
        print(f"\nFAULT {self.name}: {parts}")


def wait_until(cond: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> float:
    """Wait for ``cond``; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if cond():
            return time.monotonic() - start
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def drained(state_dir: Path, sub: Subscriber, device: str) -> Callable[[], bool]:
    """True once every committed alert has arrived and the outbox holds no alert rows."""

    def check() -> bool:
        c = committed_seqs(state_dir)
        return bool(c) and c <= set(sub.seqs(device)) and outbox_alerts(state_dir) == 0

    return check
