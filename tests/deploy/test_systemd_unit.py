"""The shipped unit file: systemd itself checks it, and its hardening is scored.

Needs ``systemd-analyze`` (Debian package ``systemd``); PID 1 need not be
systemd, both checks work offline on the file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "systemd" / "edge-agent.service"
EXEC = "/opt/edge-agent/venv/bin/edge-agent"
MAX_EXPOSURE = 2.5

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze not installed (Debian package 'systemd'); the unit was not verified",
)


def _directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _stubbed_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at a stub, since the venv is not installed here."""
    stub = tmp_path / "bin" / "edge-agent"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    text = UNIT.read_text()
    assert EXEC in text
    unit = tmp_path / "edge-agent.service"
    unit.write_text(text.replace(EXEC, str(stub)))
    return unit


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    env = {**os.environ, "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "", "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [ANALYZE, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@needs_analyze
def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    unit = _stubbed_unit(tmp_path)
    res = _run("verify", "--man=no", str(unit))
    assert res.returncode == 0, res.stderr
    # verify also prints non-fatal complaints ("Unknown key", "Invalid syntax, ignoring")
    assert res.stderr.strip() == "", res.stderr


@needs_analyze
def test_security_exposure_is_low(tmp_path: Path) -> None:
    unit = _stubbed_unit(tmp_path)
    res = _run("security", "--offline=yes", "--no-pager", str(unit))
    assert res.returncode == 0, res.stderr
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", res.stdout)
    assert found, res.stdout[-2000:]
    exposure = float(found.group(1))
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}:\n{res.stdout}"


def test_unit_has_the_contract_directives() -> None:
    d = _directives(UNIT.read_text())
    assert d["Type"] == ["notify"]
    assert d["ExecStart"] == [f"{EXEC} run --config /etc/edge-agent/edge-agent.toml"]
    assert d["Restart"] == ["on-failure"]
    assert "StartLimitBurst" in d and "StartLimitIntervalSec" in d
    assert "WatchdogSec" in d
    assert d["User"] == ["edge-agent"]
    assert set(d["SupplementaryGroups"][0].split()) == {"dialout", "gpio", "spi"}
    assert d["ProtectSystem"] == ["strict"]
    assert d["NoNewPrivileges"] == ["yes"]
    assert d["DevicePolicy"] == ["closed"]
    assert d["StateDirectory"] == ["edge-agent"]
    assert d["ConfigurationDirectory"] == ["edge-agent"]
    creds = {v.split(":", 1)[0] for v in d["LoadCredential"]}
    assert creds == {"mqtt.password", "signing.key", "operator.key"}
    allowed = {v.split()[0] for v in d["DeviceAllow"]}
    assert {"char-gpiochip", "char-spi", "char-ttyAMA", "char-ttyS"} <= allowed
    assert "SystemCallFilter" in d
    # the node must work before NTP syncs: no dependency on time-sync.target
    for key in ("After", "Requires", "Wants"):
        assert not any("time-sync.target" in v for v in d.get(key, [])), key
    assert "PrivateDevices" not in d


def test_directives_left_out_say_why() -> None:
    comments = "\n".join(
        line for line in UNIT.read_text().splitlines() if line.lstrip().startswith("#")
    )
    for left_out in (
        "PrivateDevices=",
        "PrivateNetwork=",
        "PrivateUsers=",
        "ProcSubset=",
        "IPAddressDeny=",
        "DynamicUser=",
        "MemoryMax=",
        "time-sync.target",
        "network-online.target",
        "SetCredential=",
    ):
        assert left_out in comments, f"{left_out} is left out without a comment saying why"
