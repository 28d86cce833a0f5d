"""Shared machinery of every UART driver: a reader thread, reopen with backoff, a bounded queue.

pyserial is blocking, so each serial driver owns one thread that opens the
port, feeds bytes to the driver's pure :class:`~edge_agent.drivers.scanner.FrameScanner`
and hands readings to the event loop with ``call_soon_threadsafe``. The event
loop never waits on the port.

A USB adapter that is unplugged makes ``read`` fail: the thread closes the
port, counts a reopen and tries again with exponential backoff until the
device (or its ``/dev/serial/by-id`` link) is back. Nothing is turned into a
reading meanwhile, so the sensor-fault rule sees the silence.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import grp
import os
import threading
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from edge_agent.drivers.base import Driver, DriverContext
from edge_agent.drivers.reading_queue import ReadingQueue
from edge_agent.drivers.scanner import FrameScanner

from edge_agent.errors import DriverClosedError, DriverError
from edge_agent.model import Reading
from edge_agent.options import Option

F = TypeVar("F")


def serial_options(baudrate: int) -> dict[str, Option]:
    """Options every serial driver accepts (``port`` first, as the probe shows it)."""
    return {
        "port": Option(
            str,
            "serial device or pyserial URL, e.g. /dev/serial0, /dev/ttyAMA0 (Pi 5 header), "
            "/dev/serial/by-id/usb-... for USB adapters, socket://host:port",
        ),
        "baudrate": Option(
            int,
            f"line speed in baud (the sensor's is {baudrate})",
            default=baudrate,
            min=1200,
            max=4_000_000,
        ),
        "reopen_max_s": Option(
            float,
            "longest wait between attempts to reopen a lost port",
            default=30.0,
            min=0.1,
            max=3600,
        ),
        "queue_size": Option(
            int,
            "readings held for the pipeline before the oldest is dropped",
            default=256,
            min=1,
            max=100_000,
        ),
    }


def is_device_path(url: str) -> bool:
    return "://" not in url


def port_open_hint(url: str, exc: BaseException) -> str:
    """What an installer should check when ``url`` cannot be opened."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.EACCES or "Permission denied" in text:
        group = "dialout"
        with contextlib.suppress(OSError, KeyError):
            group = grp.getgrgid(os.stat(url).st_gid).gr_name
        return (
            f"permission denied on {url}: add the service user to group {group!r} "
            f"(sudo usermod -aG {group} $USER, then log out and in) "
        )
    if code == errno.ENOENT or "No such file" in text:
        return (
            f"{url} does not exist: enable the UART (raspi-config > Interface > Serial port: "
            "login shell no, hardware yes), use /dev/ttyAMA0 for the header UART on a Pi 5, "
            "or look in /dev/serial/by-id/ for a USB adapter"
        )
    if "lock" in text.lower() or code in (errno.EBUSY, errno.EAGAIN):
        return (
            f"{url} is in use by another process: a serial console (getty) on the UART, "
            "another edge-agent, or a HAT service; `sudo fuser -v " + url + "` shows who"
        )
    if code == errno.EIO:
        return f"{url} reports an I/O error: check the USB cable and the adapter's power"
    return f"check that {url} is the right device and nothing else uses it"


