"""UART drivers against fake sensors on a pty pair: modes, commands, garbage, unplug/replug."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from edge_agent.drivers import frames_a02, frames_ld2410, frames_ld2450, frames_pms
from edge_agent.drivers.a02yyuw import A02yyuwDriver
from edge_agent.drivers.base import Driver, DriverContext
from edge_agent.drivers.ld2410 import Ld2410Driver
from edge_agent.drivers.ld2450 import Ld2450Driver
from edge_agent.drivers.pms5003 import Pms5003Driver
from edge_agent.drivers.sds011 import Sds011Driver
from fakes.pty_device import PtyDevice
from fakes.sensors import FakeA02yyuw, FakePms5003, FakeSds011

from edge_agent.clock import SystemClock
from edge_agent.errors import DriverError
from edge_agent.model import Quality, Reading
from edge_agent.options import validate_table

pytestmark = pytest.mark.timeout(60)


def ctx() -> DriverContext:
    return DriverContext(clock=SystemClock(assume_synced=True))


def make(cls: type[Driver], **table: Any) -> Driver:
    config, problems = validate_table(table, cls.options)
    assert not problems, problems
    return cls("s1", config, ctx())


async def take(driver: Driver, n: int, timeout: float = 10.0) -> list[Reading]:
    out: list[Reading] = []

    async def collect() -> None:
        stream: AsyncIterator[Reading] = driver.readings()
        async for r in stream:
            out.append(r)
            if len(out) >= n:
                return

    await asyncio.wait_for(collect(), timeout)
    return out


async def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


def test_pms5003_active_mode_with_garbage_and_corrupt_frames() -> None:
    good = [frames_pms.encode_data((i, i + 1, i + 2), (i, i + 1, i + 2)) for i in (10, 20, 30)]
    corrupt = bytearray(good[1])
    corrupt[8] ^= 0xFF
    script = [b"\x13\x37junk", good[0], bytes(corrupt), good[0][:11], good[1], b"\x42", good[2]]
    dev = PtyDevice(FakePms5003(script))

    async def main() -> list[Reading]:
        d = make(Pms5003Driver, port=dev.path, warmup_s=0.0)
        await d.start()
        try:
            return await take(d, 9)
        finally:
            await d.aclose()
            await d.aclose()  # idempotent

    try:
        readings = asyncio.run(main())
    finally:
        dev.close()
    assert [(r.quantity, r.value) for r in readings] == [
        ("pm1_0", 10),
        ("pm2_5", 11),
        ("pm10", 12),
        ("pm1_0", 20),
        ("pm2_5", 21),
        ("pm10", 22),
        ("pm1_0", 30),
        ("pm2_5", 31),
        ("pm10", 32),
    ]
    assert all(r.quality is Quality.OK and r.unit == "µg/m³" for r in readings)
    # The driver woke the sensor and asked for active mode.
    assert dev.sensor.commands[:2] == [(0xE4, 1), (0xE1, 1)]


def test_pms5003_passive_mode_polls_and_warmup_marks_suspect() -> None:
    dev = PtyDevice(FakePms5003(values=(3, 4, 5)))

    async def main() -> list[Reading]:
        d = make(Pms5003Driver, port=dev.path, mode="passive", interval_s=0.5, sleep_on_close=True)
        await d.start()
        try:
            return await take(d, 6)
        finally:
            await d.aclose()

    try:
        readings = asyncio.run(main())
        time.sleep(0.1)
    finally:
        dev.close()
    assert [r.value for r in readings] == [3, 4, 5, 3, 4, 5]
    assert all(r.quality is Quality.SUSPECT for r in readings)  # inside the 30 s warm-up
    codes = dev.sensor.commands
    assert (0xE1, 0) in codes and codes.count((0xE2, 0)) >= 2
    assert codes[-1] == (0xE4, 0)  # put to sleep on close


def test_pms5003_all_zero_frame_is_suspect() -> None:
    dev = PtyDevice(FakePms5003(values=(0, 0, 0)))
    dev.sensor.frame = lambda: frames_pms.encode_data((0, 0, 0), (0, 0, 0))  # type: ignore[method-assign]

    async def main() -> list[Reading]:
        d = make(Pms5003Driver, port=dev.path, warmup_s=0.0)
        await d.start()
        try:
            return await take(d, 3)
        finally:
            await d.aclose()

    try:
        readings = asyncio.run(main())
    finally:
        dev.close()
    assert {r.quality for r in readings} == {Quality.SUSPECT}


def test_sds011_active_and_query_with_sleep_between() -> None:
    dev = PtyDevice(FakeSds011(values=(12.3, 45.6)))

    async def active() -> list[Reading]:
        d = make(Sds011Driver, port=dev.path, warmup_s=0.0, work_period_min=0)
        await d.start()
        try:
            return await take(d, 4)
        finally:
            await d.aclose()

    async def query() -> list[Reading]:
        d = make(
            Sds011Driver,
            port=dev.path,
            mode="query",
            interval_s=3.0,
            warmup_s=0.2,
            sleep_between=True,
        )
        await d.start()
        try:
            got = await take(d, 2)
            await wait_until(lambda: dev.sensor.asleep)
            return got
        finally:
            await d.aclose()

    try:
        readings = asyncio.run(active())
        assert [(r.quantity, r.value) for r in readings] == [
            ("pm2_5", 12.3),
            ("pm10", 45.6),
            ("pm2_5", 12.3),
            ("pm10", 45.6),
        ]
        assert dev.sensor.work_period == 0 and dev.sensor.active
        readings = asyncio.run(query())
        assert [r.value for r in readings] == [12.3, 45.6]
        assert readings[0].quality is Quality.OK  # queried only after the warm-up
        assert not dev.sensor.active  # query mode was set
        assert (4, 0, 0) in dev.sensor.commands  # a query was sent
    finally:
        dev.close()


def test_a02yyuw_level_median_and_limits() -> None:
    script = [frames_a02.encode(d) for d in (1000, 1010, 5000, 990, 20)]
    dev = PtyDevice(FakeA02yyuw(script, distance_mm=1500, cycle=False), period_s=0.01)

    async def main() -> tuple[list[Reading], list[Reading]]:
        d = make(A02yyuwDriver, port=dev.path, mounting_height_m=3.0, interval_s=0)
        await d.start()
        try:
            raw = await take(d, 8)
        finally:
            await d.aclose()
        d2 = make(A02yyuwDriver, port=dev.path, mounting_height_m=3.0, interval_s=0.3)
        await d2.start()
        try:
            med = await take(d2, 2)
        finally:
            await d2.aclose()
        return raw, med

    try:
        raw, med = asyncio.run(main())
    finally:
        dev.close()
    values = [(r.value, r.quality) for r in raw]
    # The fake streams from power-up: the driver may miss the first frames.
    assert (1.5, Quality.OK) in values
    for v, q in values:
        assert (v, q) in {
            (2.0, Quality.OK),
            (1.99, Quality.OK),
            (2.01, Quality.OK),
            (3.0 - 5.0, Quality.FAULT),
            (2.97, Quality.SUSPECT),
            (1.5, Quality.OK),
        }
    assert all(r.value == 1.5 and r.quantity == "water_level" and r.unit == "m" for r in med)


def test_a02_trigger_mode_sends_0x55() -> None:
    dev = PtyDevice(FakeA02yyuw(distance_mm=700, auto=False))

    async def main() -> list[Reading]:
        d = make(
            A02yyuwDriver, port=dev.path, mounting_height_m=1.0, mode="trigger", interval_s=0.2
        )
        await d.start()
        try:
            return await take(d, 2)
        finally:
            await d.aclose()

    try:
        readings = asyncio.run(main())
    finally:
        dev.close()
    assert [r.value for r in readings] == [0.3, 0.3]
    assert dev.sensor.triggers >= 2


class _Stream:
    """A fake that streams a fixed cycle of chunks (radars stream from power-up)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.i = 0

    def on_bytes(self, data: bytes) -> bytes:
        return b""

    def next_chunk(self) -> bytes | None:
        chunk = self.chunks[self.i % len(self.chunks)]
        self.i += 1
        return chunk


