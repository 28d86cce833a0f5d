"""The local alarm on gpiozero's MockFactory pins, with a manual monotonic clock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from edge_agent.clock import ManualClock
from edge_agent.model import Level
from edge_agent.options import validate_table
from edge_agent.outputs import (
    OUTPUT_OPTIONS,
    LocalAlarm,
    LocalAlarmClosedError,
    check_outputs,
)

BUZZER, RELAY, LED_Y, LED_R, BUTTON = 17, 23, 5, 6, 24
SMOKE = ("smoke-b1", "smoke")
WATER = ("river-1", "water")


def table(**raw: Any) -> dict[str, Any]:
    values, problems = validate_table(raw, OUTPUT_OPTIONS)
    assert problems == []
    return values


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def high(factory: MockFactory, pin: int) -> bool:
    return bool(factory.pin(pin).state)


def make(
    factory: MockFactory, clock: ManualClock, *tables: dict[str, Any], **kw: Any
) -> LocalAlarm:
    return LocalAlarm(list(tables), pin_factory=factory, clock=clock, **kw)


def step(alarm: LocalAlarm, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    alarm.poll()


def levels(**kw: Level) -> Mapping[tuple[str, str], Level]:
    keys = {"smoke": SMOKE, "water": WATER}
    return {keys[k]: v for k, v in kw.items()}


def test_buzzer_sounds_at_orange_until_silenced_and_again_when_silence_expires(
    factory: MockFactory, clock: ManualClock
) -> None:
    alarm = make(factory, clock, table(kind="buzzer", pin=BUZZER, min_level="orange"))
    alarm.update(levels(smoke=Level.YELLOW))
    assert not high(factory, BUZZER)
    alarm.update(levels(smoke=Level.ORANGE))
    assert high(factory, BUZZER)
    step(alarm, clock, 3600)  # no auto-silence configured: it stays on
    assert high(factory, BUZZER)

    assert alarm.silence(120, by="cli") == 120
    assert not high(factory, BUZZER)
    assert alarm.silenced_until == pytest.approx(clock.monotonic() + 120)
    step(alarm, clock, 119)
    assert not high(factory, BUZZER)
    assert alarm.state()["outputs"][0]["silenced_by"] == "cli"
    step(alarm, clock, 1.5)
    assert high(factory, BUZZER), "silence expired while the alert is still on: sound again"
    assert alarm.silenced_until is None
    alarm.close()


def test_button_press_silences(factory: MockFactory, clock: ManualClock) -> None:
    heard: list[dict[str, Any]] = []
    alarm = make(
        factory,
        clock,
        table(kind="buzzer", pin=BUZZER),
        table(kind="button", pin=BUTTON, silence_s=300, name="hall-button"),
        on_silence=heard.append,
    )
    alarm.update(levels(smoke=Level.RED))
    assert high(factory, BUZZER)
    factory.pin(BUTTON).drive_low()  # pressed: the button pulls the pin to GND
    factory.pin(BUTTON).drive_high()
    assert not high(factory, BUZZER)
    state = alarm.state()
    assert state["silenced"] is True
    assert state["outputs"][0]["silenced_by"] == "button:hall-button"
    assert heard == [
        {
            "by": "button:hall-button",
            "duration_s": 300.0,
            "requested_s": 300.0,
            "outputs": ["buzzer-GPIO17"],
        }
    ]
    step(alarm, clock, 301)
    assert high(factory, BUZZER)
    alarm.close()


def test_silence_is_capped(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(factory, clock, table(kind="relay", pin=RELAY, max_silence_s=600))
    alarm.update(levels(water=Level.ORANGE))
    assert alarm.silence(7 * 24 * 3600, by="mqtt:ops") == 600
    step(alarm, clock, 599)
    assert not high(factory, RELAY)
    step(alarm, clock, 2)
    assert high(factory, RELAY)
    with pytest.raises(ValueError, match="must be > 0"):
        alarm.silence(0, by="cli")
    alarm.close()


def test_the_hard_cap_bounds_the_config_too() -> None:
    _, problems = validate_table(
        {"kind": "relay", "pin": 1, "max_silence_s": 10 * 24 * 3600}, OUTPUT_OPTIONS
    )
    assert problems == [("max_silence_s", "must be <= 14400, got 864000")]


def test_a_higher_level_during_silence_sounds_at_once(
    factory: MockFactory, clock: ManualClock
) -> None:
    alarm = make(factory, clock, table(kind="buzzer", pin=BUZZER))
    alarm.update(levels(smoke=Level.ORANGE))
    alarm.silence(600, by="cli")
    step(alarm, clock, 10)
    alarm.update(levels(smoke=Level.ORANGE, water=Level.YELLOW))  # nothing worse
    assert not high(factory, BUZZER)
    alarm.update(levels(smoke=Level.RED))
    assert high(factory, BUZZER)
    assert alarm.silenced_until is None
    alarm.close()


def test_a_cleared_alert_forgets_its_silence(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(factory, clock, table(kind="buzzer", pin=BUZZER))
    alarm.update(levels(smoke=Level.ORANGE))
    alarm.silence(600, by="cli")
    alarm.update(levels(smoke=Level.NONE))
    step(alarm, clock, 30)
    alarm.update(levels(smoke=Level.ORANGE))  # a new alert: it must be heard
    assert high(factory, BUZZER)
    alarm.close()


def test_silence_with_nothing_sounding_does_nothing(
    factory: MockFactory, clock: ManualClock
) -> None:
    alarm = make(factory, clock, table(kind="buzzer", pin=BUZZER))
    assert alarm.silence(600, by="cli") == 0.0
    alarm.update(levels(smoke=Level.RED))
    assert high(factory, BUZZER)
    alarm.close()


def test_beep_pattern_follows_the_injected_clock(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(
        factory,
        clock,
        table(kind="buzzer", pin=BUZZER, pattern="beep", beep_on_s=0.5, beep_off_s=1),
    )
    alarm.update(levels(smoke=Level.ORANGE))
    seen = []
    for _ in range(6):
        seen.append(high(factory, BUZZER))
        step(alarm, clock, 0.5)
    assert seen == [True, False, False, True, False, False]
    alarm.close()


def test_auto_silence_is_bounded_and_resounds(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(factory, clock, table(kind="relay", pin=RELAY, auto_silence_s=600, silence_s=300))
    alarm.update(levels(water=Level.RED))
    step(alarm, clock, 599)
    assert high(factory, RELAY)
    step(alarm, clock, 1)
    assert not high(factory, RELAY)
    assert alarm.state()["outputs"][0]["silenced_by"] == "auto"
    step(alarm, clock, 300)
    assert high(factory, RELAY)
    step(alarm, clock, 600)
    assert not high(factory, RELAY), "auto-silence cycles; it never sounds or stays silent forever"
    alarm.close()


def test_active_low_relay_and_hazard_filter(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(
        factory, clock, table(kind="relay", pin=RELAY, active_high=False, hazards=["water"])
    )
    assert high(factory, RELAY)  # off = high on an active-low board
    alarm.update(levels(smoke=Level.RED))
    assert high(factory, RELAY), "a water siren ignores smoke"
    alarm.update(levels(smoke=Level.RED, water=Level.ORANGE))
    assert not high(factory, RELAY)
    alarm.close()
    assert high(factory, RELAY), "closing leaves an active-low siren off"
    assert factory.pin(RELAY).function == "input", "and releases the pin"


def test_one_led_per_level(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(
        factory,
        clock,
        table(kind="led", pin=LED_Y, min_level="yellow", match="exactly", on_silence="keep"),
        table(kind="led", pin=LED_R, min_level="red", match="exactly", on_silence="keep"),
        table(kind="buzzer", pin=BUZZER, min_level="red"),
    )
    alarm.update(levels(smoke=Level.YELLOW))
    assert (high(factory, LED_Y), high(factory, LED_R)) == (True, False)
    alarm.update(levels(smoke=Level.YELLOW, water=Level.RED))
    assert (high(factory, LED_Y), high(factory, LED_R)) == (False, True)
    assert alarm.silence(60, by="cli") == 60
    assert high(factory, LED_R), "status LEDs with on_silence = keep stay lit"
    assert not high(factory, BUZZER)
    alarm.close()


def test_close_turns_off_and_is_idempotent(factory: MockFactory, clock: ManualClock) -> None:
    alarm = make(factory, clock, table(kind="buzzer", pin="GPIO17"))
    alarm.update(levels(smoke=Level.RED))
    assert high(factory, BUZZER)
    alarm.close()
    alarm.close()
    assert not high(factory, BUZZER)
    with pytest.raises(LocalAlarmClosedError):
        alarm.update(levels(smoke=Level.RED))


def test_cross_table_checks() -> None:
    tables = [
        table(kind="buzzer", pin=17),
        table(kind="relay", pin="GPIO17"),
        table(kind="led", pin=5, name="x"),
        table(kind="led", pin=6, name="x"),
    ]
    assert check_outputs(tables) == [
        ("outputs[1].pin", "GPIO17 is already used by outputs[0]"),
        ("outputs[3].name", "'x' is already the name of outputs[2]"),
    ]
    _, problems = validate_table({"kind": "siren", "pin": 3, "hazards": ["fire"]}, OUTPUT_OPTIONS)
    assert ("kind", "'siren' is not one of 'buzzer', 'relay', 'led', 'button'") in problems
    assert any(k == "hazards" and "'fire' is not a hazard" in m for k, m in problems)
