"""Every registered driver: help text, a hw/ section, and the lifecycle against its fake."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from edge_agent.drivers import frames_ld2410, frames_ld2450
from edge_agent.drivers.base import Driver, DriverContext
from fakes.gpio import mock_factory, mock_mcp3008
from fakes.modbus import free_port, start_server
from fakes.pty_device import PtyDevice
from fakes.sensors import FakeA02yyuw, FakePms5003, FakeSds011

from edge_agent.clock import SystemClock
from edge_agent.model import Quality, Reading
from edge_agent.options import validate_table
from edge_agent.registry import Registry

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]
NAMES = Registry().driver_names()


class _Loop:
    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk

    def on_bytes(self, data: bytes) -> bytes:
        return b""

    def next_chunk(self) -> bytes:
        return self.chunk


@contextmanager
def pty(sensor: Any) -> Iterator[dict[str, Any]]:
    dev = PtyDevice(sensor)
    try:
        yield {"port": dev.path}
    finally:
        dev.close()


@contextmanager
def gpio(setup: Callable[[Any], None] | None = None) -> Iterator[dict[str, Any]]:
    from gpiozero import Device

    factory = mock_factory()
    saved = Device.pin_factory
    Device.pin_factory = factory  # gpiozero's software SPI on mock pins needs it (see gpio test)
    try:
        if setup:
            setup(factory)
        yield {"_factory": factory}
    finally:
        Device.pin_factory = saved
        factory.reset()


def _alarm_setup(f: Any) -> None:
    f.pin(17)


def _ultrasonic_setup(f: Any) -> None:
    from gpiozero.pins.mock import MockTriggerPin

    f.pin(23, pin_class=MockTriggerPin, echo_pin=f.pin(24), echo_time=0.004)


def _mcp_setup(f: Any) -> None:
    mock_mcp3008(f).channels[0] = 1.2


FAKES: dict[str, Callable[[], Any]] = {
    "pms5003": lambda: pty(FakePms5003()),
    "sds011": lambda: pty(FakeSds011()),
    "a02yyuw": lambda: pty(FakeA02yyuw()),
    "ld2410": lambda: pty(_Loop(frames_ld2410.encode_basic(2, 0, 0, 90, 30, 90))),
    "ld2450": lambda: pty(_Loop(frames_ld2450.encode([(10, 900, 0)]))),
    "gpio_alarm": lambda: gpio(_alarm_setup),
    "float_switch": lambda: gpio(),
    "beam_counter": lambda: gpio(),
    "ultrasonic": lambda: gpio(_ultrasonic_setup),
    "mcp3008": lambda: gpio(_mcp_setup),
}
# Options that make a sample produce its first reading quickly in a test.
FAST = {
    "gpio_alarm": {"min_active_s": 0.0, "min_clear_s": 0.0},
    "float_switch": {"settle_s": 0.0},
    "beam_counter": {"interval_s": 0.1},
    "ultrasonic": {"interval_s": 0.2},
    "mcp3008": {"interval_s": 0.1, "samples": 1},
    "a02yyuw": {"interval_s": 0},
    "pms5003": {"warmup_s": 0.0},
    "sds011": {"warmup_s": 0.0},
    "ld2410": {"interval_s": 0.1},
    "ld2450": {"interval_s": 0.1},
    "modbus_level": {"interval_s": 0.1, "timeout_s": 0.5},
}


@pytest.mark.parametrize("name", NAMES)
def test_every_driver_has_help(name: str) -> None:
    cls = Registry().driver(name)
    assert cls.name == name
    assert cls.summary and "\n" not in cls.summary
    assert cls.quantities, "declare the quantities and units the driver emits"
    for key, opt in cls.options.items():
        assert opt.help and len(opt.help) > 10, f"{name}.{key} has no help"
    _, problems = validate_table(dict(cls.sample), cls.options)
    assert problems == [], f"{name}.sample does not validate: {problems}"


@pytest.mark.parametrize("name", NAMES)
def test_every_driver_has_a_hw_section(name: str) -> None:
    text = "\n".join(p.read_text() for p in (REPO / "hw").glob("*.md"))
    assert re.search(rf"^## `{re.escape(name)}`\s*$", text, re.M), (
        f"hw/ has no '## `{name}`' section"
    )


async def _lifecycle(cls: type[Driver], table: dict[str, Any], factory: Any) -> Reading:
    config, problems = validate_table(table, cls.options)
    assert not problems, problems
    d = cls("contract", config, DriverContext(clock=SystemClock(), pin_factory=factory))
    await d.start()
    try:

        async def first() -> Reading:
            async for r in d.readings():
                return r
            raise AssertionError("readings() ended before the first reading")

        reading = await asyncio.wait_for(first(), 10)
    finally:
        await d.aclose()
        await d.aclose()
    assert d.closed
    # After close the iterator ends instead of hanging.
    rest = [r async for r in d.readings()]
    assert all(isinstance(r, Reading) for r in rest)
    return reading


@pytest.mark.parametrize("name", [n for n in NAMES if n != "sim"])
def test_driver_lifecycle_against_its_fake(name: str) -> None:
    cls = Registry().driver(name)
    table = {**cls.sample, **FAST.get(name, {})}
    if name == "modbus_level":

        async def body() -> Reading:
            port = free_port()
            server = await start_server(port)
            try:
                return await _lifecycle(
                    cls,
                    {**table, "port": f"socket://127.0.0.1:{port}", "decimals_register": 3},
                    None,
                )
            finally:
                await server.shutdown()

        reading = asyncio.run(body())
    else:
        assert name in FAKES, f"add a fake for driver {name!r} to this test"
        with FAKES[name]() as over:
            factory = over.pop("_factory", None)
            reading = asyncio.run(_lifecycle(cls, {**table, **over}, factory))
    assert reading.sensor_id == "contract"
    assert reading.quantity in cls.quantities
    assert reading.unit == cls.quantities[reading.quantity]
    assert isinstance(reading.quality, Quality)
    assert reading.ts.tzinfo is not None
