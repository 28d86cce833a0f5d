"""A fake serial sensor on the master side of a pseudo-terminal pair.

The driver under test opens the slave side by path (``/dev/pts/N`` or a
symlink to it, like ``/dev/serial/by-id/...``) exactly as it would open a real
UART. A thread on the master side answers commands and streams output through
a :class:`FakeSensor` that speaks the sensor's real protocol. ``unplug`` closes
the pty and removes the link, as pulling a USB adapter does; ``replug``
creates a new pty and points the link at it.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from pathlib import Path
from typing import Protocol


class FakeSensor(Protocol):
    def on_bytes(self, data: bytes) -> bytes:
        """Bytes the host sent; returns the reply to write back (may be empty)."""
        ...

    def next_chunk(self) -> bytes | None:
        """Called every ``period_s``: bytes the sensor sends on its own, or None."""
        ...


class PtyDevice:
    def __init__(
        self, sensor: FakeSensor, *, period_s: float = 0.02, link: Path | None = None
    ) -> None:
        self.sensor = sensor
        self.period_s = period_s
        self.link = link
        self.received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._master = -1
        self._slave = -1
        self.path = ""
        self._open()
        self._thread = threading.Thread(target=self._run, name="fake-pty", daemon=True)
        self._thread.start()

    @property
    def port(self) -> str:
        """What the driver should open: the link if there is one, else the pts path."""
        return str(self.link) if self.link is not None else self.path

    def _open(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        with self._lock:
            self._master, self._slave = master, slave
            self.path = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            if tmp.is_symlink():
                tmp.unlink()
            tmp.symlink_to(self.path)
            tmp.replace(self.link)

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._master >= 0:
                os.write(self._master, data)

    def unplug(self) -> None:
        """Close both ends and remove the link: reads on the driver's side fail with EIO."""
        with self._lock:
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1
        if self.link is not None and self.link.is_symlink():
            self.link.unlink()

    def replug(self) -> None:
        self._open()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.unplug()

    def _run(self) -> None:
        next_chunk = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master < 0:
                time.sleep(self.period_s)
                continue
            timeout = max(0.0, next_chunk - time.monotonic())
            try:
                ready, _, _ = select.select([master], [], [], timeout)
                if ready:
                    data = os.read(master, 4096)
                    self.received += data
                    reply = self.sensor.on_bytes(data)
                    if reply:
                        self.write(reply)
                if time.monotonic() >= next_chunk:
                    next_chunk = time.monotonic() + self.period_s
                    chunk = self.sensor.next_chunk()
                    if chunk:
                        self.write(chunk)
            except OSError:
                # unplugged under our feet, or no reader on the other side yet
                time.sleep(self.period_s)
