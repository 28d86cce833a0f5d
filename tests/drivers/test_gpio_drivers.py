"""GPIO drivers on gpiozero's MockFactory, with a ManualClock for edge timestamps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from edge_agent.drivers.base import Driver, DriverContext
from edge_agent.drivers.beam_counter import BeamCounterDriver
from edge_agent.drivers.debounce import BeamPairCounter, Direction, LevelQualifier
from edge_agent.drivers.float_switch import FloatSwitchDriver
from edge_agent.drivers.gpio_alarm import GpioAlarmDriver
from edge_agent.drivers.mcp3008 import Mcp3008Driver, rs_from_voltage
from edge_agent.drivers.ultrasonic import UltrasonicDriver
from fakes.gpio import mock_factory, mock_mcp3008

from edge_agent.clock import ManualClock
from edge_agent.errors import DriverError
from edge_agent.model import Quality, Reading
from edge_agent.options import validate_table

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def factory() -> Any:
    f = mock_factory()
    yield f
    f.reset()
    f.close()


def make(cls: type[Driver], clock: Any, factory: Any, **table: Any) -> Driver:
    config, problems = validate_table(table, cls.options)
    assert not problems, problems
    return cls("g1", config, DriverContext(clock=clock, pin_factory=factory))


async def drain(driver: Driver, settle: float = 0.12) -> list[Reading]:
    """Readings that arrived within ``settle`` s (lets queued edges and ticks run)."""
    out: list[Reading] = []

    async def collect() -> None:
        async for r in driver.readings():
            out.append(r)

    task = asyncio.create_task(collect())
    await asyncio.sleep(settle)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return out


def run(factory: Any, body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())


# -- pure logic --------------------------------------------------------------


def test_beam_pair_direction_bounce_turnback_and_floor_at_zero() -> None:
    c = BeamPairCounter(debounce_s=0.05, max_transit_s=3.0)
    # An exit before anyone entered: counted, occupancy stays at zero.
    seq = [("inner", True, 0.0), ("outer", True, 0.2), ("inner", False, 0.4), ("outer", False, 0.6)]
    got = [d for beam, b, t in seq for d in c.edge(beam, b, t)]
    assert got == [Direction.OUT] and (c.exits, c.occupancy) == (1, 0)
    # An entry with bounces on both beams.
    seq = [
        ("outer", True, 10.0),
        ("outer", False, 10.01),
        ("outer", True, 10.02),
        ("inner", True, 10.3),
        ("inner", False, 10.31),
        ("inner", True, 10.33),
        ("outer", False, 10.6),
        ("inner", False, 10.9),
    ]
    got = [d for beam, b, t in seq for d in c.edge(beam, b, t)]
    assert got == [Direction.IN] and (c.entries, c.occupancy) == (1, 1)
    # Steps in, breaks both, turns back: nothing counted.
    seq = [
        ("outer", True, 20.0),
        ("inner", True, 20.3),
        ("inner", False, 20.5),
        ("outer", False, 20.8),
    ]
    assert [d for beam, b, t in seq for d in c.edge(beam, b, t)] == []
    # Too slow: abandoned.
    seq = [
        ("outer", True, 30.0),
        ("inner", True, 35.0),
        ("outer", False, 35.2),
        ("inner", False, 35.4),
    ]
    assert [d for beam, b, t in seq for d in c.edge(beam, b, t)] == []
    assert c.abandoned == 1 and c.occupancy == 1


def test_level_qualifier_strictly_longer_than_hold() -> None:
    q = LevelQualifier(0.3, 1.0, raw=False, t=0.0)
    assert q.poll(1.5) is False  # the quiet level has persisted: accepted
    assert q.observe(True, 2.0) is None
    assert q.observe(False, 2.3) is None  # exactly 300 ms: ignored
    assert q.observe(True, 3.0) is None
    assert q.poll(3.31) is True


# -- drivers on mock pins ----------------------------------------------------


def test_beam_counter_driver_counts_with_scripted_breaks(factory: Any) -> None:
    clock = ManualClock()
    d = make(BeamCounterDriver, clock, factory, outer_pin=5, inner_pin=6, interval_s=3600)
    outer, inner = factory.pin(5), factory.pin(6)

    async def body() -> None:
        await d.start()

        # Pull-ups: both beams intact read high.
        async def step(pin: Any, broken: bool, dt: float) -> None:
            clock.advance(dt)
            pin.drive_low() if broken else pin.drive_high()

        await step(outer, True, 1.0)
        await step(outer, False, 0.005)  # bounce
        await step(outer, True, 0.005)
        await step(inner, True, 0.3)
        await step(outer, False, 0.3)
        await step(inner, False, 0.3)
        readings = await drain(d)
        assert {r.quantity: r.value for r in readings} == {"occupancy": 1, "entries": 1, "exits": 0}
        # Two exits: occupancy stays at zero, never negative.
        for _ in range(2):
            await step(inner, True, 2.0)
            await step(outer, True, 0.3)
            await step(inner, False, 0.3)
            await step(outer, False, 0.3)
        readings = await drain(d)
        last = {r.quantity: r.value for r in readings}
        assert last == {"occupancy": 0, "entries": 1, "exits": 2}
        assert all(r.unit == "persons" and r.quality is Quality.OK for r in readings)
        await d.aclose()
        await d.aclose()

    run(factory, body)


def test_beam_counter_daily_reset(factory: Any) -> None:
    clock = ManualClock(start=datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    d = make(
        BeamCounterDriver,
        clock,
        factory,
        outer_pin=5,
        inner_pin=6,
        interval_s=3600,
        reset_at=datetime(2026, 3, 1, 3, 30, tzinfo=UTC).astimezone().strftime("%H:%M"),
    )
    outer, inner = factory.pin(5), factory.pin(6)

    async def body() -> None:
        await d.start()
        for pin, low in ((outer, True), (inner, True), (outer, False), (inner, False)):
            clock.advance(0.3)
            pin.drive_low() if low else pin.drive_high()
        await drain(d)
        assert isinstance(d, BeamCounterDriver) and d.counter.entries == 1
        clock.advance(3600)  # past the reset time
        readings = await drain(d)
        assert {r.quantity: r.value for r in readings} == {"occupancy": 0, "entries": 0, "exits": 0}
        await d.aclose()

    run(factory, body)


@pytest.mark.parametrize(("pulse_s", "alarms"), [(0.2, False), (0.3, False), (0.5, True)])
def test_gpio_alarm_needs_level_longer_than_300ms(
    factory: Any, pulse_s: float, alarms: bool
) -> None:
    clock = ManualClock()
    d = make(GpioAlarmDriver, clock, factory, pin=17, interval_s=3600)
    pin = factory.pin(17)

    async def body() -> None:
        await d.start()
        clock.advance(3.0)
        first = await drain(d)
        assert [r.value for r in first] == [0.0]  # quiet line accepted: the sensor is alive
        pin.drive_low()  # optocoupler conducts: alarm level
        await asyncio.sleep(0.1)
        clock.advance(pulse_s)
        pin.drive_high()
        readings = await drain(d)
        assert [r.value for r in readings] == ([1.0] if alarms else [])
        await d.aclose()

    run(factory, body)


def test_gpio_alarm_long_alarm_reported_while_still_active(factory: Any) -> None:
    clock = ManualClock()
    d = make(GpioAlarmDriver, clock, factory, pin=17, min_clear_s=1.0, interval_s=3600)
    pin = factory.pin(17)

    async def body() -> None:
        await d.start()
        pin.drive_low()
        clock.advance(0.35)
        readings = await drain(d)
        assert [(r.quantity, r.value) for r in readings] == [("smoke_alarm", 1.0)]
        pin.drive_high()
        clock.advance(1.5)
        readings = await drain(d)
        assert [r.value for r in readings] == [0.0]
        await d.aclose()

    run(factory, body)


def test_float_switch_ignores_slosh(factory: Any) -> None:
    clock = ManualClock()
    d = make(FloatSwitchDriver, clock, factory, pin=27, settle_s=2.0, interval_s=3600)
    pin = factory.pin(27)

    async def body() -> None:
        await d.start()
        clock.advance(2.5)
        assert [r.value for r in await drain(d)] == [0.0]
        for _ in range(5):  # waves: up and down every half second
            pin.drive_low()
            clock.advance(0.5)
            await asyncio.sleep(0.06)
            pin.drive_high()
            clock.advance(0.5)
            await asyncio.sleep(0.06)
        assert await drain(d) == []
        pin.drive_low()
        await asyncio.sleep(0.06)
        clock.advance(2.5)
        readings = await drain(d)
        assert [(r.quantity, r.value) for r in readings] == [("float_raised", 1.0)]
        await d.aclose()

    run(factory, body)


def test_gpio_heartbeat_repeats_state(factory: Any) -> None:
    clock = ManualClock()
    d = make(FloatSwitchDriver, clock, factory, pin=27, settle_s=0.0, interval_s=10)

    async def body() -> None:
        await d.start()
        await drain(d)
        clock.advance(10)
        assert [r.value for r in await drain(d)] == [0.0]
        await d.aclose()

    run(factory, body)


def test_pin_in_use_is_a_driver_error(factory: Any) -> None:
    clock = ManualClock()
    a = make(FloatSwitchDriver, clock, factory, pin=27)
    b = make(GpioAlarmDriver, clock, factory, pin=27)

    async def body() -> None:
        await a.start()
        with pytest.raises(DriverError, match="already used"):
            await b.start()
        await a.aclose()

    run(factory, body)


def test_ultrasonic_on_mock_trigger_pin(factory: Any) -> None:
    from gpiozero.pins.mock import MockTriggerPin

    echo = factory.pin(24)
    # 5 ms echo = 0.858 m at 343.26 m/s.
    factory.pin(23, pin_class=MockTriggerPin, echo_pin=echo, echo_time=0.005)
    clock = ManualClock()
    d = make(
        UltrasonicDriver,
        clock,
        factory,
        trigger_pin=23,
        echo_pin=24,
        mounting_height_m=2.0,
        interval_s=0.2,
    )

    async def body() -> None:
        await d.start()
        readings = await drain(d, settle=1.2)
        await d.aclose()
        assert readings, d.stats()
        good = [r for r in readings if r.quality is Quality.OK]
        assert good
        # Python timing jitter on a shared 2-core machine: a generous band.
        assert all(0.9 < r.value < 1.2 for r in good), [r.value for r in good]

    run(factory, body)


def test_ultrasonic_without_echo_reports_nothing(factory: Any) -> None:
    factory.pin(24)
    clock = ManualClock()
    d = make(
        UltrasonicDriver,
        clock,
        factory,
        trigger_pin=23,
        echo_pin=24,
        mounting_height_m=2.0,
        interval_s=0.1,
        echo_timeout_s=0.2,
    )

    async def body() -> None:
        await d.start()
        readings = await drain(d, settle=0.6)
        await d.aclose()
        assert readings == []
        assert d.stats().timeouts >= 1

    run(factory, body)


def test_mcp3008_rs_r0_and_warmup(factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpiozero import Device

    # gpiozero 2.0.1's software SPI bus (used by mock pins; a Pi uses hardware SPI) calls
    # Device.ensure_pin_factory() without the factory it was given: give it ours.
    monkeypatch.setattr(Device, "pin_factory", factory)
    adc = mock_mcp3008(factory)
    clock = ManualClock()
    # 1.5 V at the ADC, divider 2 -> 3.0 V at the module; Rs = 1000 * (5 - 3) / 3 = 666.7 Ω.
    adc.channels[2] = 1.5
    d = make(
        Mcp3008Driver,
        clock,
        factory,
        channel=2,
        divider=2.0,
        r0_ohm=500.0,
        warmup_s=60.0,
        interval_s=0.05,
        samples=2,
    )

    async def body() -> None:
        await d.start()
        warm = await drain(d, settle=0.2)
        clock.advance(61)
        ready = await drain(d, settle=0.2)
        adc.channels[2] = 0.0  # unplugged module
        gone = await drain(d, settle=0.2)
        await d.aclose()
        assert warm and all(r.quality is Quality.SUSPECT for r in warm)
        rs = [r.value for r in ready if r.quantity == "rs_ohm"]
        ratio = [r.value for r in ready if r.quantity == "rs_r0"]
        assert rs and all(abs(v - 666.7) < 3 for v in rs), rs
        assert ratio and all(abs(v - 1.333) < 0.01 for v in ratio)
        assert all(r.quality is Quality.OK for r in ready)
        assert gone == [] and "disconnected" in (d.stats().last_error or "")

    run(factory, body)


def test_rs_formula() -> None:
    assert rs_from_voltage(2.5, 5.0, 1000.0) == 1000.0
