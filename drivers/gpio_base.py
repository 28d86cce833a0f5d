"""Shared machinery of GPIO drivers: devices from the injected pin factory, edges hopped
onto the event loop with their own timestamps, and a periodic tick.

gpiozero runs callbacks in its own threads (synchronously in the driving
thread with ``MockFactory``). A callback here does only two things: take a
timestamp from the injected clock and ``call_soon_threadsafe`` the edge onto
the loop. All state lives on the loop, so no locks are needed.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from edge_agent.drivers.base import Driver, DriverContext
from edge_agent.drivers.debounce import LevelQualifier
from edge_agent.drivers.reading_queue import ReadingQueue

from edge_agent.errors import DriverClosedError, DriverError
from edge_agent.model import Reading
from edge_agent.options import Option

if TYPE_CHECKING:  # asyncio is imported where used: plugin discovery must stay light
    import asyncio

BCM_PIN_HELP = "BCM GPIO number (GPIO17 = 17, physical pin 11)"


def pin_option(help_text: str, default: Any = None) -> Option:
    def check(value: Any) -> str | None:
        return (
            None if 0 <= value <= 27 else f"BCM GPIO numbers on the header are 0..27, got {value}"
        )

    if default is None:
        return Option(int, f"{help_text}: {BCM_PIN_HELP}", check=check)
    return Option(int, f"{help_text}: {BCM_PIN_HELP}", default=default, check=check)


def input_options(active_help: str, default_active: str = "low") -> dict[str, Option]:
    return {
        "pull": Option(
            str,
            "internal resistor: up (contact or open collector to GND), down, or "
            "off (the board has its own)",
            default="up",
            choices=("up", "down", "off"),
        ),
        "active": Option(str, active_help, default=default_active, choices=("low", "high")),
    }


def gpio_hint(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, PermissionError) or "Permission" in text:
        return (
            "no access to the GPIO chip: add the service user to group 'gpio' "
            "(sudo usermod -aG gpio $USER, then log out and in)"
        )
    if "PinInUse" in name or "in use" in text:
        return "the pin is already used by another device in this config or another program"
    if "Factory" in name or "factory" in text:
        return (
            "no GPIO library: on Raspberry Pi OS install python3-lgpio (the only one that "
            "works on a Pi 5), or set GPIOZERO_PIN_FACTORY"
        )
    if "SPI" in name:
        return "enable SPI (raspi-config > Interface > SPI) and add the user to group 'spi'"
    return "check the pin numbers (BCM, not physical) and that nothing else uses them"


def make_input(pin: int, pull: str, active: str, factory: Any) -> tuple[Any, bool]:
    """A ``DigitalInputDevice`` and whether its ``is_active`` must be inverted to mean
    "the pin is at the ``active`` level"."""
    from gpiozero import DigitalInputDevice

    if pull == "off":
        return DigitalInputDevice(
            pin, pull_up=None, active_state=(active == "high"), pin_factory=factory
        ), False
    pull_up = pull == "up"
    device = DigitalInputDevice(pin, pull_up=pull_up, pin_factory=factory)
    # With a pull-up gpiozero calls "low" active; with a pull-down, "high".
    natural = "low" if pull_up else "high"
    return device, natural != active


class GpioDriver(Driver):
    """Base of drivers built on gpiozero devices."""

    #: Seconds between :meth:`on_tick` calls (qualification, heartbeats).
    tick_s: ClassVar[float] = 0.05

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._queue: ReadingQueue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._devices: list[Any] = []
        self._last_heartbeat = 0.0

    @abc.abstractmethod
    def open_devices(self) -> None:
        """Create gpiozero devices (via ``self.context.pin_factory``) and add them with
        :meth:`own`. Runs on the loop; keep it quick."""

    def on_tick(self, now: float) -> None:
        """Periodic work on the loop with ``context.clock.monotonic()``."""

    def own(self, device: Any) -> Any:
        self._devices.append(device)
        return device

    def hop(self, fn: Callable[..., None], *args: Any) -> None:
        """From a gpiozero callback thread: run ``fn(*args)`` on the loop."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            loop.call_soon_threadsafe(fn, *args)

    def emit(self, reading: Reading) -> None:
        """On the loop: hand a reading to the pipeline."""
        if self._queue is not None and not self._closed:
            self._queue.put(reading)

    def heartbeat_due(self, now: float) -> bool:
        """True once per ``interval_s``: GPIO sensors report their state even when it is
        unchanged, so silence always means a fault."""
        interval = float(self.config.get("interval_s", 60.0))
        if now - self._last_heartbeat >= interval:
            self._last_heartbeat = now
            return True
        return False

    async def start(self) -> None:
        import asyncio

        if self._closed:
            raise DriverClosedError(f"{self.name} {self.sensor_id!r} was closed")
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue = ReadingQueue(int(self.config.get("queue_size", 256)), self.frame_stats)
        try:
            self.open_devices()
        except Exception as exc:  # gpiozero raises many kinds; say which pin and why
            self._close_devices()
            raise DriverError(
                f"{self.name}: cannot open GPIO: {type(exc).__name__}: {exc}", hint=gpio_hint(exc)
            ) from exc
        self._last_heartbeat = self.context.clock.monotonic()
        self._task = asyncio.create_task(self._ticker(), name=f"{self.name}-{self.sensor_id}")

    async def _ticker(self) -> None:
        import asyncio

        while not self._closed:
            try:
                self.on_tick(self.context.clock.monotonic())
            except Exception as exc:
                self.frame_stats.errors += 1
                self.frame_stats.last_error = f"tick: {exc}"
            await asyncio.sleep(self.tick_s)

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
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close_devices()
        if self._queue is not None:
            self._queue.close()

    def _close_devices(self) -> None:
        for device in reversed(self._devices):
            with contextlib.suppress(Exception):
                device.close()
        self._devices.clear()


