"""HLK-LD2450 tracking radar frames (pure, no I/O).

30-byte frame ``AA FF 03 00 | 3 x (x, y, speed, resolution: u16 LE) | 55 CC``.
Sign rule: MSB set = positive, MSB clear = negative, magnitude in the low 15
bits (x, y in mm, speed in cm/s). An all-zero slot is no target. There is no
checksum, so the tail must match and coordinates must be within the radar's
range for the frame to count.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edge_agent.drivers.scanner import Bad, FrameScanner

HEADER = b"\xaa\xff\x03\x00"
TAIL = b"\x55\xcc"
FRAME_LEN = 30
#: The radar sees up to ~8 m; anything beyond 12 m is corruption.
MAX_MM = 12000


def decode_signed(raw: int) -> int:
    """LD2450 sign-magnitude: MSB 1 = positive."""
    magnitude = raw & 0x7FFF
    return magnitude if raw & 0x8000 else -magnitude


def encode_signed(value: int) -> int:
    return (abs(value) & 0x7FFF) | (0x8000 if value >= 0 else 0)


@dataclass(frozen=True, slots=True)
class Target:
    x_mm: int
    y_mm: int
    speed_cms: int


@dataclass(frozen=True, slots=True)
class Ld2450Frame:
    """Three slots; None where no target is tracked."""

    targets: tuple[Target | None, Target | None, Target | None]

    @property
    def count(self) -> int:
        return sum(t is not None for t in self.targets)


def encode(targets: list[tuple[int, int, int] | None]) -> bytes:
    """Build a valid frame from up to three (x_mm, y_mm, speed_cms) (fakes and tests)."""
    body = b""
    for i in range(3):
        t = targets[i] if i < len(targets) else None
        if t is None:
            body += bytes(8)
        else:
            body += struct.pack(
                "<HHHH", encode_signed(t[0]), encode_signed(t[1]), encode_signed(t[2]), 360
            )
    return HEADER + body + TAIL


class Ld2450Scanner(FrameScanner[Ld2450Frame]):
    headers = (HEADER,)

    def parse_at(self, buf: bytearray) -> tuple[int, Ld2450Frame] | Bad | None:
        if len(buf) < FRAME_LEN:
            return None
        if bytes(buf[28:30]) != TAIL:
            return Bad.LENGTH
        slots: list[Target | None] = []
        for i in range(3):
            raw = bytes(buf[4 + 8 * i : 12 + 8 * i])
            if raw == bytes(8):
                slots.append(None)
                continue
            rx, ry, rs, _res = struct.unpack("<HHHH", raw)
            x, y = decode_signed(rx), decode_signed(ry)
            if abs(x) > MAX_MM or abs(y) > MAX_MM:
                return Bad.CHECKSUM
            slots.append(Target(x, y, decode_signed(rs)))
        return FRAME_LEN, Ld2450Frame((slots[0], slots[1], slots[2]))
