"""``edge-agent tail``: watch alerts arrive from a broker, as a person wants to read them.

Subscribes to ``{prefix}/{site|+}/{device|+}/alerts`` and ``.../status`` and
prints each alert event as its human text (title coloured by level on a
terminal: blue, yellow, orange, red; green when it ends), re-rendered with
:func:`edge_agent.text.render_message` when ``--lang`` differs from the
language the node wrote it in, and a line when a node goes online or
offline. ``--json`` prints one JSON object per line instead, for scripts:
``{"topic": ..., "retained": bool, "payload": {...}}`` with the payload exactly
as published.

Alert events are delivered at least once, so after a reconnect the broker
may send one again: ``tail`` shows each (site, device, seq) once.

Notices about the broker (unreachable, refused, lost, reconnected) go to
stderr so stdout carries only messages. A broker that is down is retried
with exponential backoff (1 s doubling to 30 s) until it appears, ``--timeout``
runs out or Ctrl-C.

Exit status: 0 when ``--count`` alerts arrived or ``--timeout`` ran out
without ``--count``; 1 when ``--timeout`` ran out before ``--count`` alerts (or
before any broker was reached); 2 on usage errors; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

DEFAULT_BROKER = "mqtt://localhost:1883"
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 30.0
CONNACK_TIMEOUT_S = 10.0
DEDUPE_MEMORY = 10_000

_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
#: ANSI styles of the title line by level; None is an alert that ended (cleared/resolved).
LEVEL_STYLES: Mapping[str | None, str] = {
    "blue": "\x1b[1;94m",
    "yellow": "\x1b[1;93m",
    "orange": "\x1b[1;38;5;208m",
    "red": "\x1b[1;91m",
    None: "\x1b[1;32m",
}
#: The few words tail writes itself (alert texts come from edge_agent.text).
_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "online": "online",
        "offline": "OFFLINE: the node stopped or lost its connection",
        "as_of": "last reported state",
        "clock": "node clock not synced: times may be wrong",
    },
    "zh-CN": {
        "online": "在线",
        "offline": "离线：节点已停止或失去连接",
        "as_of": "最近一次上报的状态",
        "clock": "节点时钟未同步：时间可能不准",
    },
}


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:port]`` or ``mqtts://...``; ValueError says what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"--broker {url!r}: use mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    if not parts.hostname:
        raise ValueError(f"--broker {url!r}: no host name")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"--broker {url!r}: the port is not a number 1-65535") from None
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        parts.hostname,
        port or (8883 if tls else 1883),
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def topics(prefix: str, site: str | None, device: str | None) -> tuple[str, str]:
    base = f"{prefix}/{site or '+'}/{device or '+'}"
    return f"{base}/alerts", f"{base}/status"


def local_time(ts: Any) -> str:
    """An ISO stamp from a payload in the viewer's local time (as is when unparseable)."""
    try:
        parsed = datetime.fromisoformat(str(ts))
    except ValueError:
        return str(ts)
    if parsed.tzinfo is None:
        return str(ts)
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class Printer:
    """Turns received messages into lines; knows nothing about the network."""

    def __init__(
        self, out: TextIO, err: TextIO, *, lang: str | None, as_json: bool, color: bool
    ) -> None:
        self.out = out
        self.err = err
        self.lang = lang
        self.as_json = as_json
        self.color = color
        self._seen: OrderedDict[tuple[str, str, int], None] = OrderedDict()

    def handle(self, topic: str, payload: bytes, retained: bool) -> bool:
        """Print one message; True when it was an alert event shown (for ``--count``)."""
        if not payload:
            return False  # a cleared retained status
        try:
            data = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.note(f"ignored a message on {topic} that is not JSON")
            return False
        if not isinstance(data, dict):
            self.note(f"ignored a message on {topic} that is not a JSON object")
            return False
        is_alert = topic.endswith("/alerts")
        if is_alert and self._duplicate(data):
            return False
        if self.as_json:
            self._write(
                json.dumps(
                    {"topic": topic, "retained": retained, "payload": data}, ensure_ascii=False
                )
            )
        elif is_alert:
            self._write(self.alert_text(data))
        else:
            self._write(self.status_text(topic, data, retained))
        return is_alert

    def _duplicate(self, data: Mapping[str, Any]) -> bool:
        seq = data.get("seq")
        if not isinstance(seq, int):
            return False
        key = (str(data.get("site_id")), str(data.get("device_id")), seq)
        if key in self._seen:
            return True
        self._seen[key] = None
        if len(self._seen) > DEDUPE_MEMORY:
            self._seen.popitem(last=False)
        return False

    def words(self) -> Mapping[str, str]:
        return _WORDS["zh-CN" if (self.lang or "").lower().startswith("zh") else "en"]

    def alert_text(self, p: Mapping[str, Any]) -> str:
        title = str(p.get("title") or "")
        body = str(p.get("message") or "")
        want = self._wanted_lang(p)
        if want is not None or not title:
            from edge_agent.text import render_message

            try:
                msg = render_message(p, want or str(p.get("lang") or "en"))
            except ValueError as exc:
                self.note(f"cannot re-render alert seq {p.get('seq')}: {exc}")
            else:
                title = msg.title
                if want is not None:
                    body = msg.body
        level = p.get("level") if p.get("level") in LEVEL_STYLES else None
        footer = " · ".join(
            str(x)
            for x in (
                f"{p.get('site_id')}/{p.get('device_id')}",
                p.get("sensor_id"),
                p.get("event"),
                f"seq {p.get('seq')}",
                f"alert {p.get('alert_id')}",
            )
            if x
        )
        if p.get("clock_synced") is False:
            footer += f" · {self.words()['clock']}"
        lines = [self._style(LEVEL_STYLES[level], f"{local_time(p.get('ts'))}  {title}")]
        lines += [f"  {line}" for line in body.splitlines()]
        lines.append(self._style(_DIM, f"  {footer}"))
        return "\n".join(lines) + "\n\n"  # a blank line between alerts

    def _wanted_lang(self, p: Mapping[str, Any]) -> str | None:
        """The language to re-render in, or None when the payload's own text will do."""
        if not self.lang:
            return None
        from edge_agent.text import resolve_lang

        want = resolve_lang(self.lang)
        return None if want == p.get("lang") else want

    def status_text(self, topic: str, p: Mapping[str, Any], retained: bool) -> str:
        node = "/".join(topic.split("/")[1:3])
        w = self.words()
        online = p.get("state") == "online"
        mark = "●" if online else "○"
        text = f"{local_time(p.get('ts'))}  {mark} {node} {w['online' if online else 'offline']}"
        details = [f"edge-agent {p['version']}" if p.get("version") else ""]
        if retained:
            details.append(w["as_of"])
        extra = ", ".join(d for d in details if d)
        if extra:
            text += f" ({extra})"
        return self._style("" if online else LEVEL_STYLES["yellow"], text)

    def _style(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.color and style else text

    def _write(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        print(f"edge-agent tail: {text}", file=self.err, flush=True)


class Tail:
    """The connect / receive / back off loop, driven from the main thread.

    paho's network loop runs in this thread (``client.loop``), so Ctrl-C lands
    here as KeyboardInterrupt and nothing is left running behind it.
    """

    def __init__(
        self,
        addr: BrokerAddress,
        url: str,
        subscriptions: tuple[str, ...],
        printer: Printer,
        *,
        count: int | None,
        timeout: float | None,
        ca_file: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.addr = addr
        self.url = url
        self.subscriptions = subscriptions
        self.printer = printer
        self.count = count
        self.clock = clock
        self.deadline = None if timeout is None else clock() + timeout
        self.shown = 0
        self.ever_connected = False
        self._connected: bool | None = None  # None: waiting for CONNACK
        self._refused: str | None = None
        self._lost: str | None = None
        self._was_up = False
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"edge-agent-tail-{os.urandom(4).hex()}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        self._ok = mqtt.MQTT_ERR_SUCCESS
        if addr.username:
            self.client.username_pw_set(addr.username, addr.password)
        if addr.tls:
            self.client.tls_set(ca_certs=ca_file)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # paho callbacks (called from client.loop in this thread)
    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            self._refused = str(rc)
            return
        self._connected = True
        for topic in self.subscriptions:
            client.subscribe(topic, qos=1)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self._lost = str(rc)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if self.printer.handle(msg.topic, bytes(msg.payload), bool(msg.retain)):
            self.shown += 1

    # the loop
    def done(self) -> bool:
        return self.count is not None and self.shown >= self.count

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    def run(self) -> int:
        attempt = 0
        while not self.done() and not self.expired():
            problem = self._session()
            if self.done() or self.expired():
                break
            if problem is None:
                continue
            if self._was_up:
                attempt = 0  # a connection that worked starts the backoff afresh
            delay = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** min(attempt, 10))
            attempt += 1
            self.printer.note(f"{problem}; retrying in {delay:.0f} s")
            self._sleep(delay)
        code = self.exit_code()
        if code != 0:
            got = "" if self.count is None else f" with {self.shown} of {self.count} alerts"
            seen = "" if self.ever_connected else " without reaching the broker"
            self.printer.note(f"--timeout ran out{seen}{got}")
        return code

    def exit_code(self) -> int:
        if self.count is not None:
            return 0 if self.done() else 1
        return 0 if self.ever_connected else 1

    def _sleep(self, seconds: float) -> None:
        left = self.left()
        time.sleep(max(0.0, seconds if left is None else min(seconds, left)))

    def _session(self) -> str | None:
        """One connection from connect to loss; returns what went wrong, None on a clean end."""
        self._connected, self._refused, self._lost = None, None, None
        self._was_up = False
        try:
            self.client.connect(self.addr.host, self.addr.port, keepalive=30)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return f"cannot reach the broker at {self.url} ({reason})"
        started = self.clock()
        try:
            while not self.done() and not self.expired():
                rc = self.client.loop(timeout=0.2)
                if self._refused:
                    return f"the broker at {self.url} refused the connection: {self._refused}"
                if self._connected and not self._was_up:
                    self._was_up = True
                    again = "reconnected to" if self.ever_connected else "connected to"
                    self.ever_connected = True
                    self.printer.note(
                        f"{again} {self.url}; waiting for alerts on {self.subscriptions[0]}"
                    )
                if self._lost is not None or rc != self._ok:
                    return f"lost the connection to {self.url} ({self._lost or rc})"
                if self._connected is None and self.clock() - started > CONNACK_TIMEOUT_S:
                    return f"the broker at {self.url} did not answer the MQTT handshake"
            return None
        finally:
            if self.done() or self.expired():
                self.close()

    def close(self) -> None:
        try:
            self.client.disconnect()
            self.client.loop(timeout=0.1)
        except Exception:  # the socket may already be gone; nothing to save
            pass


def _want_color(choice: str, out: TextIO) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(out, "isatty", lambda: False)())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="edge-agent tail",
        description="Subscribe to a broker and print alert events as people read them "
        "(title coloured by level on a terminal, then what to do), plus a line when a node "
        "goes online or offline. Retries a broker that is down; Ctrl-C stops.",
        epilog='--json prints one object per line: {"topic", "retained", "payload"}, the '
        "payload as published. Each alert event (site, device, seq) is shown once. Exit 0 when "
        "--count alerts arrived (or --timeout ran out without --count), 1 when --timeout ran "
        "out first, 130 on Ctrl-C.",
    )
    parser.add_argument(
        "--broker",
        default=DEFAULT_BROKER,
        metavar="URL",
        help=f"mqtt://[user:pass@]HOST[:PORT] or mqtts://... (default {DEFAULT_BROKER})",
    )
    parser.add_argument("--site", metavar="ID", help="only this site (default: every site)")
    parser.add_argument("--device", metavar="ID", help="only this device (default: every one)")
    parser.add_argument("--prefix", default="edge", help="topic prefix (default edge)")
    parser.add_argument(
        "--lang",
        choices=("zh-CN", "en"),
        help="language of alert texts (default: as each node wrote them)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line, for scripts")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour titles by level (default auto: when stdout is a terminal "
        "and NO_COLOR is not set)",
    )
    parser.add_argument("--count", type=int, metavar="N", help="exit after N alert events")
    parser.add_argument("--timeout", type=float, metavar="S", help="exit after S seconds")
    parser.add_argument(
        "--ca-file", metavar="PATH", help="CA certificate for mqtts:// (default: the system's)"
    )
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count: must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout: must be a positive number of seconds")
    for name in ("site", "device", "prefix"):
        value = getattr(args, name)
        if value is not None and (not value or any(c in value for c in "#+/")):
            parser.error(f"--{name}: {value!r} must be one topic level (no '/', '+' or '#')")
    try:
        addr = parse_broker_url(args.broker)
    except ValueError as exc:
        parser.error(str(exc))

    printer = Printer(
        sys.stdout,
        sys.stderr,
        lang=args.lang,
        as_json=args.json,
        color=not args.json and _want_color(args.color, sys.stdout),
    )
    tail = Tail(
        addr,
        args.broker,
        topics(args.prefix, args.site, args.device),
        printer,
        count=args.count,
        timeout=args.timeout,
        ca_file=args.ca_file,
    )
    try:
        return tail.run()
    except KeyboardInterrupt:
        tail.close()
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        from edge_agent.cli.status import quiet_stdout

        tail.close()
        quiet_stdout()
        return 0
