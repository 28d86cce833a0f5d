"""Buzzers, sirens and LEDs on the node itself, driven straight from alert levels.

The local alarm is the part of the node that still works when everything
else is gone: no network, no broker, no NTP. The alert state machine calls
:meth:`LocalAlarm.update` with the full map of current levels after every
change; the alarm decides which pins are on. Nothing here reads the wall
clock: durations use the injected clock's ``monotonic()``.

Silence rules, because a warning system that can be silenced forever is a
warning system that will be:

* a silence (local button, the ``silence`` command, or automatic after
  ``auto_silence_s`` of sounding) mutes only the outputs sounding at that
  moment, for at most each output's ``max_silence_s``;
* it expires by itself and the output sounds again if the alert is still on;
* it holds only for the level it was given for: a higher level re-sounds at
  once, and an output whose alert clears forgets its silence, so the next
  alert sounds;
* a silence with nothing sounding does nothing (there is nothing to mute and
  a later alarm must be heard).

Thread safety: gpiozero calls the button handler on its own thread, so every
public method takes a lock; none of them blocks, so calling them from the
event loop is fine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edge_agent.clock import Clock
from edge_agent.model import Level
from edge_agent.outputs.options import SOUNDING_KINDS, normalise_pin, output_name

log = logging.getLogger(__name__)

#: Called after a silence took effect: ``{"by", "duration_s", "outputs"}``. For a
#: button press it runs on gpiozero's thread: hop to the loop before touching asyncio.
SilenceListener = Callable[[dict[str, Any]], None]


class LocalAlarmClosedError(RuntimeError):
    """The local alarm was used after :meth:`LocalAlarm.close`."""


@dataclass(slots=True)
class _Output:
    """One sounding output and its live state."""

    name: str
    kind: str
    pin: str
    device: Any  # gpiozero DigitalOutputDevice; typed loosely: gpiozero has no stubs
    min_level: Level
    exactly: bool
    hazards: frozenset[str]
    beep: tuple[float, float] | None
    keep_on_silence: bool
    auto_silence_s: float
    silence_s: float
    max_silence_s: float
    level: Level = Level.NONE
    active_since: float | None = None  # when the alert condition began
    sounding_since: float | None = None  # when it last started sounding (beep phase, auto-silence)
    muted_until: float | None = None
    muted_level: Level = Level.NONE
    muted_by: str | None = None
    driven: bool = False  # what the pin was last told

    def wants(self, level: Level) -> bool:
        if level is Level.NONE:
            return False
        return level == self.min_level if self.exactly else level >= self.min_level

    def muted(self, now: float) -> bool:
        return self.muted_until is not None and now < self.muted_until


class LocalAlarm:
    """Drives the ``[[outputs]]`` of the config from the current alert levels.

    ``outputs`` are tables already accepted by
    :data:`~edge_agent.outputs.OUTPUT_OPTIONS` (defaults filled in).
    ``pin_factory`` is a gpiozero pin factory (``MockFactory`` in tests; None
    lets gpiozero pick lgpio on a Pi). Call :meth:`poll` every ~0.1 s (or run
    :meth:`run`) so beeps, silence expiry and auto-silence happen on time.
    """

    def __init__(
        self,
        outputs: Sequence[Mapping[str, Any]],
        *,
        pin_factory: Any,
        clock: Clock,
        on_silence: SilenceListener | None = None,
    ) -> None:
        from gpiozero import LED, Button, Buzzer, DigitalOutputDevice

        self._clock = clock
        self._lock = threading.RLock()
        self._on_silence = on_silence
        self._outputs: list[_Output] = []
        self._buttons: list[tuple[str, Any]] = []
        self._levels: dict[tuple[str, str], Level] = {}
        self._last_silence: dict[str, Any] | None = None
        self._closed = False
        classes = {"buzzer": Buzzer, "relay": DigitalOutputDevice, "led": LED}
        try:
            for table in outputs:
                name = output_name(table)
                kind = str(table["kind"])
                if kind == "button":
                    button = Button(table["pin"], pull_up=table["pull_up"], pin_factory=pin_factory)
                    silence_s = float(table["silence_s"])
                    button.when_pressed = self._button_handler(name, silence_s)
                    self._buttons.append((name, button))
                    continue
                if kind not in SOUNDING_KINDS:
                    raise ValueError(f"output {name!r}: unknown kind {kind!r}")
                device = classes[kind](
                    table["pin"],
                    active_high=table["active_high"],
                    initial_value=False,
                    pin_factory=pin_factory,
                )
                beep = (
                    (float(table["beep_on_s"]), float(table["beep_off_s"]))
                    if table["pattern"] == "beep"
                    else None
                )
                self._outputs.append(
                    _Output(
                        name=name,
                        kind=kind,
                        pin=normalise_pin(table["pin"]),
                        device=device,
                        min_level=Level.parse(table["min_level"]),
                        exactly=table["match"] == "exactly",
                        hazards=frozenset(str(h) for h in table["hazards"]),
                        beep=beep,
                        keep_on_silence=table["on_silence"] == "keep",
                        auto_silence_s=float(table["auto_silence_s"]),
                        silence_s=float(table["silence_s"]),
                        max_silence_s=float(table["max_silence_s"]),
                    )
                )
        except BaseException:
            self.close()
            raise

    # -- inputs -----------------------------------------------------------------

    def update(self, levels: Mapping[tuple[str, str], Level]) -> None:
        """Take the full current map of (sensor_id, hazard) -> level and drive the pins."""
        with self._lock:
            self._check_open()
            self._levels = {(str(s), str(h)): Level(lv) for (s, h), lv in levels.items()}
            self._apply(self._clock.monotonic())

    def poll(self, now_mono: float | None = None) -> None:
        """Advance beeps, silence expiry and auto-silence to ``now_mono`` (default: the clock)."""
        with self._lock:
            self._check_open()
            self._apply(self._clock.monotonic() if now_mono is None else now_mono)

    async def run(self, interval_s: float = 0.1) -> None:
        """Call :meth:`poll` forever; run as a task beside the pipeline."""
        while True:
            self.poll()
            await asyncio.sleep(interval_s)

    def silence(self, duration_s: float, by: str) -> float:
        """Mute what is sounding now; returns the duration applied (0.0 if nothing sounded).

        Each output is muted for ``min(duration_s, its max_silence_s)``; the
        return value is the longest of those. ``by`` says who asked
        (``"button:NAME"``, ``"mqtt:USER"``, ``"cli"``) for status and audit.
        """
        if not duration_s > 0:
            raise ValueError(f"silence duration must be > 0 seconds, got {duration_s!r}")
        with self._lock:
            self._check_open()
            now = self._clock.monotonic()
            self._apply(now)
            applied = 0.0
            muted: list[str] = []
            for out in self._outputs:
                if out.keep_on_silence or not out.wants(out.level):
                    continue
                length = min(duration_s, out.max_silence_s)
                self._mute(out, now, length, by)
                applied = max(applied, length)
                muted.append(out.name)
            self._apply(now)
            event = {"by": by, "duration_s": applied, "requested_s": duration_s, "outputs": muted}
            if muted:
                self._last_silence = {**event, "at_mono": now}
        if muted:
            log.warning("local alarm silenced for %.0f s by %s: %s", applied, by, ", ".join(muted))
            if self._on_silence is not None:
                self._on_silence(event)
        else:
            log.info("silence by %s ignored: no local output is sounding", by)
        return applied

    def unsilence(self, by: str) -> None:
        """End every silence now (e.g. a test of the siren, or a mistaken silence)."""
        with self._lock:
            self._check_open()
            for out in self._outputs:
                self._unmute(out)
            self._apply(self._clock.monotonic())
        log.info("local alarm silence ended by %s", by)

    # -- outputs ---------------------------------------------------------------

    @property
    def silenced_until(self) -> float | None:
        """Monotonic time when the last running silence ends, or None when nothing is muted."""
        with self._lock:
            now = self._clock.monotonic()
            ends = [o.muted_until for o in self._outputs if o.muted(now) and o.muted_until]
            return max(ends) if ends else None

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot for ``edge-agent status`` and the status topic."""
        with self._lock:
            now = self._clock.monotonic()
            until = [o.muted_until for o in self._outputs if o.muted(now) and o.muted_until]
            return {
                "silenced": bool(until),
                "silenced_for_s": round(max(until) - now, 1) if until else 0.0,
                "last_silence": self._last_silence,
                "outputs": [
                    {
                        "name": o.name,
                        "kind": o.kind,
                        "pin": o.pin,
                        "level": o.level.label,
                        "alarm": o.wants(o.level),
                        "on": o.driven,
                        "silenced_for_s": round(o.muted_until - now, 1)
                        if o.muted(now) and o.muted_until
                        else 0.0,
                        "silenced_by": o.muted_by if o.muted(now) else None,
                    }
                    for o in self._outputs
                ],
                "buttons": [name for name, _ in self._buttons],
            }

    def close(self) -> None:
        """Turn every output off and release the pins. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for out in self._outputs:
                try:
                    out.device.off()
                finally:
                    out.device.close()
            for _, button in self._buttons:
                button.when_pressed = None
                button.close()

    def __enter__(self) -> LocalAlarm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise LocalAlarmClosedError("the local alarm is closed")

    def _button_handler(self, name: str, silence_s: float) -> Callable[[], None]:
        def pressed() -> None:
            if not self._closed:
                self.silence(silence_s, by=f"button:{name}")

        return pressed

    def _level_for(self, out: _Output) -> Level:
        worst = Level.NONE
        for (_sensor, hazard), level in self._levels.items():
            if (not out.hazards or hazard in out.hazards) and level > worst:
                worst = level
        return worst

    def _mute(self, out: _Output, now: float, length: float, by: str) -> None:
        out.muted_until = now + length
        out.muted_level = out.level
        out.muted_by = by

    def _unmute(self, out: _Output) -> None:
        out.muted_until = None
        out.muted_level = Level.NONE
        out.muted_by = None

    def _apply(self, now: float) -> None:
        for out in self._outputs:
            out.level = self._level_for(out)
            alarm = out.wants(out.level)
            if not alarm:
                # The alert cleared: forget its silence so the next alert is heard.
                out.active_since = None
                self._unmute(out)
            elif out.active_since is None:
                out.active_since = now
            if out.muted_until is not None and (
                now >= out.muted_until or out.level > out.muted_level
            ):
                self._unmute(out)  # expired, or the level rose above the silenced one
                out.sounding_since = None
            sounding = alarm and (out.keep_on_silence or not out.muted(now))
            if sounding and out.sounding_since is None:
                out.sounding_since = now
            if not sounding:
                out.sounding_since = None
            if (
                sounding
                and not out.keep_on_silence
                and out.auto_silence_s > 0
                and out.sounding_since is not None
                and now - out.sounding_since >= out.auto_silence_s
            ):
                self._mute(out, now, min(out.silence_s, out.max_silence_s), "auto")
                log.warning(
                    "%s sounded for %.0f s: auto-silenced for %.0f s",
                    out.name,
                    out.auto_silence_s,
                    min(out.silence_s, out.max_silence_s),
                )
                out.sounding_since = None
                sounding = False
            self._drive(out, sounding and self._beep_phase(out, now))

    @staticmethod
    def _beep_phase(out: _Output, now: float) -> bool:
        if out.beep is None or out.sounding_since is None:
            return True
        on_s, off_s = out.beep
        return (now - out.sounding_since) % (on_s + off_s) < on_s

    @staticmethod
    def _drive(out: _Output, on: bool) -> None:
        if on == out.driven:
            return
        if on:
            out.device.on()
        else:
            out.device.off()
        out.driven = on
