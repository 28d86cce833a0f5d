"""What the start-up fixes of issue 8 rely on: light CLI paths, exact plugin discovery."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from edge_agent.registry import DRIVER_GROUP, RULE_KIND_GROUP, Registry, _parse_entry_points

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[agent]
site_id = "s"
device_id = "d"
state_dir = "{state}"
[[sensors]]
id = "a"
driver = "sim"
scenario = "smoke"
rules = "smoke"
[[sensors]]
id = "b"
driver = "sim"
scenario = "crowd"
rules = "crowd"
"""


def test_config_validation_imports_nothing_heavy(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(state=tmp_path / "state"))
    code = (
        "import sys, json; from edge_agent.config.load import load_config; "
        f"load_config({str(cfg)!r}); print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    mods = set(json.loads(out))
    heavy = {"asyncio", "importlib.metadata", "river", "numpy", "scipy", "sqlite_utils", "paho"}
    assert not heavy & mods, sorted(heavy & mods)


def test_fast_entry_points_match_importlib_metadata() -> None:
    groups = (DRIVER_GROUP, RULE_KIND_GROUP)
    reg = Registry(groups)
    for group in groups:
        expected: dict[str, str] = {}
        for ep in entry_points(group=group):
            expected.setdefault(ep.name, ep.value)
        assert {n: e.value for n, e in reg._eps[group].items()} == expected
    assert reg.driver("sim").name == "sim"
    assert reg.rule_kind("threshold").kind == "threshold"


def test_entry_points_parser_reads_only_the_asked_groups() -> None:
    text = (
        "[console_scripts]\nx = a:b\n\n# comment\n[edge_agent.drivers]\n"
        "foo = pkg.mod:Foo [extra]\n ; another comment\nbar=pkg.bar:Bar\n"
    )
    eps = _parse_entry_points(text, (DRIVER_GROUP,))
    assert [(e.name, e.group, e.value) for e in eps] == [
        ("foo", DRIVER_GROUP, "pkg.mod:Foo [extra]"),
        ("bar", DRIVER_GROUP, "pkg.bar:Bar"),
    ]
