"""The alert state machine: dwell, immediate escalation, hysteresis + clear delay, no flapping."""

from __future__ import annotations

from datetime import UTC, datetime

from edge_agent.model import Candidate, EventKind, Hazard, Level
from edge_agent.pipeline.alerts import AlertBook, AlertMachine, Timing

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cand(t: float, level: Level, value: float = 1.0) -> Candidate:
    return Candidate("s1", Hazard.WATER, level, value, "m", {"rule": "r"}, t, T0, True)


def feed(m: AlertMachine, seq: list[tuple[float, Level]]) -> list[tuple[float, str, str | None]]:
    out = []
    for t, lvl in seq:
        ev = m.update(cand(t, lvl))
        if ev is not None:
            out.append((t, ev.event.value, ev.level.label))
    return out


def test_raises_only_after_dwell() -> None:
    m = AlertMachine("s1", Hazard.WATER, Timing(raise_after_s=5, clear_after_s=10))
    events = feed(m, [(0, Level.YELLOW), (4, Level.YELLOW), (5, Level.YELLOW)])
    assert events == [(5, "raised", "yellow")]


def test_a_blip_shorter_than_the_dwell_never_raises() -> None:
    m = AlertMachine("s1", Hazard.WATER, Timing(5, 10))
    events = feed(
        m, [(0, Level.RED), (3, Level.RED), (4, Level.NONE), (6, Level.RED), (10, Level.RED)]
    )
    assert events == []


def test_escalates_at_once_and_deescalates_after_clear_delay() -> None:
    m = AlertMachine("s1", Hazard.WATER, Timing(0, 10))
    events = feed(
        m,
        [
            (0, Level.BLUE),
            (1, Level.RED),
            (2, Level.YELLOW),
            (11, Level.YELLOW),
            (12, Level.YELLOW),
            (13, Level.NONE),
            (22, Level.NONE),
            (23, Level.NONE),
        ],
    )
    assert events == [
        (0, "raised", "blue"),
        (1, "escalated", "red"),
        (12, "deescalated", "yellow"),
        (23, "cleared", None),
    ]


def test_no_flapping_when_candidate_oscillates() -> None:
    m = AlertMachine("s1", Hazard.WATER, Timing(0, 10))
    seq = [(float(t), Level.ORANGE if t % 2 == 0 else Level.NONE) for t in range(60)]
    events = feed(m, seq)
    assert events == [(0.0, "raised", "orange")]


def test_never_deescalates_below_worst_level_seen_while_waiting() -> None:
    m = AlertMachine("s1", Hazard.WATER, Timing(0, 10))
    events = feed(m, [(0, Level.RED), (1, Level.NONE), (5, Level.ORANGE), (11, Level.NONE)])
    assert events[-1] == (11, "deescalated", "orange")


def test_restore_does_not_re_raise_and_keeps_alert_id() -> None:
    book = AlertBook({"s1": Timing(0, 5)})
    ev = book.update([cand(0, Level.ORANGE)])[0]
    saved = book.open_alerts()
    book2 = AlertBook({"s1": Timing(0, 5)})
    book2.restore(saved)
    assert book2.update([cand(1, Level.ORANGE)]) == []
    esc = book2.update([cand(2, Level.RED)])
    assert esc[0].event is EventKind.ESCALATED and esc[0].alert_id == ev.alert_id


def test_resolve_false_alarm_suppresses_until_clear_unless_worse() -> None:
    book = AlertBook({"s1": Timing(0, 5)})
    book.update([cand(0, Level.YELLOW)])
    m = book.machine("s1", Hazard.WATER)
    res = m.staff_event(
        EventKind.RESOLVED,
        by="Wang",
        note=None,
        verdict="false_alarm",
        ts=T0,
        clock_synced=True,
        t_mono=1,
    )
    assert res.event is EventKind.RESOLVED and m.alert_id is None
    assert book.update([cand(2, Level.YELLOW)]) == []  # same condition: no re-raise
    worse = book.update([cand(3, Level.RED)])  # worse: raised again at once
    assert worse[0].event is EventKind.RAISED and worse[0].level is Level.RED


def test_pending_raise_fires_on_tick_without_waiting_for_the_next_reading() -> None:
    m = AlertMachine("s1", Hazard.WATER, Timing(raise_after_s=30, clear_after_s=10))
    assert m.update(cand(0, Level.ORANGE)) is None
    assert m.tick(29.0) is None
    ev = m.tick(30.5)
    assert ev is not None and ev.event is EventKind.RAISED and ev.level is Level.ORANGE
    assert m.tick(40.0) is None  # raised once


def test_a_rule_with_its_own_zero_dwell_raises_at_once() -> None:
    m = AlertMachine("s1", Hazard.SMOKE, Timing(raise_after_s=10, clear_after_s=10))
    c = Candidate(
        "s1",
        Hazard.SMOKE,
        Level.RED,
        1.0,
        "state",
        {"rule": "alarm"},
        5.0,
        T0,
        True,
        raise_after_s=0.0,
    )
    ev = m.update(c)
    assert ev is not None and ev.event is EventKind.RAISED and ev.level is Level.RED
