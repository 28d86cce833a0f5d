"""Fake sensors that speak the real serial protocols (see HARDWARE.md).

Each keeps a ``script``: chunks to send, in order, once streaming starts
(garbage, corrupted and truncated frames included); when the script is used
up it keeps sending good frames of ``values``, like a real sensor in active
mode. Commands are parsed and checksummed like the real firmware does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from edge_agent.drivers import frames_a02, frames_pms, frames_sds
from edge_agent.drivers.scanner import sum8, sum16


class FakePms5003:
    """Active after power-up; passive answers 0xE2; sleep stops the stream until wake."""

    def __init__(
        self,
        script: Iterable[bytes] = (),
        values: tuple[int, int, int] = (5, 8, 9),
        *,
        start_on_command: bool = True,
    ) -> None:
        self.script: deque[bytes] = deque(script)
        self.values = values
        self.mode = "active"
        self.asleep = False
        self.streaming = not start_on_command
        self.commands: list[tuple[int, int]] = []
        self._buf = bytearray()

    def frame(self) -> bytes:
        return frames_pms.encode_data(self.values, self.values, (300, 90, 20, 3, 1, 0))

    def on_bytes(self, data: bytes) -> bytes:
        self._buf += data
        out = b""
        while len(self._buf) >= 7:
            i = self._buf.find(frames_pms.HEADER)
            if i < 0:
                self._buf.clear()
                break
            del self._buf[:i]
            if len(self._buf) < 7:
                break
            cmd = bytes(self._buf[:7])
            del self._buf[:7]
            if sum16(cmd[:5]) != int.from_bytes(cmd[5:7], "big"):
                continue
            code, value = cmd[2], cmd[4]
            self.commands.append((code, value))
            if code == 0xE4:
                self.asleep = value == 0
                self.streaming = True
            elif self.asleep:
                continue
            if code == 0xE1:
                self.mode = "active" if value else "passive"
                self.streaming = True
            if code == 0xE2 and self.mode == "passive":
                out += self._next_or_frame()
                continue
            ack = frames_pms.HEADER + bytes([0, 4, code, value])
            out += ack + sum16(ack).to_bytes(2, "big")
        return out

    def _next_or_frame(self) -> bytes:
        return self.script.popleft() if self.script else self.frame()

    def next_chunk(self) -> bytes | None:
        if not self.streaming or self.asleep or self.mode != "active":
            return None
        return self._next_or_frame()


class FakeSds011:
    """Active: a data frame per chunk; query: one per query; sleep stops everything but wake."""

    def __init__(
        self,
        script: Iterable[bytes] = (),
        values: tuple[float, float] = (12.3, 45.6),
        *,
        start_on_command: bool = True,
    ) -> None:
        self.script: deque[bytes] = deque(script)
        self.values = values
        self.active = True
        self.asleep = False
        self.streaming = not start_on_command
        self.work_period: int | None = None
        self.commands: list[tuple[int, int, int]] = []
        self._buf = bytearray()

    def frame(self) -> bytes:
        return frames_sds.encode_data(*self.values)

    def _next_or_frame(self) -> bytes:
        return self.script.popleft() if self.script else self.frame()

    def on_bytes(self, data: bytes) -> bytes:
        self._buf += data
        out = b""
        while True:
            i = self._buf.find(b"\xaa\xb4")
            if i < 0 or len(self._buf) - i < 19:
                break
            del self._buf[:i]
            cmd = bytes(self._buf[:19])
            del self._buf[:19]
            if cmd[18] != 0xAB or sum8(cmd[2:17]) != cmd[17]:
                continue
            d1, d2, d3 = cmd[2], cmd[3], cmd[4]
            self.commands.append((d1, d2, d3))
            self.streaming = True
            if d1 == frames_sds.SLEEP_WORK:
                if d2 == 1:
                    self.asleep = d3 == 0
                out += frames_sds.encode_reply(d1, d2, 0 if self.asleep else 1)
                continue
            if self.asleep:
                continue
            if d1 == frames_sds.REPORTING_MODE:
                if d2 == 1:
                    self.active = d3 == 0
                out += frames_sds.encode_reply(d1, d2, 0 if self.active else 1)
            elif d1 == frames_sds.QUERY:
                out += self._next_or_frame()
            elif d1 == frames_sds.WORKING_PERIOD:
                if d2 == 1:
                    self.work_period = d3
                out += frames_sds.encode_reply(d1, d2, d3)
        return out

    def next_chunk(self) -> bytes | None:
        if not self.streaming or self.asleep or not self.active:
            return None
        return self._next_or_frame()


class FakeA02yyuw:
    """Streams a frame per chunk (auto mode); answers 0x55 with one frame (JSN-SR04T v3)."""

    def __init__(
        self,
        script: Iterable[bytes] = (),
        distance_mm: int = 1953,
        *,
        auto: bool = True,
        cycle: bool = False,
    ) -> None:
        self.script: deque[bytes] = deque(script)
        self.distance_mm = distance_mm
        self.auto = auto
        self.cycle = cycle
        self.triggers = 0

    def _next_or_frame(self) -> bytes:
        if not self.script:
            return frames_a02.encode(self.distance_mm)
        chunk = self.script.popleft()
        if self.cycle:
            # A sensor streaming since power-up: the host may start listening anywhere.
            self.script.append(chunk)
        return chunk

    def on_bytes(self, data: bytes) -> bytes:
        n = data.count(frames_a02.TRIGGER)
        self.triggers += n
        return b"".join(self._next_or_frame() for _ in range(n))

    def next_chunk(self) -> bytes | None:
        return self._next_or_frame() if self.auto else None
