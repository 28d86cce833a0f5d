"""The alert stage: the single owner of alert state.

Candidates from the rules and commands from staff (``ack``, ``resolve``)
both change alert state, so both are handled here, in order, on one queue.
The local alarm is driven straight from here, before the store and the
network: a siren must sound with no broker, no disk and no clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from edge_agent.clock import Clock
from edge_agent.model import AlertEvent, EventKind, Level
from edge_agent.pipeline.alerts import AlertBook, AlertMachine, OpenAlert
from edge_agent.pipeline.messages import Decided, Evaluated, StaffCommand, Stop, Tick

LevelsListener = Callable[[Mapping[tuple[str, str], Level]], None]


class AlertStage:
    def __init__(
        self,
        book: AlertBook,
        clock: Clock,
        *,
        on_levels: LevelsListener | None = None,
        on_feedback: Callable[[str, str], object] | None = None,
        heartbeat: Callable[[], None] = lambda: None,
    ) -> None:
        self.book = book
        self.clock = clock
        self.on_levels = on_levels
        self.on_feedback = on_feedback
        self.heartbeat = heartbeat

    async def run(
        self,
        inq: asyncio.Queue[Evaluated | Tick | StaffCommand | Stop],
        outq: asyncio.Queue[Decided | Tick | Stop],
    ) -> None:
        while True:
            item = await inq.get()
            self.heartbeat()
            if isinstance(item, Tick):
                events = self.book.tick(item.t_mono)
                if events:
                    self._levels_changed()
                    await outq.put(Decided(self._with_state(events)))
                await outq.put(item)
                continue
            if isinstance(item, Stop):
                await outq.put(item)
                return
            if isinstance(item, StaffCommand):
                decided = self.command(item)
                if decided.events:
                    await outq.put(decided)
                continue
            events = self.book.update(item.candidates)
            if events:
                self._levels_changed()
            await outq.put(Decided(self._with_state(events), item.scored))

    def _with_state(self, events: list[AlertEvent]) -> list[tuple[AlertEvent, OpenAlert | None]]:
        return [(ev, self.book.machine(ev.sensor_id, ev.hazard).snapshot()) for ev in events]

    def _levels_changed(self) -> None:
        if self.on_levels is not None:
            self.on_levels(self.book.levels())

    def command(self, cmd: StaffCommand) -> Decided:
        """Apply ``ack``/``resolve``; answer the command's future; never raise."""
        try:
            targets = self._targets(cmd.args)
            kind = EventKind.ACKNOWLEDGED if cmd.name == "ack" else EventKind.RESOLVED
            verdict = cmd.args.get("verdict") if kind is EventKind.RESOLVED else None
            events = []
            for m in targets:
                if kind is EventKind.ACKNOWLEDGED and m.acknowledged:
                    continue
                events.append(
                    m.staff_event(
                        kind,
                        by=str(cmd.args["by"]),
                        note=cmd.args.get("note"),
                        verdict=verdict,
                        ts=self.clock.now(),
                        clock_synced=self.clock.synced(),
                        t_mono=self.clock.monotonic(),
                    )
                )
                if verdict and self.on_feedback is not None:
                    self.on_feedback(m.sensor_id, verdict)
            if kind is EventKind.RESOLVED and events:
                self._levels_changed()
            ids = ", ".join(sorted({e.alert_id for e in events})) or "none (already acknowledged)"
            detail = f"{cmd.name}: {len(events)} alert(s): {ids}"
            _answer(cmd, "ok", detail, events)
            return Decided(self._with_state(events))
        except LookupError as exc:
            _answer(cmd, "error", str(exc).strip("'\""), [])
            return Decided()

    def _targets(self, args: Mapping[str, Any]) -> list[AlertMachine]:
        found = self.book.find(args.get("alert_id"), args.get("sensor_id"), args.get("hazard"))
        if not found:
            what = ", ".join(
                f"{k}={args[k]}" for k in ("alert_id", "sensor_id", "hazard") if args.get(k)
            )
            raise LookupError(f"no open alert matches {what or 'the command'}")
        return found


def _answer(cmd: StaffCommand, outcome: str, detail: str, events: list[AlertEvent]) -> None:
    if not cmd.reply.done():
        cmd.reply.set_result((outcome, detail, events))
