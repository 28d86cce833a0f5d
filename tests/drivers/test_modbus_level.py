"""modbus_level against a pymodbus RTU server on socket://: values, silence, exceptions."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.modbus_level import ModbusLevelDriver
from fakes.modbus import free_port, start_server, start_silent_line

from edge_agent.clock import SystemClock
from edge_agent.errors import DriverError
from edge_agent.model import Quality, Reading
from edge_agent.options import validate_table

pytestmark = pytest.mark.timeout(60)


def make(**table: Any) -> ModbusLevelDriver:
    config, problems = validate_table(table, ModbusLevelDriver.options)
    assert not problems, problems
    return ModbusLevelDriver("lvl", config, DriverContext(clock=SystemClock()))


async def take(d: ModbusLevelDriver, n: int, timeout: float) -> list[Reading]:
    out: list[Reading] = []

    async def collect() -> None:
        async for r in d.readings():
            out.append(r)
            if len(out) >= n:
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(collect(), timeout)
    return out


def scenario(*, silent: bool = False, **table: Any) -> tuple[list[Reading], ModbusLevelDriver]:
    async def body() -> tuple[list[Reading], ModbusLevelDriver]:
        port = free_port()
        server = await (start_silent_line(port) if silent else start_server(port))
        await asyncio.sleep(0.1)
        # The simulator answers on this test's own event loop, so a loaded machine
        # can delay it: give a real answer time (a silent device still times out).
        timeout_s = 0.3 if silent else 1.5
        d = make(port=f"socket://127.0.0.1:{port}", interval_s=0.1, timeout_s=timeout_s, **table)
        await d.start()
        try:
            return await take(d, 2, 5.0 if not silent else 1.5), d
        finally:
            await d.aclose()
            await d.aclose()
            if silent:
                server.close()
            else:
                await server.shutdown()

    return asyncio.run(body())


def test_int16_with_decimals_register() -> None:
    readings, d = scenario(address=4, decimals_register=3)
    assert [(r.quantity, r.value, r.unit, r.quality) for r in readings] == [
        ("water_level", 1.234, "m", Quality.OK)
    ] * 2
    assert d.stats().frames_ok >= 2


def test_float32_scale_offset_and_range() -> None:
    readings, _ = scenario(address=16, data_type="float32", scale=1.0, offset=0.5, max_valid=3.0)
    assert [r.value for r in readings] == [3.25, 3.25]
    assert {r.quality for r in readings} == {Quality.FAULT}  # above the sensor's range


def test_silent_device_gives_timeouts_and_no_reading() -> None:
    readings, d = scenario(address=4, device_id=9, silent=True)
    assert readings == []
    assert d.stats().timeouts >= 1 and "no answer" in (d.stats().last_error or "")


def test_exception_response_is_an_error_not_a_reading() -> None:
    readings, d = scenario(address=500)
    assert readings == []
    assert "exception 2 (illegal data address)" in (d.stats().last_error or "")


def test_missing_serial_device_is_a_driver_error() -> None:
    async def body() -> None:
        await make(port="/dev/ttyUSB-none", address=4).start()

    with pytest.raises(DriverError, match="does not exist"):
        asyncio.run(body())
