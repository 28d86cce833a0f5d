"""``edge-agent audit``: every alert event and command, merged in time order, as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from edge_agent.cli.audit import COLUMNS, TimeArgError, parse_time_arg
from tests.agent_helpers import REPO
from tests.cli.store_builder import incident


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent", "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return incident(tmp_path_factory.mktemp("audit") / "state")


def rows_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_every_event_and_command_in_time_order(built: Any) -> None:
    proc = run("--state-dir", str(built.state_dir))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == ",".join(COLUMNS)
    rows = rows_csv(proc.stdout)
    assert [r["record"] for r in rows] == [
        "alert",
        "command",
        "alert",
        "alert",
        "command",
        "command",
        "alert",
        "alert",
    ]
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)

    alerts = [r for r in rows if r["record"] == "alert"]
    assert [int(r["seq"]) for r in alerts] == [e["seq"] for e in built.events]
    assert [r["event"] for r in alerts] == [
        "raised",
        "acknowledged",
        "escalated",
        "resolved",
        "raised",
    ]
    for row, ev in zip(alerts, built.events, strict=True):
        assert row["message"] == ev["message"], "the text people received, verbatim"
        assert row["title"] == ev["title"]
        assert row["ts"] == ev["ts"] and row["alert_id"] == ev["alert_id"]
        assert row["level"] == (ev["level"] or "")
        assert float(row["value"]) == ev["value"] and row["unit"] == ev["unit"]
    ack, resolved = alerts[1], alerts[3]
    assert (ack["by"], ack["note"], ack["verdict"]) == ("Wang Fang", "on my way", "")
    assert (resolved["by"], resolved["verdict"]) == ("Li Wei", "false_alarm")
    assert json.loads(alerts[0]["reason"])["rule"] == "pm25-level"
    assert alerts[-1]["clock_synced"] == "false"

    commands = [r for r in rows if r["record"] == "command"]
    assert [
        (c["command"], c["cmd_id"] or None, c["outcome"], c["detail"]) for c in commands
    ] == built.commands
    assert commands[0]["by"] == "Wang Fang" and commands[0]["alert_id"] == "smoke-a1"
    assert commands[1]["outcome"] == "error" and commands[1]["by"] == ""
    assert commands[2]["verdict"] == "false_alarm" and commands[2]["sensor_id"] == "smoke-1"


def test_json_keeps_the_published_payload(built: Any) -> None:
    proc = run("--state-dir", str(built.state_dir), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert isinstance(records, list) and len(records) == 8
    alerts = [r for r in records if r["record"] == "alert"]
    assert [r["payload"] for r in alerts] == built.events
    assert alerts[3]["level"] == "red" and alerts[1]["verdict"] is None
    bad = [r for r in records if r["record"] == "command" and r["outcome"] == "error"]
    assert bad[0]["payload"] == "{not json", "an unreadable command is kept as received"
    for r in records:
        assert set(COLUMNS) <= set(r)

    lines = run("--state-dir", str(built.state_dir), "--format", "jsonl").stdout.splitlines()
    assert [json.loads(ln) for ln in lines] == records


def test_since_and_until(built: Any) -> None:
    marks = built.marks
    since = marks["after_ack"].isoformat().replace("+00:00", "Z")
    until = marks["after_resolve"].isoformat()
    proc = run(
        "--state-dir", str(built.state_dir), "--since", since, "--until", until, "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    got = [(r["record"], r.get("event") or r.get("command")) for r in json.loads(proc.stdout)]
    assert got == [
        ("alert", "escalated"),
        ("command", "resolve"),
        ("command", "resolve"),
        ("alert", "resolved"),
    ]

    # A relative time, written the natural way with a space (argparse would take -1h for
    # an option) and with '='.
    for args in (("--since", "-1h"), ("--since=-1h",)):
        proc = run("--state-dir", str(built.state_dir), *args)
        assert proc.returncode == 0, proc.stderr
        assert len(rows_csv(proc.stdout)) == 8
    proc = run("--state-dir", str(built.state_dir), "--until", "-1d")
    assert proc.returncode == 0 and rows_csv(proc.stdout) == []
    # The same instant just after the last record, written in China Standard Time.
    later = (marks["end"] + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=8)))
    proc = run("--state-dir", str(built.state_dir), "--since", later.isoformat())
    assert rows_csv(proc.stdout) == [], "offsets are honoured"


@pytest.mark.parametrize("value", ["yesterday", "24", "-3y", "2026-13-01", ""])
def test_bad_since_is_a_clear_usage_error(built: Any, value: str) -> None:
    proc = run("--state-dir", str(built.state_dir), "--since", value)
    assert proc.returncode == 2
    assert "--since" in proc.stderr and "ISO 8601" in proc.stderr and "-24h" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_until_before_since(built: Any) -> None:
    proc = run("--state-dir", str(built.state_dir), "--since", "-1h", "--until", "-2h")
    assert proc.returncode == 2 and "before --since" in proc.stderr


def test_parse_time_arg() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_time_arg("--since", "-24h", now) == now - timedelta(hours=24)
    assert parse_time_arg("--since", "7d", now) == now - timedelta(days=7)
    assert parse_time_arg("--since", "-30m", now) == now - timedelta(minutes=30)
    assert parse_time_arg("--since", "-2w", now) == now - timedelta(weeks=2)
    assert parse_time_arg("--since", "now", now) == now
    assert parse_time_arg("--since", "2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time_arg("--since", "2026-03-01T16:00+08:00", now) == datetime(
        2026, 3, 1, 8, 0, tzinfo=UTC
    )
    with pytest.raises(TimeArgError, match="--until"):
        parse_time_arg("--until", "soon", now)


def test_output_file_and_excel_bom(built: Any, tmp_path: Path) -> None:
    out = tmp_path / "incident.csv"
    proc = run("--state-dir", str(built.state_dir), "--output", str(out), "--excel")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "wrote 5 alert events and 3 commands" in proc.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert len(rows_csv(raw.decode("utf-8-sig"))) == 8
    proc = run("--state-dir", str(built.state_dir), "--output", str(tmp_path / "no" / "x.csv"))
    assert proc.returncode == 1 and "cannot write" in proc.stderr


def test_no_store(tmp_path: Path) -> None:
    proc = run("--state-dir", str(tmp_path))
    assert proc.returncode == 1 and "has the agent run with this state_dir?" in proc.stderr
