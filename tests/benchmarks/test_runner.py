"""The benchmark runner's machinery works, on a tiny budget (figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Figure, percentile, table, toml_config

REPO = Path(__file__).resolve().parents[2]


def test_list_names_every_benchmark() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("startup", "pipeline", "memory", "backlog", "sd_writes"):
        assert name in out


def test_unknown_benchmark_is_refused_by_name() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown benchmark(s) nope" in proc.stderr


def test_quick_startup_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "startup", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "CLI start-up: edge-agent check-config" in proc.stdout
    assert "python -c pass" in proc.stdout
    data = json.loads(out.read_text())
    keys = {f["key"] for f in data["figures"]}
    assert {"cli_version", "cli_check_config", "cli_status", "daemon_ready"} <= keys
    for f in data["figures"]:
        assert f["value"] > 0
        if f["baseline"] is not None:
            assert f["ratio"] == f["value"] / f["baseline"]


def test_figure_ratio_and_verdicts() -> None:
    f = Figure("k", "label", 30.0, "ms", "base", 10.0, target="<= 3x", target_ratio=3.0)
    assert f.ratio == 3.0 and f.ok is True
    g = Figure("k", "label", 60.0, "ms", target="< 50", target_value=50.0)
    assert g.ratio is None and g.ok is False
    text = table([f, g])
    assert "3.00x" in text and "MISSED" in text and "ok" in text


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([5.0], 99) == 5.0


def test_toml_config_round_trips_through_the_real_loader(tmp_path: Path) -> None:
    from benchmarks.common import bench_config
    from edge_agent.config.load import parse_config

    data = bench_config(tmp_path / "state", "mqtt://127.0.0.1:1883", 4, interval_s=0.5)
    cfg = parse_config(toml_config(data))
    assert [s.id for s in cfg.sensors] == ["smoke-0", "water-1", "crowd-2", "smoke-3"]
    assert cfg.sensors[0].driver_options["interval_s"] == 0.5
