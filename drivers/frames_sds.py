"""Nova SDS011 frames and commands (pure, no I/O).

Data frame, 10 bytes: ``AA C0 PM25_L PM25_H PM10_L PM10_H ID_L ID_H CS AB``,
CS = sum(bytes 2..7) & 0xFF, values little-endian u16 / 10 µg/m³. Replies to
commands (``AA C5``) have the same shape and interleave with data frames.
Commands are 19 bytes: ``AA B4 D1..D13 ID1 ID2 CS AB``, CS = sum(bytes 2..16).
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.drivers.scanner import Bad, FrameScanner, sum8

DATA = b"\xaa\xc0"
REPLY = b"\xaa\xc5"
TAIL = 0xAB
FRAME_LEN = 10

# D1 values
REPORTING_MODE = 0x02
QUERY = 0x04
SLEEP_WORK = 0x06
FIRMWARE = 0x07
WORKING_PERIOD = 0x08


def command(d1: int, d2: int = 0, d3: int = 0, device_id: int = 0xFFFF) -> bytes:
    """A 19-byte command; ``device_id`` 0xFFFF addresses any sensor."""
    data = bytes([d1, d2, d3]) + bytes(10) + device_id.to_bytes(2, "little")
    return b"\xaa\xb4" + data + bytes([sum8(data), TAIL])


def cmd_set_active(active: bool) -> bytes:
    return command(REPORTING_MODE, 1, 0 if active else 1)


def cmd_query() -> bytes:
    return command(QUERY)


def cmd_sleep(sleep: bool) -> bytes:
    return command(SLEEP_WORK, 1, 0 if sleep else 1)


def cmd_working_period(minutes: int) -> bytes:
    """0 = continuous; 1..30 = one measurement every n minutes, asleep in between."""
    return command(WORKING_PERIOD, 1, minutes)


@dataclass(frozen=True, slots=True)
class SdsData:
    """PM2.5 and PM10 in µg/m³ and the sensor's id."""

    pm2_5: float
    pm10: float
    device_id: int


@dataclass(frozen=True, slots=True)
class SdsReply:
    """A reply to a command: D1 (which command) and the next bytes."""

    kind: int
    payload: bytes
    device_id: int


def encode_data(pm2_5: float, pm10: float, device_id: int = 0x60A1) -> bytes:
    """Build a valid data frame (fake sensors and tests)."""
    data = (
        round(pm2_5 * 10).to_bytes(2, "little")
        + round(pm10 * 10).to_bytes(2, "little")
        + device_id.to_bytes(2, "little")
    )
    return DATA + data + bytes([sum8(data), TAIL])


def encode_reply(kind: int, b3: int = 0, b4: int = 0, device_id: int = 0x60A1) -> bytes:
    """Build a valid ``AA C5`` reply frame."""
    data = bytes([kind, b3, b4, 0]) + device_id.to_bytes(2, "little")
    return REPLY + data + bytes([sum8(data), TAIL])


class SdsScanner(FrameScanner[SdsData | SdsReply]):
    headers = (DATA, REPLY)

    def parse_at(self, buf: bytearray) -> tuple[int, SdsData | SdsReply] | Bad | None:
        if len(buf) < FRAME_LEN:
            return None
        if buf[9] != TAIL:
            return Bad.LENGTH
        if sum8(buf[2:8]) != buf[8]:
            return Bad.CHECKSUM
        device_id = int.from_bytes(buf[6:8], "little")
        if buf[1] == DATA[1]:
            pm25 = int.from_bytes(buf[2:4], "little") / 10
            pm10 = int.from_bytes(buf[4:6], "little") / 10
            return FRAME_LEN, SdsData(pm2_5=pm25, pm10=pm10, device_id=device_id)
        return FRAME_LEN, SdsReply(kind=buf[2], payload=bytes(buf[3:6]), device_id=device_id)
