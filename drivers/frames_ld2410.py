"""HLK-LD2410 presence radar frames (pure, no I/O).

Data frame: ``F4 F3 F2 F1 | len u16 LE | type (02 basic, 01 engineering) | AA |
state | move_dist u16 cm | move_energy u8 | still_dist u16 | still_energy u8 |
detect_dist u16 | ... | 55 00 | F8 F7 F6 F5``. Command acknowledgements
(``FD FC FB FA ... 04 03 02 01``) are recognised and skipped. The radar has no
checksum: a frame is trusted only if its length, markers and tail agree.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edge_agent.drivers.scanner import Bad, FrameScanner

DATA_HEAD = b"\xf4\xf3\xf2\xf1"
DATA_TAIL = b"\xf8\xf7\xf6\xf5"
ACK_HEAD = b"\xfd\xfc\xfb\xfa"
ACK_TAIL = b"\x04\x03\x02\x01"
MAX_LEN = 64


@dataclass(frozen=True, slots=True)
class Ld2410Data:
    """``state``: 0 nobody, 1 moving, 2 still, 3 both. Distances in cm."""

    state: int
    move_cm: int
    move_energy: int
    still_cm: int
    still_energy: int
    detect_cm: int
    engineering: bool

    @property
    def present(self) -> bool:
        return self.state != 0


@dataclass(frozen=True, slots=True)
class Ld2410Ack:
    payload: bytes


def encode_basic(
    state: int,
    move_cm: int = 0,
    move_energy: int = 0,
    still_cm: int = 0,
    still_energy: int = 0,
    detect_cm: int = 0,
) -> bytes:
    """Build a valid basic data frame (fakes and tests)."""
    body = (
        bytes([0x02, 0xAA, state])
        + struct.pack("<HBHBH", move_cm, move_energy, still_cm, still_energy, detect_cm)
        + b"\x55\x00"
    )
    return DATA_HEAD + struct.pack("<H", len(body)) + body + DATA_TAIL


class Ld2410Scanner(FrameScanner[Ld2410Data | Ld2410Ack]):
    headers = (DATA_HEAD, ACK_HEAD)

    def parse_at(self, buf: bytearray) -> tuple[int, Ld2410Data | Ld2410Ack] | Bad | None:
        if len(buf) < 6:
            return None
        length = int.from_bytes(buf[4:6], "little")
        if length > MAX_LEN or length < 2:
            return Bad.LENGTH
        total = 6 + length + 4
        if len(buf) < total:
            return None
        head, body, tail = bytes(buf[:4]), bytes(buf[6 : 6 + length]), bytes(buf[total - 4 : total])
        if head == ACK_HEAD:
            if tail != ACK_TAIL:
                return Bad.LENGTH
            return total, Ld2410Ack(body)
        if tail != DATA_TAIL or length < 13:
            return Bad.LENGTH
        if body[0] not in (0x01, 0x02) or body[1] != 0xAA or body[-2:] != b"\x55\x00":
            return Bad.CHECKSUM
        state = body[2]
        if state > 3:
            return Bad.CHECKSUM
        move_cm, move_e, still_cm, still_e, detect_cm = struct.unpack("<HBHBH", body[3:11])
        return total, Ld2410Data(
            state, move_cm, move_e, still_cm, still_e, detect_cm, engineering=body[0] == 0x01
        )
