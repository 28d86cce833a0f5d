"""The contract every sensor driver meets.

A driver is constructed from its validated options (no I/O in ``__init__``),
opened with :meth:`Driver.start`, read with ``async for reading in
driver.readings()``, and closed with :meth:`Driver.aclose` (idempotent).

Hardware is always injected, never looked up globally, so tests swap in fakes
the way gpiozero swaps pin factories: serial ports are pyserial URLs (a
device path, ``loop://``, ``socket://host:port`` or a pty), GPIO goes through
``context.pin_factory`` and Modbus through its port URL.

A driver never turns a bad frame into a reading and never swallows a failure
into silence: it counts bad frames in :class:`FrameStats`, marks doubtful
readings with :class:`~edge_agent.model.Quality`, and raises
:class:`~edge_agent.errors.DriverError` with a hint when it cannot go on.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from edge_agent.clock import Clock
from edge_agent.model import Quality, Reading
from edge_agent.options import Option


@dataclass(slots=True)
class FrameStats:
    """Counters an installer reads to judge the wiring (``probe``, ``status``)."""

    frames_ok: int = 0
    bad_checksum: int = 0
    bad_length: int = 0
    resyncs: int = 0
    garbage_bytes: int = 0
    timeouts: int = 0
    reopens: int = 0
    errors: int = 0
    last_error: str | None = None

    @property
    def bad_frames(self) -> int:
        return self.bad_checksum + self.bad_length

    def bad_rate(self) -> float:
        """Share of frames that were bad, 0.0 when nothing was seen."""
        total = self.frames_ok + self.bad_frames
        return self.bad_frames / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bad_rate"] = round(self.bad_rate(), 4)
        return out


@dataclass(slots=True)
class DriverContext:
    """What the agent injects into every driver.

    ``pin_factory`` is a gpiozero ``Factory`` (``MockFactory`` in tests) or
    None for gpiozero's own default; drivers pass it to every device they
    create instead of touching ``Device.pin_factory``.
    """

    clock: Clock
    pin_factory: Any | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Driver(abc.ABC):
    """Base class for drivers.

    Subclasses set ``name`` (the registered plugin name and the value of the
    sensor table's ``driver`` key), ``summary`` (one line of help), ``options``
    (the keys accepted in the sensor table besides the common ones), and
    ``sample`` (option values that make a working instance against the
    driver's own fake, used by the contract tests and the docs).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    options: ClassVar[Mapping[str, Option]] = {}
    sample: ClassVar[Mapping[str, Any]] = {}
    #: Quantities this driver emits, with their units, e.g. {"pm2_5": "µg/m³"}.
    quantities: ClassVar[Mapping[str, str]] = {}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        self.sensor_id = sensor_id
        self.config = dict(options)
        self.context = context
        self.frame_stats = FrameStats()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @abc.abstractmethod
    async def start(self) -> None:
        """Open the port or pins. Raises DriverError with a hint when that fails."""

    @abc.abstractmethod
    def readings(self) -> AsyncIterator[Reading]:
        """Yield readings until closed. Must never block the event loop."""

    def stats(self) -> FrameStats:
        return self.frame_stats

    async def aclose(self) -> None:
        """Release the hardware. Safe to call more than once."""
        self._closed = True

    def reading(
        self, quantity: str, value: float, unit: str, quality: Quality = Quality.OK
    ) -> Reading:
        """Stamp a value with this driver's sensor id and the injected clock."""
        clock = self.context.clock
        return Reading(
            sensor_id=self.sensor_id,
            quantity=quantity,
            value=float(value),
            unit=unit,
            t_mono=clock.monotonic(),
            ts=clock.now(),
            clock_synced=clock.synced(),
            quality=quality,
        )
