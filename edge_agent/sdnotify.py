"""The systemd notify protocol in pure Python, and the watchdog task that uses it.

Why not a library: the protocol is one datagram of ``KEY=VALUE`` lines sent to
the socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` means Linux's abstract
namespace), so a dependency would cost more than it saves on a Raspberry Pi.

Under ``Type=notify`` systemd waits for ``READY=1`` before it calls the unit
started, and with ``WatchdogSec=`` it kills the service (SIGABRT) when
``WATCHDOG=1`` does not arrive within ``WATCHDOG_USEC``. The watchdog is only
worth something if the ping means "healthy", so :func:`run_watchdog` pings
only while a liveness check passes (see :mod:`edge_agent.liveness`), never on
a bare timer.

Outside systemd (no ``NOTIFY_SOCKET``) every call is a cheap no-op, so the
daemon calls the notifier unconditionally.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state changes to systemd; does nothing when not started by systemd.

    ``environ`` defaults to :data:`os.environ`; tests pass their own mapping.
    Sending never blocks (a full socket buffer drops the message with a
    warning rather than stall the event loop) and never raises: losing a
    status line must not take an alarm node down. A lost ``WATCHDOG=1`` is
    harmless because the next one follows within half the watchdog interval.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _parse_address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_usec = _watchdog_usec(env)
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when systemd gave us a socket to notify."""
        return self._address is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """Seconds between pings (half of ``WATCHDOG_USEC``), or None without a watchdog."""
        if self._address is None or self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 2_000_000

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd start-up is complete (the pipeline runs)."""
        return self.notify("READY=1", *(() if status is None else (_status_field(status),)))

    def status(self, text: str) -> bool:
        """Set the one-line text ``systemctl status`` shows."""
        return self.notify(_status_field(text))

    def watchdog(self) -> bool:
        """Ping the watchdog. Call only when the daemon is known to be healthy."""
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """Tell systemd an orderly shutdown has begun."""
        return self.notify("STOPPING=1", *(() if status is None else (_status_field(status),)))

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more start-up/shut-down time (e.g. a long ``quick_check`` or outbox drain)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(1, round(seconds * 1_000_000))}")

    def notify(self, *fields: str) -> bool:
        """Send raw ``KEY=VALUE`` fields in one datagram; True if it was sent."""
        if self._address is None or not fields:
            return False
        for f in fields:
            if "\n" in f or "=" not in f:
                raise ValueError(f"a notify field is one KEY=VALUE line, got {f!r}")
        data = "\n".join(fields).encode("utf-8")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto(data, self._address)
        except OSError as exc:
            self._warn(exc)
            return False
        return True

    def close(self) -> None:
        """Release the socket; later calls reopen it. Idempotent."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _warn(self, exc: OSError) -> None:
        # One warning, then debug: a broken socket would otherwise flood the
        # journal every few seconds with the same line.
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        hint = " (systemd's queue is full)" if exc.errno in (errno.EAGAIN, errno.ENOBUFS) else ""
        log.log(level, "cannot notify systemd at %r: %s%s", self._address, exc, hint)


def _parse_address(raw: str) -> str | None:
    """``$NOTIFY_SOCKET`` -> a socket address: a path, or ``\\0name`` for ``@name``."""
    if not raw:
        return None
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    # systemd >= 253 may hand out vsock:CID:PORT for VMs; a Pi never needs it.
    log.warning("ignoring NOTIFY_SOCKET=%r: only AF_UNIX sockets are supported", raw)
    return None


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """``WATCHDOG_USEC`` if it is meant for this process (``WATCHDOG_PID`` matches)."""
    raw = env.get("WATCHDOG_USEC", "")
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # inherited from a parent that is the real watchdog target
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not an integer", raw)
        return None
    return usec if usec > 0 else None


def _status_field(text: str) -> str:
    """One ``STATUS=`` line: newlines would start new fields, so they become spaces."""
    return "STATUS=" + " ".join(text.split())


async def run_watchdog(
    notifier: Notifier,
    is_alive: Callable[[], bool],
    interval_s: float | None = None,
) -> None:
    """Ping ``WATCHDOG=1`` every ``interval_s`` while ``is_alive()`` is true.

    ``interval_s`` defaults to half of ``WATCHDOG_USEC``. Returns at once when
    there is no watchdog (not under systemd, or ``WatchdogSec=`` unset), so the
    daemon can always start this task. When ``is_alive()`` turns false the
    pings stop and systemd restarts us one watchdog interval later; if health
    comes back first, pings resume. A blocked event loop stops the pings by
    itself (this coroutine cannot run), and the loop-lag probe in
    :class:`~edge_agent.liveness.Liveness` keeps them stopped for the first
    check after the loop unblocks.
    """
    interval = notifier.watchdog_interval_s if interval_s is None else interval_s
    if interval is None or not notifier.enabled:
        return
    if interval <= 0:
        raise ValueError(f"watchdog interval must be > 0, got {interval!r}")
    healthy = True
    while True:
        alive = is_alive()
        if alive:
            notifier.watchdog()
            if not healthy:
                log.warning("liveness check passes again: watchdog pings resumed")
        elif healthy:
            log.error("liveness check failed: watchdog pings stopped, systemd will restart us")
        healthy = alive
        await asyncio.sleep(interval)
