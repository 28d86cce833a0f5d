"""DFRobot A02YYUW / JSN-SR04T (serial modes) frames (pure, no I/O).

Frame ``FF H L SUM``, SUM = (0xFF + H + L) & 0xFF, distance = H*256 + L mm.
0xFF can also occur inside H, L or SUM, so a header is only trusted when its
checksum holds; otherwise the scanner slides one byte. JSN-SR04T v3 boards in
their "serial on request" mode answer ``0x55`` with one such frame.
"""

from __future__ import annotations

from edge_agent.drivers.scanner import Bad, FrameScanner, sum8

HEADER = b"\xff"
FRAME_LEN = 4
TRIGGER = b"\x55"


def encode(distance_mm: int) -> bytes:
    """Build a valid frame (fake sensors and tests)."""
    h, low = (distance_mm >> 8) & 0xFF, distance_mm & 0xFF
    return bytes([0xFF, h, low, sum8(bytes([0xFF, h, low]))])


class A02Scanner(FrameScanner[int]):
    """Yields distances in millimetres."""

    headers = (HEADER,)

    def parse_at(self, buf: bytearray) -> tuple[int, int] | Bad | None:
        if len(buf) < FRAME_LEN:
            return None
        if sum8(buf[0:3]) != buf[3]:
            return Bad.CHECKSUM
        return FRAME_LEN, buf[1] * 256 + buf[2]