class SerialDriver(Driver, Generic[F]):
    """Base of UART drivers. Subclasses supply a scanner and turn frames into readings.

    The hooks :meth:`on_open`, :meth:`on_idle`, :meth:`decode` and
    :meth:`on_close` run in the reader thread: they may block on the port
    but must not touch asyncio objects.
    """

    #: How long one ``read`` may block, so ``on_idle`` runs this often at least.
    read_timeout_s: ClassVar[float] = 0.1
    #: Backoff before the first reopen attempt; doubles up to ``reopen_max_s``.
    reopen_min_s: ClassVar[float] = 0.2

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self.bytes_received = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: ReadingQueue | None = None
        self._port: Any = None
        self._scanner: FrameScanner[F] = self.make_scanner()

    # -- hooks -----------------------------------------------------------

    @abc.abstractmethod
    def make_scanner(self) -> FrameScanner[F]:
        """A scanner that counts into ``self.frame_stats``."""

    @abc.abstractmethod
    def decode(self, frame: F) -> list[Reading]:
        """Readings for one valid frame (may be none, e.g. a command acknowledgement)."""

    def on_open(self, port: Any) -> None:
        """Configure the sensor after the port opened (wake it, set its mode)."""

    def on_idle(self, port: Any, now: float) -> None:
        """Called at least every ``read_timeout_s`` with ``time.monotonic()``: send polls here."""

    def on_close(self, port: Any) -> None:
        """Last words to the sensor before the port closes (put it to sleep)."""

    # -- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        import asyncio

        if self._closed:
            raise DriverClosedError(f"{self.name} {self.sensor_id!r} was closed")
        if self._thread is not None:
            return
        self._queue = ReadingQueue(int(self.config.get("queue_size", 256)), self.frame_stats)
        url = str(self.config["port"])
        try:
            port = await asyncio.to_thread(self._open_port)
        except Exception as exc:  # pyserial raises SerialException, ValueError or OSError
            raise DriverError(
                f"{self.name}: cannot open {url}: {exc}", hint=port_open_hint(url, exc)
            ) from exc
        self._thread = threading.Thread(
            target=self._run,
            args=(port,),
            name=f"edge-agent-{self.name}-{self.sensor_id}",
            daemon=True,
        )
        self._thread.start()

    async def readings(self) -> AsyncIterator[Reading]:
        if self._queue is None:
            raise DriverError(f"{self.name} {self.sensor_id!r}: readings() before start()")
        async for reading in self._queue:
            yield reading

    async def aclose(self) -> None:
        import asyncio

        if self._closed:
            return
        self._closed = True
        self._stop.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            with contextlib.suppress(Exception):
                port.cancel_read()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, 5.0)
        if self._queue is not None:
            self._queue.close()

    # -- reader thread ---------------------------------------------------

    def _open_port(self) -> Any:
        import serial

        url = str(self.config["port"])
        kwargs: dict[str, Any] = {
            "baudrate": int(self.config.get("baudrate", 9600)),
            "bytesize": 8,
            "parity": "N",
            "stopbits": 1,
            "timeout": self.read_timeout_s,
            "write_timeout": 1.0,
        }
        if is_device_path(url):
            kwargs["exclusive"] = True
        return serial.serial_for_url(url, **kwargs)

    def _run(self, port: Any) -> None:
        backoff = self.reopen_min_s
        max_backoff = float(self.config.get("reopen_max_s", 30.0))
        while not self._stop.is_set():
            if port is None:
                try:
                    port = self._open_port()
                except Exception as exc:
                    self._note_error(f"reopen failed: {exc}")
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, max_backoff)
                    continue
                self.frame_stats.reopens += 1
            self._port = port
            try:
                self.on_open(port)
                backoff = self.reopen_min_s
                self._pump(port)
            except Exception as exc:
                self._note_error(f"port lost: {exc}")
                self._close_quietly(port)
                self._port = port = None
                self._scanner.reset()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
        if port is not None:
            try:
                self.on_close(port)
            except Exception as exc:
                self._note_error(f"on close: {exc}")
            self._close_quietly(port)
            self._port = None

    def _pump(self, port: Any) -> None:
        while not self._stop.is_set():
            self.on_idle(port, time.monotonic())
            waiting = port.in_waiting
            data = port.read(min(max(waiting, 1), 4096))
            if not data:
                continue
            self.bytes_received += len(data)
            for frame in self._scanner.feed(data):
                for reading in self.decode(frame):
                    self._emit(reading)

    def _emit(self, reading: Reading) -> None:
        queue = self._queue
        if queue is not None and not queue.put_threadsafe(reading):
            self._stop.set()  # the loop is closed: nobody is listening any more

    def _note_error(self, message: str) -> None:
        self.frame_stats.errors += 1
        self.frame_stats.last_error = message

    @staticmethod
    def _close_quietly(port: Any) -> None:
        with contextlib.suppress(Exception):
            port.close()

    def write(self, port: Any, data: bytes) -> None:
        """Send a command; a failure propagates so the port is reopened."""
        port.write(data)
