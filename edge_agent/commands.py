"""Commands from staff and operators on ``{base}/cmd/{name}``: parsing and validation.

A command is a JSON object. Every command may carry ``id`` (echoed in the
result so the sender can match it). Invalid commands get an ``error`` result
and change nothing; the reason names the key that is wrong.

| name | keys |
|---|---|
| ``ack`` | ``by`` (required), ``note``, a target: ``alert_id``, or ``sensor_id`` [+ ``hazard``] |
| ``resolve`` | as ``ack`` plus ``verdict``: ``true_alarm`` or ``false_alarm`` (required) |
| ``silence`` | ``by`` (required), ``duration_s`` (bounded by the outputs' maximum), ``note`` |
| ``reload`` | ``by`` (required): re-read the config and rule packs without losing state |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

COMMANDS = ("ack", "resolve", "silence", "reload")
VERDICTS = ("true_alarm", "false_alarm")
_TEXT_MAX = 500


class CommandError(ValueError):
    """The command is malformed; the message says which key and why."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    id: str | None
    args: dict[str, Any]


def parse_command(name: str, payload: bytes) -> Command:
    """Validate one command message. Raises CommandError naming what is wrong."""
    if name not in COMMANDS:
        raise CommandError(f"unknown command {name!r}: accepted: {', '.join(COMMANDS)}")
    try:
        data = json.loads(payload.decode("utf-8")) if payload else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError('payload must be a JSON object, e.g. {"by": "Wang"}')
    cmd_id = data.get("id")
    if cmd_id is not None and not isinstance(cmd_id, str | int):
        raise CommandError("id: must be a string or integer")
    allowed = {"id", "by", "note", "ts", "sig"}
    if name in ("ack", "resolve"):
        allowed |= {"alert_id", "sensor_id", "hazard"}
    if name == "resolve":
        allowed |= {"verdict"}
    if name == "silence":
        allowed |= {"duration_s"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CommandError(
            f"{unknown[0]}: unknown key for {name} (accepted: {', '.join(sorted(allowed))})"
        )
    by = data.get("by")
    if not isinstance(by, str) or not by.strip():
        raise CommandError("by: required, the name of the person giving the command")
    for key in ("by", "note", "alert_id", "sensor_id", "hazard"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > _TEXT_MAX):
            raise CommandError(f"{key}: must be a string of at most {_TEXT_MAX} characters")
    if name in ("ack", "resolve") and not (data.get("alert_id") or data.get("sensor_id")):
        raise CommandError(
            "alert_id or sensor_id: say which alert (alert_id from the alert "
            "event, or sensor_id for that sensor's open alerts)"
        )
    if name == "resolve" and data.get("verdict") not in VERDICTS:
        raise CommandError(f"verdict: required, one of {', '.join(VERDICTS)}")
    if name == "silence":
        dur = data.get("duration_s")
        if dur is not None and (
            isinstance(dur, bool) or not isinstance(dur, int | float) or dur <= 0
        ):
            raise CommandError("duration_s: must be a positive number of seconds")
    args = {k: v for k, v in data.items() if k not in ("id", "sig")}
    return Command(name, None if cmd_id is None else str(cmd_id), args)