def test_ld2410_presence_changes() -> None:
    chunks = [
        frames_ld2410.encode_basic(0),
        b"\xf4\xf3\x00",
        frames_ld2410.encode_basic(1, 150, 60, 0, 0, 150),
    ]
    dev = PtyDevice(_Stream(chunks), period_s=0.02)

    async def main() -> list[Reading]:
        d = make(Ld2410Driver, port=dev.path, baudrate=256000, interval_s=60)
        await d.start()
        try:
            return await take(d, 5)
        finally:
            await d.aclose()

    try:
        readings = asyncio.run(main())
    finally:
        dev.close()
    presence = [r.value for r in readings if r.quantity == "presence"]
    assert set(presence) == {0.0, 1.0}
    assert all(r.value == 1.5 for r in readings if r.quantity == "target_distance")


def test_ld2450_counts_line_crossings() -> None:
    # One target walks toward the radar across the line at 1500 mm, then a second
    # walks away: one entry, one exit. Jitter on the line must not count.
    path_in = [3000, 2000, 1600, 1450, 1550, 1400, 1000, 800]
    path_out = [800, 1200, 1700, 2500]
    frames = [frames_ld2450.encode([(100, y, -20)]) for y in path_in]
    frames += [frames_ld2450.encode([None])]
    frames += [frames_ld2450.encode([None, (-300, y, 20)]) for y in path_out]
    script = iter([b"\xaa\xff\x03\x00garbage", *frames])

    class Once(_Stream):
        def next_chunk(self) -> bytes | None:
            return next(script, None)

    async def main(dev: PtyDevice) -> Ld2450Driver:
        d = make(Ld2450Driver, port=dev.path, line_y_mm=1500.0, hysteresis_mm=100.0)
        assert isinstance(d, Ld2450Driver)
        await d.start()
        dev.sensor = Once([])  # start streaming once the port is open
        try:
            await wait_until(lambda: d.counter.exits == 1)
        finally:
            await d.aclose()
        return d

    dev = PtyDevice(_Stream([b""]), period_s=0.02)
    try:
        d = asyncio.run(main(dev))
    finally:
        dev.close()
    assert (d.counter.entries, d.counter.exits, d.counter.occupancy) == (1, 1, 0)
    assert d.stats().bad_frames + d.stats().garbage_bytes > 0


