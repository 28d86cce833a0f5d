"""Plantower PMS5003 / PMS7003 / PMSA003 frames and commands (pure, no I/O).

Data frame: 32 bytes, ``42 4D``, length ``00 1C`` (28), thirteen big-endian
u16 fields, checksum = 16-bit sum of bytes 0..29. After a command the sensor
answers with a short frame of length 4 (8 bytes), which is an acknowledgement,
not a bad frame.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edge_agent.drivers.scanner import Bad, FrameScanner, sum16

HEADER = b"\x42\x4d"
DATA_LEN = 28
ACK_LEN = 4


def command(cmd: int, data: int = 0) -> bytes:
    """A 7-byte command: ``42 4D CMD DH DL`` + 16-bit sum."""
    body = HEADER + bytes([cmd, (data >> 8) & 0xFF, data & 0xFF])
    return body + sum16(body).to_bytes(2, "big")


CMD_PASSIVE = command(0xE1, 0)
CMD_ACTIVE = command(0xE1, 1)
CMD_READ = command(0xE2, 0)
CMD_SLEEP = command(0xE4, 0)
CMD_WAKE = command(0xE4, 1)


@dataclass(frozen=True, slots=True)
class PmsData:
    """One measurement frame. Mass concentrations in µg/m³, counts per 0.1 L."""

    pm1_0_cf1: int
    pm2_5_cf1: int
    pm10_cf1: int
    pm1_0: int
    pm2_5: int
    pm10: int
    counts: tuple[int, int, int, int, int, int]
    version: int
    error: int

    @property
    def all_zero(self) -> bool:
        """The payload a warming sensor sends: every value zero."""
        return not (
            self.pm1_0_cf1
            or self.pm2_5_cf1
            or self.pm10_cf1
            or self.pm1_0
            or self.pm2_5
            or self.pm10
            or any(self.counts)
        )


@dataclass(frozen=True, slots=True)
class PmsAck:
    """The sensor's answer to a command: command byte and data echoed."""

    cmd: int
    data: int


def encode_data(
    pm_cf1: tuple[int, int, int],
    pm_atm: tuple[int, int, int],
    counts: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0),
    version: int = 0x97,
    error: int = 0,
) -> bytes:
    """Build a valid data frame (used by fake sensors and tests)."""
    body = HEADER + struct.pack(">H3H3H6HBB", DATA_LEN, *pm_cf1, *pm_atm, *counts, version, error)
    return body + sum16(body).to_bytes(2, "big")


class PmsScanner(FrameScanner[PmsData | PmsAck]):
    headers = (HEADER,)

    def parse_at(self, buf: bytearray) -> tuple[int, PmsData | PmsAck] | Bad | None:
        if len(buf) < 4:
            return None
        length = int.from_bytes(buf[2:4], "big")
        if length not in (DATA_LEN, ACK_LEN):
            return Bad.LENGTH
        total = 4 + length
        if len(buf) < total:
            return None
        if sum16(buf[: total - 2]) != int.from_bytes(buf[total - 2 : total], "big"):
            return Bad.CHECKSUM
        if length == ACK_LEN:
            return total, PmsAck(cmd=buf[4], data=buf[5])
        v = struct.unpack(">3H3H6HBB", bytes(buf[4:30]))
        frame = PmsData(
            pm1_0_cf1=v[0],
            pm2_5_cf1=v[1],
            pm10_cf1=v[2],
            pm1_0=v[3],
            pm2_5=v[4],
            pm10=v[5],
            counts=(v[6], v[7], v[8], v[9], v[10], v[11]),
            version=v[12],
            error=v[13],
        )
        return total, frame
