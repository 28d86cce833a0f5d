"""Find frames in a byte stream: the part of every serial driver that can be fuzzed.

Sensors on a UART start talking mid-frame, drop bytes on a busy mini UART and
share a line with noise. A :class:`FrameScanner` keeps whatever bytes arrived,
finds the next header, asks its subclass whether a whole, valid frame starts
there, and otherwise slides one byte and looks again. It never raises on input
and never returns a frame that failed its check: a bad frame is only counted.

Scanners are pure (no I/O, no clock), so replay tests and hypothesis feed them
arbitrary bytes directly.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from typing import Generic, TypeVar

from edge_agent.drivers.base import FrameStats

F = TypeVar("F")


class Bad(enum.Enum):
    """Why the bytes at a header are not a frame."""

    CHECKSUM = "checksum"
    LENGTH = "length"


#: Returned by :meth:`FrameScanner.parse_at` when the frame is not complete yet.
NEED_MORE = None


class FrameScanner(abc.ABC, Generic[F]):
    """Incremental header-based frame finder.

    Subclasses set ``headers`` and implement :meth:`parse_at`. ``max_buffer``
    bounds memory when a line produces nothing but noise.
    """

    headers: Sequence[bytes]
    max_buffer: int = 4096

    def __init__(self, stats: FrameStats | None = None) -> None:
        self.stats = stats if stats is not None else FrameStats()
        self._buf = bytearray()
        # True after bytes were thrown away; the next good frame counts as a resync.
        self._lost_sync = False

    @abc.abstractmethod
    def parse_at(self, buf: bytearray) -> tuple[int, F] | Bad | None:
        """Judge ``buf``, which starts with one of ``headers``.

        Return ``(consumed, frame)`` for a valid frame, a :class:`Bad` reason
        when these bytes cannot be a frame, or ``None`` when more bytes are
        needed to decide.
        """

    def reset(self) -> None:
        """Forget a partial frame (the port was reopened: its tail will never come)."""
        if self._buf:
            self.stats.garbage_bytes += len(self._buf)
            self._lost_sync = True
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[F]:
        """Add bytes and return every complete, valid frame now found, in order."""
        self._buf += data
        frames: list[F] = []
        buf = self._buf
        while buf:
            idx = self._find_header(buf)
            if idx < 0:
                # Keep a tail that could be the start of a header split across reads.
                keep = max(len(h) for h in self.headers) - 1
                drop = max(0, len(buf) - keep)
                while drop < len(buf) and not any(
                    h.startswith(bytes(buf[drop:])) for h in self.headers
                ):
                    drop += 1
                if drop > 0:
                    self._skip(drop)
                break
            if idx > 0:
                self._skip(idx)
            result = self.parse_at(buf)
            if result is NEED_MORE:
                if len(buf) > self.max_buffer:
                    self._skip(1)
                    continue
                break
            if isinstance(result, Bad):
                if result is Bad.CHECKSUM:
                    self.stats.bad_checksum += 1
                else:
                    self.stats.bad_length += 1
                # The header may have been noise: look for the next one.
                self._skip(1)
                continue
            consumed, frame = result
            del buf[:consumed]
            self.stats.frames_ok += 1
            if self._lost_sync:
                self.stats.resyncs += 1
                self._lost_sync = False
            frames.append(frame)
        return frames

    def _find_header(self, buf: bytearray) -> int:
        found = -1
        for header in self.headers:
            i = buf.find(header)
            if i >= 0 and (found < 0 or i < found):
                found = i
        return found

    def _skip(self, n: int) -> None:
        del self._buf[:n]
        self.stats.garbage_bytes += n
        self._lost_sync = True


def sum16(data: bytes | bytearray) -> int:
    """16-bit sum of bytes (Plantower)."""
    return sum(data) & 0xFFFF


def sum8(data: bytes | bytearray) -> int:
    """8-bit sum of bytes (Nova, DFRobot)."""
    return sum(data) & 0xFF
