"""One MQTT connection, with paho's own recovery switched off.

paho keeps unacknowledged QoS 1 messages in memory and resends them when it
reconnects; aiomqtt raises on publish while paho still holds a copy. Either
way a library queue would resend what our outbox resends too. So a
:class:`Link` is used for exactly one connection: paho's reconnect is off
(``reconnect_on_failure=False``), the connect is done by us, and when the
connection ends the whole client, with whatever it queued, is thrown away.
The outbox alone decides what is sent again.

paho's callbacks run on its network thread; they only hop onto the asyncio
loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.config.model import MqttConfig
from edge_agent.errors import EdgeAgentError


class LinkError(EdgeAgentError, ConnectionError):
    """Could not connect; ``fatal`` marks problems that retrying will not fix (bad credentials)."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass(frozen=True, slots=True)
class Ack:
    mid: int
    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    #: The MQTT 5 user property ``sig`` (see :mod:`edge_agent.signing`), if any.
    sig: str | None = None


#: The systemd credential the unit file loads for the broker password.
PASSWORD_CREDENTIAL = "mqtt.password"


def default_password() -> str | None:
    """The ``mqtt.password`` systemd credential when it is there and not empty.

    The installer creates the credential file empty (systemd refuses a unit
    whose credential file is missing), so empty means "not used".
    """
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    try:
        text = (Path(directory) / PASSWORD_CREDENTIAL).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def read_password(path: Path) -> str:
    """Read the MQTT password from a file or a systemd credential (``credential:NAME``)."""
    text = str(path)
    if text.startswith("credential:"):
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise LinkError(f"{text}: not running under systemd with LoadCredential=", fatal=True)
        path = Path(directory) / text.split(":", 1)[1]
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LinkError(f"cannot read MQTT password file {path}: {exc}", fatal=True) from exc


def negotiated_keepalive(keepalive_s: int) -> int:
    """The keepalive we ask for: 3/4 of ``mqtt.keepalive_s``.

    paho sends PINGREQ after one keepalive without traffic and gives up after
    a second one, so it notices a silent link after 2 x the negotiated value.
    Asking for 3/4 of the configured value keeps our promise: a silent link is
    detected within 1.5 x ``keepalive_s`` (plus paho's one-second tick).
    """
    return max(1, (keepalive_s * 3) // 4)


class Link:
    """A single MQTT connection."""

    def __init__(
        self,
        cfg: MqttConfig,
        *,
        loop: asyncio.AbstractEventLoop,
        will: tuple[str, bytes],
        on_ack: Callable[[Ack], None],
        on_message: Callable[[Inbound], None],
        on_lost: Callable[[str], None],
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.cfg = cfg
        self._loop = loop
        self._on_ack = on_ack
        self._on_message = on_message
        self._on_lost = on_lost
        self._connected: asyncio.Future[str] = loop.create_future()
        v5 = cfg.protocol == "5"
        kwargs: dict[str, Any] = {}
        if not v5:
            kwargs["clean_session"] = False  # persistent session on 3.1.1 too
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            reconnect_on_failure=False,
            **kwargs,
        )
        self.client.max_inflight_messages_set(cfg.max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.will_set(will[0], will[1], qos=1, retain=True)
        if cfg.username:
            password = read_password(cfg.password_file) if cfg.password_file else default_password()
            self.client.username_pw_set(cfg.username, password)
        if cfg.tls:
            try:
                self.client.tls_set(
                    ca_certs=str(cfg.ca_file) if cfg.ca_file else None,
                    certfile=str(cfg.cert_file) if cfg.cert_file else None,
                    keyfile=str(cfg.key_file) if cfg.key_file else None,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise LinkError(f"TLS set-up failed: {exc}", fatal=True) from exc
        self.client.on_connect = self._cb_connect
        self.client.on_disconnect = self._cb_disconnect
        self.client.on_publish = self._cb_publish
        self.client.on_message = self._cb_message
        self.lost_reason: str | None = None

    # -- paho thread -> loop -------------------------------------------------------------

    def _hop(self, fn: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self._loop.call_soon_threadsafe(fn, *args)

    def _cb_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self._hop(self._resolve_connect, bool(rc.is_failure), str(rc))

    def _resolve_connect(self, failed: bool, reason: str) -> None:
        if self._connected.done():
            return
        if failed:
            self._connected.set_exception(
                LinkError(
                    f"broker refused the connection: {reason}",
                    fatal="not authorized" in reason.lower() or "bad user" in reason.lower(),
                )
            )
        else:
            self._connected.set_result(reason)

    def _cb_disconnect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self._hop(self._lost, str(rc))

    def _lost(self, reason: str) -> None:
        if self.lost_reason is None:
            self.lost_reason = reason
        if not self._connected.done():
            self._connected.set_exception(LinkError(f"connection closed: {reason}"))
        self._on_lost(reason)

    def _cb_publish(self, client: Any, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self._hop(self._on_ack, Ack(mid, not rc.is_failure, str(rc)))

    def _cb_message(self, client: Any, userdata: Any, msg: Any) -> None:
        sig = None
        props = getattr(msg, "properties", None)
        for name, value in getattr(props, "UserProperty", None) or ():
            if name == "sig":
                sig = str(value)
        self._hop(self._on_message, Inbound(msg.topic, bytes(msg.payload), sig))

    # -- loop side --------------------------------------------------------------------------

    async def connect(self, timeout: float) -> None:
        """TCP/TLS connect in a thread, then wait for CONNACK. Raises LinkError."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        kwargs: dict[str, Any] = {}
        if self.cfg.protocol == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.cfg.session_expiry_s
            kwargs = {"clean_start": False, "properties": props}
        self.client.connect_timeout = timeout
        try:
            await asyncio.to_thread(
                self.client.connect,
                self.cfg.host,
                self.cfg.port,
                negotiated_keepalive(self.cfg.keepalive_s),
                **kwargs,
            )
        except ssl.SSLCertVerificationError as exc:
            raise LinkError(
                f"TLS certificate of {self.cfg.host} not trusted: {exc.verify_message}"
                " (check mqtt.ca_file)",
                fatal=False,
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise LinkError(f"cannot reach broker {self.cfg.host}:{self.cfg.port}: {exc}") from exc
        self.client.loop_start()
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except TimeoutError:
            self.close()
            raise LinkError(
                f"no CONNACK from {self.cfg.host}:{self.cfg.port} in {timeout:g} s"
            ) from None
        except LinkError:
            self.close()
            raise

    def publish(
        self, topic: str, payload: bytes, qos: int, retain: bool, sig: str | None = None
    ) -> int | None:
        """Hand a message to paho; the mid, or None if the connection is gone.

        ``sig`` goes out as the MQTT 5 user property ``sig``.
        """
        import paho.mqtt.client as mqtt

        props = None
        if sig is not None and self.cfg.protocol == "5":
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.UserProperty = [("sig", sig)]
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        return int(info.mid)

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)

    def close(self) -> None:
        """Drop the connection and everything paho queued for it."""
        with contextlib.suppress(Exception):  # already gone
            self.client.disconnect()
        self.client.loop_stop()

    async def aclose(self) -> None:
        """:meth:`close` off the event loop (joining paho's thread can take a second)."""
        await asyncio.to_thread(self.close)
