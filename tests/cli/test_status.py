"""``edge-agent status`` against real stores: one built through the real Store, one left by a
real agent process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge_agent.cli import status
from edge_agent.store.db import Store
from tests.agent_helpers import REPO
from tests.cli.store_builder import BOOT, incident


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent", "status", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return incident(tmp_path_factory.mktemp("incident") / "state")


def as_json(state_dir: Path) -> dict[str, Any]:
    proc = run("--state-dir", str(state_dir), "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_json_reports_what_the_store_holds(built: Any) -> None:
    report = as_json(built.state_dir)
    assert report["agent"]["version"] == "9.8.7"
    assert report["agent"]["boot_id"] == BOOT
    assert report["agent"]["clock_synced"] is True
    assert report["agent"]["running"] is False, "store closed cleanly: no -wal file"
    assert report["alert_events"] == 5

    (active,) = report["active_alerts"]
    assert active["sensor_id"] == "water-1" and active["hazard"] == "water"
    assert active["level"] == "yellow" and active["acknowledged"] is False
    assert active["alert_id"] == "water-a1" and active["value"] == 0.42
    assert active["since"] == built.events[-1]["ts"]

    # The backlog is exactly what the daemon's own Store.backlog() reported.
    assert {
        k: {f: v[f] for f in ("rows", "bytes", "refused")} for k, v in report["outbox"].items()
    } == built.backlog
    assert report["outbox"]["telemetry"]["refused"] == 1
    assert next(iter(report["outbox"])) == "alert", "alert events listed first"
    assert report["shed"] == {
        "rows": built.counters["shed_rows"],
        "bytes": built.counters["shed_bytes"],
    }
    assert report["shed"]["rows"] > 0
    assert report["last_publish_ts"] is not None
    assert report["broker"] == {
        "state": "disconnected",
        "since": report["broker"]["since"],
        "error": "[Errno 111] Connection refused",
    }
    readings = {(r["sensor_id"], r["quantity"]): r for r in report["last_readings"]}
    assert readings[("smoke-1", "pm2_5")]["value"] == 35.5, "the latest, not the first"
    assert readings[("water-1", "water_level")]["quality"] == "suspect"


def test_text_says_it_plainly(built: Any) -> None:
    proc = run("--state-dir", str(built.state_dir))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "version 9.8.7" in out and "clock synced: yes" in out
    assert "not running" in out
    assert "last recorded: disconnected" in out and "Connection refused" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("water-1  water"))
    assert "yellow" in line and "0.42 m" in line and line.rstrip().endswith("no")
    tele = next(ln for ln in out.splitlines() if ln.strip().startswith("telemetry"))
    assert tele.split()[1:2] == ["2"], tele
    assert f"shed:          {built.counters['shed_rows']} telemetry rows" in out
    assert "35.5 µg/m³" in out


def test_config_names_the_state_dir_relative_to_itself(tmp_path: Path, built: Any) -> None:
    conf = tmp_path / "etc" / "agent.toml"
    conf.parent.mkdir()
    rel = os.path.relpath(built.state_dir, conf.parent)
    conf.write_text(f'[agent]\nsite_id = "s"\ndevice_id = "d"\nstate_dir = "{rel}"\n')
    proc = run("--config", str(conf), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["agent"]["version"] == "9.8.7"


def test_no_store_says_so(tmp_path: Path) -> None:
    proc = run("--state-dir", str(tmp_path))
    assert proc.returncode == 1
    assert "has the agent run with this state_dir?" in proc.stderr
    assert str(tmp_path / "edge-agent.db") in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == [], "status must not create a store"
    proc = run("--state-dir", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "no state directory" in proc.stderr


def test_bad_config_is_named(tmp_path: Path) -> None:
    conf = tmp_path / "bad.toml"
    conf.write_text("[agent\nstate_dir = 3\n")
    proc = run("--config", str(conf))
    assert proc.returncode == 2 and str(conf) in proc.stderr and "TOML" in proc.stderr
    conf.write_text("[agent]\nstate_dir = 3\n")
    proc = run("--config", str(conf))
    assert proc.returncode == 2 and "agent.state_dir" in proc.stderr
    proc = run("--config", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "not found" in proc.stderr


def test_reads_while_the_agent_writes_and_leaves_no_files(tmp_path: Path, built: Any) -> None:
    before = sorted(p.name for p in built.state_dir.iterdir())
    as_json(built.state_dir)
    assert sorted(p.name for p in built.state_dir.iterdir()) == before, (
        "a stopped agent's store must not get -wal/-shm files (owned by whoever ran status)"
    )

    # With the store open for writing (the daemon running), status sees every commit.
    state = tmp_path / "live"
    store, _ = Store.open(state)
    try:
        store.set_meta_many({"version": "1.2.3", "broker_state": "connected"})
        report = as_json(state)
        assert report["agent"]["version"] == "1.2.3"
        assert report["agent"]["running"] is None, "a -wal file: running (or crashed)"
        assert report["broker"]["state"] == "connected"
        store.set_meta("version", "1.2.4")
        assert as_json(state)["agent"]["version"] == "1.2.4"
    finally:
        store.close()


def test_not_a_store(tmp_path: Path) -> None:
    (tmp_path / status.DB_NAME).write_bytes(b"this is not sqlite" * 100)
    proc = run("--state-dir", str(tmp_path))
    assert proc.returncode == 1 and "cannot read" in proc.stderr


def test_status_imports_nothing_heavy(built: Any) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from edge_agent.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['status', '--state-dir', {str(built.state_dir)!r}, '--json'])\n"
        "heavy = {'river', 'numpy', 'paho', 'sqlite_utils', 'scipy', 'pymodbus', 'serial',\n"
        "         'gpiozero'}\n"
        "print(rc, sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr
