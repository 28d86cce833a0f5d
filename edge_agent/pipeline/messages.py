"""What travels on the queues between stages (besides :mod:`edge_agent.model` values)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from edge_agent.model import AlertEvent, Candidate, Scored
from edge_agent.pipeline.alerts import OpenAlert


@dataclass(frozen=True, slots=True)
class Tick:
    """About once a second: lets time-based rules (stale sensors) and telemetry act."""

    t_mono: float


@dataclass(frozen=True, slots=True)
class Stop:
    """Sent down the pipeline on shutdown, after the drivers stopped: drain, then exit."""


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A scored reading (or None for a tick) and the candidates the rules produced."""

    scored: Scored | None
    candidates: list[Candidate]


@dataclass(slots=True)
class StaffCommand:
    """A command from a person on duty, routed to the stage that owns the alert state.

    ``reply`` is resolved with ``(outcome, detail, events)``.
    """

    name: str
    args: dict[str, Any]
    reply: asyncio.Future[tuple[str, str, list[AlertEvent]]]


@dataclass(slots=True)
class Decided:
    """Events from the alert state machine with the state of each alert after it."""

    events: list[tuple[AlertEvent, OpenAlert | None]] = field(default_factory=list)
    scored: Scored | None = None
