"""Docs are tested (sqlite-utils style): every CLI command has --help text and a README row.

A command added to ``edge_agent.cli.main.COMMANDS`` without a row in the
README's "Commands" table, or whose ``--help`` does not work, fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.cli.main import COMMANDS, usage

REPO = Path(__file__).resolve().parents[2]


def readme_commands() -> dict[str, str]:
    """``{command: row}`` from the README's "## Commands" table."""
    text = (REPO / "README.md").read_text("utf-8")
    match = re.search(r"^## Commands\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Commands' section"
    rows: dict[str, str] = {}
    for line in match.group(1).splitlines():
        m = re.match(r"\|\s*`edge-agent ([a-z][a-z0-9-]*)[^`]*`\s*\|(.*)\|\s*$", line.strip())
        if m:
            rows[m.group(1)] = m.group(2).strip()
    return rows


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_has_a_readme_row(name: str) -> None:
    rows = readme_commands()
    assert name in rows, f"README.md's Commands table has no row for `edge-agent {name}`"
    assert len(rows[name]) >= 10, f"README.md row for {name} says too little: {rows[name]!r}"


def test_readme_lists_no_command_that_does_not_exist() -> None:
    unknown = sorted(set(readme_commands()) - set(COMMANDS))
    assert not unknown, f"README.md documents commands the CLI does not have: {unknown}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_has_help(name: str) -> None:
    _module, summary = COMMANDS[name]
    assert len(summary) >= 10, f"{name}: one-line help in COMMANDS is missing or too short"
    assert name in usage()
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent", name, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 0, f"`edge-agent {name} --help` failed:\n{proc.stderr}"
    out = proc.stdout
    assert f"usage: edge-agent {name}" in out, f"{name} --help has no usage line:\n{out}"
    prose = out.split("\n\n", 1)[1] if "\n\n" in out else ""
    assert len(prose.split()) >= 8, f"{name} --help has no description:\n{out}"
