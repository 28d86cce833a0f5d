"""`edge-agent replay`: the daemon's detection, rules and alert state on recorded data."""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from edge_agent.cli.replay import main as replay_main
from tests.agent_helpers import REPO
from tests.conftest import SHARED

NAB = SHARED / "data" / "nab" / "data"
WATER = SHARED / "data" / "water" / "hubeau_water_level_mm_10min_2020-01_aude.csv"
LEVELS = {"", "blue", "yellow", "orange", "red"}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_interleaved_sensors_keep_their_own_state(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    lines = ["timestamp,sensor_id,value"]
    for i in range(120):
        ts = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
        lines.append(f"{ts},garage,{0.60 if 20 <= i < 80 else 0.01}")  # red for 60 s
        lines.append(f"{ts},street,0.01")
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    assert replay_main(["--input", str(src), "--rules", "water", "--output", str(out)]) == 0
    rows = read(out)
    assert list(rows[0]) == ["timestamp", "sensor_id", "value", "anomaly_score", "level"]
    garage = [r["level"] for r in rows if r["sensor_id"] == "garage"]
    street = {r["level"] for r in rows if r["sensor_id"] == "street"}
    assert street == {""}
    # raise_after_s = 30 in the water pack: red from row 50, on the recorded clock.
    assert garage[49] == "" and garage[50] == "red"
    # clear_after_s = 600 s has not passed by the end: the alert is still in force.
    assert garage[-1] == "red"
    for r in rows:
        assert 0.0 <= float(r["anomaly_score"]) <= 1.0 and r["level"] in LEVELS


def test_bad_row_names_file_line_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("timestamp,value\n2026-01-01T00:00:00Z,1.0\n2026-01-01T00:00:10Z,abc\n")
    assert replay_main(["--input", str(src)]) == 2
    assert f"{src}:3: value 'abc' is not a number" in capsys.readouterr().err


def test_unknown_pack_and_bad_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text("time,reading\n1,2\n")
    assert replay_main(["--input", str(src), "--rules", "smok"]) == 2
    assert "no rule pack 'smok'" in capsys.readouterr().err
    assert replay_main(["--input", str(src)]) == 2
    assert "header is 'time,reading'" in capsys.readouterr().err


@pytest.mark.skipif(not NAB.is_dir(), reason="shared NAB data not present")
def test_every_nab_file_replays_with_the_generic_pack(tmp_path: Path) -> None:
    files = sorted(NAB.glob("*/*.csv"))
    assert len(files) >= 25
    for f in files:
        out = tmp_path / f"{f.stem}.out.csv"
        assert (
            replay_main(["--input", str(f), "--rules", "generic", "--output", str(out), "--quiet"])
            == 0
        )
        n_in = sum(1 for _ in f.open()) - 1
        rows = read(out)
        assert len(rows) == n_in, f.name
        assert {r["level"] for r in rows} <= LEVELS
        assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)


def water_long_format(dst: Path) -> dict[str, float]:
    """Hub'Eau mm -> long format in metres above each station's calm median (its datum)."""
    by_station: dict[str, list[tuple[str, float]]] = defaultdict(list)
    with WATER.open(newline="") as f:
        for r in csv.DictReader(f):
            by_station[r["station_code"]].append(
                (r["timestamp_utc"], float(r["water_level_mm"]) / 1000.0)
            )
    datum = {s: statistics.median(v for _, v in rows[:500]) for s, rows in by_station.items()}
    merged = sorted((ts, s, v - datum[s]) for s, rows in by_station.items() for ts, v in rows)
    with dst.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["timestamp", "sensor_id", "value"])
        w.writerows((ts, s, f"{v:.3f}") for ts, s, v in merged)
    return datum


@pytest.mark.skipif(not WATER.is_file(), reason="shared water data not present")
def test_water_data_in_metres_replays_through_the_water_pack(tmp_path: Path) -> None:
    src = tmp_path / "water.csv"
    water_long_format(src)
    out = tmp_path / "out.csv"
    plot = tmp_path / "water.png"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent",
            "replay",
            "--input",
            str(src),
            "--rules",
            "water",
            "--output",
            str(out),
            "--plot",
            str(plot),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "alert(s) raised" in r.stdout
    rows = read(out)
    assert len({x["sensor_id"] for x in rows}) > 40
    # The January 2020 flood (22-25 Jan) drives stations into alert.
    flood = [x for x in rows if "2020-01-22" <= x["timestamp"] < "2020-01-26" and x["level"]]
    assert flood
    assert plot.stat().st_size > 10_000