def test_unplug_and_replug_through_a_by_id_link(tmp_path: Path) -> None:
    link = tmp_path / "usb-Plantower-if00"
    dev = PtyDevice(FakePms5003(values=(1, 2, 3)), link=link)

    async def main() -> tuple[list[Reading], int]:
        d = make(Pms5003Driver, port=str(link), warmup_s=0.0, reopen_max_s=0.3)
        await d.start()
        try:
            before = await take(d, 3)
            dev.unplug()
            await wait_until(lambda: d.stats().errors >= 2)  # lost, then reopen failed
            assert not link.exists()
            dev.sensor.streaming = False  # a fresh sensor waits for our wake command
            dev.replug()
            after = await take(d, 3)
            return before + after, d.stats().reopens
        finally:
            await d.aclose()

    try:
        readings, reopens = asyncio.run(main())
    finally:
        dev.close()
    assert [r.value for r in readings] == [1, 2, 3, 1, 2, 3]
    assert reopens >= 1


def test_missing_port_and_permission_denied_give_hints(tmp_path: Path) -> None:
    async def open_(port: str) -> None:
        d = make(Pms5003Driver, port=port)
        await d.start()

    with pytest.raises(DriverError) as err:
        asyncio.run(open_(str(tmp_path / "ttyNOPE")))
    assert "does not exist" in str(err.value) and "ttyAMA0" in str(err.value)
    if os.geteuid() != 0:
        locked = tmp_path / "ttyLOCKED"
        locked.write_bytes(b"")
        locked.chmod(0)
        with pytest.raises(DriverError) as err:
            asyncio.run(open_(str(locked)))
        assert "permission denied" in str(err.value) and "usermod -aG" in str(err.value)


def test_exclusive_open_reports_port_in_use() -> None:
    dev = PtyDevice(FakePms5003())

    async def main() -> None:
        first = make(Pms5003Driver, port=dev.path)
        await first.start()
        try:
            with pytest.raises(DriverError, match="in use"):
                await make(Pms5003Driver, port=dev.path).start()
        finally:
            await first.aclose()

    try:
        asyncio.run(main())
    finally:
        dev.close()