class PolledDriver(GpioDriver):
    """A GPIO/SPI driver whose reads block (ADC over SPI, echo timing): each read runs in
    a worker thread every ``interval_s``, so the loop never waits on the hardware."""

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._poller: asyncio.Task[None] | None = None

    @abc.abstractmethod
    def read_blocking(self) -> list[Reading]:
        """One measurement, in a worker thread. Return [] when there is nothing trustworthy."""

    async def start(self) -> None:
        import asyncio

        await super().start()
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name=f"{self.name}-poll")

    async def _poll(self) -> None:
        import asyncio

        interval = float(self.config.get("interval_s", 1.0))
        while not self._closed:
            try:
                for reading in await asyncio.to_thread(self.read_blocking):
                    self.emit(reading)
            except Exception as exc:
                self.frame_stats.errors += 1
                self.frame_stats.last_error = f"read: {type(exc).__name__}: {exc}"
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        import asyncio

        if self._poller is not None and not self._closed:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await super().aclose()


class QualifiedInputDriver(GpioDriver):
    """A contact input (optocoupler, float switch) whose level must persist to count.

    Shared by ``gpio_alarm`` and ``float_switch``: the pin is read on its own
    edges (never polled, a short pulse cannot be missed), each edge is stamped
    with the injected clock on gpiozero's thread and hops onto the loop, and a
    :class:`~edge_agent.drivers.debounce.LevelQualifier` decides when a level
    has lasted long enough. Subclasses name the ``quantity`` (a 0/1 state) and
    give the hold times.
    """

    quantity: ClassVar[str]

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._qualifier: LevelQualifier | None = None
        self._invert = False
        self._device: Any = None

    def hold_times(self) -> tuple[float, float]:
        """Seconds the active and the quiet level must persist before they count."""
        raise NotImplementedError

    def open_devices(self) -> None:
        c = self.config
        self._device, self._invert = make_input(
            int(c["pin"]), c.get("pull", "up"), c.get("active", "low"), self.context.pin_factory
        )
        self.own(self._device)
        clock = self.context.clock
        on_s, off_s = self.hold_times()
        self._qualifier = LevelQualifier(on_s, off_s, self._level(), clock.monotonic())
        self._device.when_activated = lambda: self.hop(
            self._edge, not self._invert, clock.monotonic()
        )
        self._device.when_deactivated = lambda: self.hop(
            self._edge, self._invert, clock.monotonic()
        )

    def _level(self) -> bool:
        return bool(self._device.is_active) != self._invert

    def _edge(self, level: bool, t: float) -> None:
        if self._qualifier is not None and self._qualifier.observe(level, t) is not None:
            self._report()

    def _report(self) -> None:
        q = self._qualifier
        if q is not None and q.state is not None:
            self.emit(self.reading(self.quantity, 1.0 if q.state else 0.0, "state"))

    def on_tick(self, now: float) -> None:
        if self._qualifier is None:
            return
        if self._qualifier.poll(now) is not None or self.heartbeat_due(now):
            self._report()
