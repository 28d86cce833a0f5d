"""Code quality gates that run with the suite: ruff, formatting, mypy --strict, packaging."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = ["edge_agent", "drivers", "rules", "tests", "benchmarks"]
BIN = Path(sys.executable).parent


def run(*cmd: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_ruff_clean() -> None:
    r = run(str(BIN / "ruff"), "check", "--output-format", "concise", *SOURCES)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_clean() -> None:
    r = run(str(BIN / "ruff"), "format", "--check", *SOURCES)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_clean(tmp_path: Path) -> None:
    """mypy sees the package as installed: drivers/ and rules/ inside edge_agent/.

    A tree of links mirrors the installed layout, so mypy checks every module
    under its real import name.
    """
    root = tmp_path / "edge_agent"
    root.mkdir()
    for item in (REPO / "edge_agent").iterdir():
        (root / item.name).symlink_to(item)
    (root / "drivers").symlink_to(REPO / "drivers")
    (root / "rules").symlink_to(REPO / "rules")
    r = run(
        str(BIN / "mypy"),
        "--config-file",
        str(REPO / "pyproject.toml"),
        "--cache-dir",
        str(tmp_path / ".mypy_cache"),
        "-p",
        "edge_agent",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_package_directory_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {"edge_agent.drivers", "edge_agent.rules"}
    for init in (REPO / "edge_agent").rglob("__init__.py"):
        rel = init.parent.relative_to(REPO)
        found.add(".".join(rel.parts))
    assert found == listed


@pytest.mark.slow
def test_wheel_has_no_generic_top_level_modules_and_works_anywhere(tmp_path: Path) -> None:
    r = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(tmp_path / "dist"),
        str(REPO),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    wheel = next((tmp_path / "dist").glob("edge_agent-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert "drivers" not in tops and "rules" not in tops
    assert "edge_agent/rules/smoke.toml" in names
    assert "edge_agent/drivers/sim.py" in names
    assert "edge_agent/schemas/alert-1.json" in names
    # Installed into a bare target dir and run from elsewhere, rule packs included.
    target = tmp_path / "site"
    r = run(
        sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)
    )
    assert r.returncode == 0, r.stderr
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from edge_agent.rulepacks import builtin_pack_names, resolve_pack; "
        "print(builtin_pack_names()); assert resolve_pack('water', None)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "water" in r.stdout and "smoke" in r.stdout
