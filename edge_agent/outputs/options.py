"""What one ``[[outputs]]`` table may say, and the checks across tables.

An output is a buzzer, a relay (siren, strobe, a contact into a building's
alarm panel) or an LED that the alert state machine drives directly, so the
node warns people on site with no network, no broker and no clock; or a
button that silences them. Example::

    [[outputs]]
    kind = "relay"            # a siren on a relay board (most are active-low)
    pin = 23
    active_high = false
    min_level = "orange"
    hazards = ["smoke", "water"]
    auto_silence_s = 600      # stop after 10 min of sounding, resume 5 min later

    [[outputs]]
    kind = "button"           # a push button between GPIO 24 and GND
    pin = 24
    silence_s = 300
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edge_agent.model import Hazard
from edge_agent.options import Option

#: Output kinds that make noise or light (everything but the silence button).
SOUNDING_KINDS = ("buzzer", "relay", "led")
#: No silence, however requested, lasts longer than this: never silenced forever.
HARD_MAX_SILENCE_S = 4 * 3600.0


def _pin(value: Any) -> str | None:
    if isinstance(value, int) and value < 0:
        return f"must be a GPIO number >= 0 or a name like 'GPIO17' or 'BOARD11', got {value!r}"
    if isinstance(value, str) and not value.strip():
        return "must not be empty"
    return None


def _hazards(value: Any) -> str | None:
    known = [h.value for h in Hazard]
    for item in value:
        if item not in known:
            return f"{item!r} is not a hazard (expected some of {', '.join(known)})"
    return None


OUTPUT_OPTIONS: dict[str, Option] = {
    "kind": Option(
        str,
        "buzzer, relay (siren, strobe), led, or button (a local silence button)",
        choices=(*SOUNDING_KINDS, "button"),
    ),
    "pin": Option(
        (int, str),
        "GPIO (BCM) number such as 17, or a gpiozero pin name such as 'GPIO17' or 'BOARD11'",
        check=_pin,
    ),
    "name": Option(str, "name shown in status; defaults to KIND-PIN", default=""),
    "min_level": Option(
        str,
        "lowest alert level that turns this output on",
        default="orange",
        choices=("blue", "yellow", "orange", "red"),
    ),
    "match": Option(
        str,
        "at_least: on at min_level or worse; exactly: on only when the worst level is"
        " min_level (one LED per level)",
        default="at_least",
        choices=("at_least", "exactly"),
    ),
    "hazards": Option(
        list,
        "hazards this output reacts to; empty means all",
        default=[],
        check=_hazards,
    ),
    "active_high": Option(
        bool,
        "true if the pin going high turns the device on; most relay boards are active-low",
        default=True,
    ),
    "pattern": Option(
        str, "steady, or beep (on/off cycles)", default="steady", choices=("steady", "beep")
    ),
    "beep_on_s": Option(float, "seconds on in each beep", default=0.5, min=0.05, max=10),
    "beep_off_s": Option(float, "seconds off between beeps", default=0.5, min=0.05, max=10),
    "on_silence": Option(
        str,
        "off: a silence turns this output off; keep: it stays on (status LEDs)",
        default="off",
        choices=("off", "keep"),
    ),
    "auto_silence_s": Option(
        float,
        "after sounding this long without a break, silence itself for silence_s; 0 = never",
        default=0.0,
        min=0,
        max=3600,
    ),
    "silence_s": Option(
        float,
        "how long a button press (kind = button) or an automatic silence lasts",
        default=300.0,
        min=5,
        max=HARD_MAX_SILENCE_S,
    ),
    "max_silence_s": Option(
        float,
        "the longest any silence (button, command, automatic) may keep this output off",
        default=1800.0,
        min=5,
        max=HARD_MAX_SILENCE_S,
    ),
    "pull_up": Option(
        bool,
        "button only: true when the button connects the pin to GND (internal pull-up)",
        default=True,
    ),
}


def normalise_pin(pin: int | str) -> str:
    """One spelling per BCM pin, so ``17``, ``"17"``, ``"GPIO17"`` and ``"BCM17"`` compare equal."""
    text = str(pin).strip().upper()
    for prefix in ("GPIO", "BCM"):
        if text.startswith(prefix) and text[len(prefix) :].isdigit():
            text = text[len(prefix) :]
    return f"GPIO{int(text)}" if text.isdigit() else text


def output_name(table: Mapping[str, Any]) -> str:
    """The name shown in status: ``name`` or ``KIND-PIN``."""
    return str(table.get("name") or f"{table['kind']}-{normalise_pin(table['pin'])}")


def check_outputs(tables: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Problems across validated ``[[outputs]]`` tables, as ``(key path, problem)``.

    Run after :func:`~edge_agent.options.validate_table` has accepted each
    table. Two outputs on one pin would fight over it; two with one name make
    status ambiguous; a silence cap below the button's silence would be
    silently shortened, so it is reported instead.
    """
    problems: list[tuple[str, str]] = []
    pins: dict[str, int] = {}
    names: dict[str, int] = {}
    for i, t in enumerate(tables):
        pin = normalise_pin(t["pin"])
        if pin in pins:
            problems.append((f"outputs[{i}].pin", f"{pin} is already used by outputs[{pins[pin]}]"))
        else:
            pins[pin] = i
        name = output_name(t)
        if name in names:
            problems.append(
                (f"outputs[{i}].name", f"{name!r} is already the name of outputs[{names[name]}]")
            )
        else:
            names[name] = i
        if (
            t["kind"] in SOUNDING_KINDS
            and t["auto_silence_s"]
            and t["silence_s"] > t["max_silence_s"]
        ):
            problems.append(
                (
                    f"outputs[{i}].silence_s",
                    f"{t['silence_s']:g} s is longer than max_silence_s ({t['max_silence_s']:g} s)",
                )
            )
    return problems
