"""deploy/install.sh under --prefix: a real install into a temporary tree.

The installer builds a real venv and pip-installs this checkout into it.
To stay fast and offline-friendly for the dependencies, the test passes
``EDGE_AGENT_PIP_ARGS=--no-deps`` and runs the installed agent with the dev
venv's third-party packages on PYTHONPATH (pip still fetches setuptools and
wheel for the isolated build, as it would on a Pi).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "edge-agent.example.toml"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)

FALLBACK_EXAMPLE = """\
[agent]
site_id = "test-site"
device_id = "test-pi"
state_dir = "/var/lib/edge-agent"
"""


def _deps_path(tmp: Path) -> Path:
    """The dev venv's third-party packages, minus edge-agent's own editable install."""
    deps = tmp / "deps"
    deps.mkdir(exist_ok=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("edge_agent", "__editable__", "edge-agent")) or name.endswith(".pth"):
            continue
        link = deps / entry.name
        if not link.exists():
            link.symlink_to(entry)
    return deps


def _snapshot(tmp: Path) -> Path:
    """A frozen copy of the checkout: others edit the shared tree while tests run,
    and a source change between two runs rightly makes the installer reinstall."""
    dest = tmp / "checkout"
    if not dest.exists():
        shutil.copytree(
            REPO,
            dest,
            ignore=shutil.ignore_patterns(
                ".git",
                ".venv",
                "__pycache__",
                "*.pyc",
                "*_cache",
                "*.egg-info",
                "build",
                "dist",
                "tests",
                "benchmarks",
                "hw",
                ".hypothesis",
                "state",
            ),
        )
    return dest


def _example(tmp: Path) -> Path:
    if EXAMPLE.exists():
        return EXAMPLE
    path = tmp / "example.toml"
    path.write_text(FALLBACK_EXAMPLE)
    return path


def _install(
    prefix: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "EDGE_AGENT_PYTHON": BASE_PYTHON,
        "EDGE_AGENT_PIP_ARGS": "--no-deps",
        **(env or {}),
    }
    full_env.pop("PYTHONPATH", None)
    return subprocess.run(
        [
            "bash",
            str(_snapshot(prefix.parent) / "deploy/install.sh"),
            "--prefix",
            str(prefix),
            *args,
        ],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
        check=False,
    )


def _manifest(root: Path) -> dict[str, str]:
    """Every path below root with its type, mode and content hash (or link target)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".cache"]  # pip caches, if any landed here
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            st = path.lstat()
            mode = oct(stat.S_IMODE(st.st_mode))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = f"link {os.readlink(path)}"
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = f"dir {mode}"
            else:
                out[rel] = f"file {mode} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return out


def _run_installed(prefix: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = prefix / "opt/edge-agent/venv/bin/edge-agent"
    env = {**os.environ, "PYTHONPATH": str(_deps_path(tmp))}
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=tmp,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("install")
    prefix = tmp / "root"
    res = _install(prefix, "--example-config", str(_example(tmp)))
    assert res.returncode == 0, res.stdout + res.stderr
    return prefix, tmp, res.stdout


def test_prefix_install_gives_a_working_agent(installed: tuple[Path, Path, str]) -> None:
    prefix, tmp, out = installed
    res = _run_installed(prefix, tmp, "--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("edge-agent ")
    # the installed copy, not the checkout, is what runs
    py = prefix / "opt/edge-agent/venv/bin/python"
    origin = subprocess.run(
        [str(py), "-c", "import edge_agent; print(edge_agent.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    ).stdout
    assert origin.startswith(str(prefix)), origin
    unit = prefix / "etc/systemd/system/edge-agent.service"
    assert unit.read_bytes() == (REPO / "deploy/systemd/edge-agent.service").read_bytes()
    config = prefix / "etc/edge-agent/edge-agent.toml"
    assert config.read_bytes() == _example(tmp).read_bytes()
    for cred in ("mqtt.password", "signing.key", "operator.key"):
        path = prefix / "etc/edge-agent" / cred
        assert path.read_bytes() == b""
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.readlink(prefix / "usr/local/bin/edge-agent").endswith("venv/bin/edge-agent")
    assert "skipped under --prefix: groups dialout gpio spi, user edge-agent" in out
    assert "Next steps:" in out
    assert not (tmp / "checkout/build").exists(), "the installer must not build in the checkout"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="deploy/edge-agent.example.toml not written yet")
def test_installed_example_config_passes_check_config(installed: tuple[Path, Path, str]) -> None:
    prefix, tmp, _ = installed
    res = _run_installed(
        prefix, tmp, "check-config", str(prefix / "etc/edge-agent/edge-agent.toml")
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_second_run_changes_nothing_and_keeps_the_config(
    installed: tuple[Path, Path, str],
) -> None:
    prefix, tmp, _ = installed
    before = _manifest(prefix)
    res = _install(prefix, "--example-config", str(_example(tmp)))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "is up to date" in res.stdout
    after = _manifest(prefix)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == set(), f"second run changed: {sorted(changed)[:20]}"

    config = prefix / "etc/edge-agent/edge-agent.toml"
    config.write_text(config.read_text() + "\n# edited on site\n")
    res = _install(prefix, "--example-config", str(_example(tmp)))
    assert res.returncode == 0, res.stderr
    assert config.read_text().endswith("# edited on site\n"), "an existing config is never replaced"


def test_uninstall_keeps_config_and_state_unless_purged(
    installed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    prefix, _, _ = installed
    root = tmp_path / "root"
    shutil.copytree(prefix, root, symlinks=True)
    state = root / "var/lib/edge-agent"
    state.mkdir(parents=True)
    (state / "edge-agent.db").write_bytes(b"alerts")

    res = _install(root, "--uninstall")
    assert res.returncode == 0, res.stderr
    assert not (root / "opt/edge-agent").exists()
    assert not (root / "etc/systemd/system/edge-agent.service").exists()
    assert not (root / "usr/local/bin/edge-agent").is_symlink()
    assert (root / "etc/edge-agent/edge-agent.toml").exists()
    assert (state / "edge-agent.db").read_bytes() == b"alerts"

    res = _install(root, "--uninstall", "--purge")
    assert res.returncode == 0, res.stderr
    assert not (root / "etc/edge-agent").exists()
    assert not state.exists()


def test_dry_run_touches_nothing(tmp_path: Path) -> None:
    prefix = tmp_path / "root"
    res = _install(prefix, "--dry-run", "--example-config", str(_example(tmp_path)))
    assert res.returncode == 0, res.stderr
    assert not prefix.exists()
    assert "+ " in res.stdout and " -m venv " in res.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"EDGE_AGENT_ARCH": "armhf"},
            "32-bit Raspberry Pi OS, and river has no 32-bit ARM wheels",
        ),
        ({"EDGE_AGENT_ARCH": "armv7l"}, "unsupported architecture 'armv7l'"),
        ({"EDGE_AGENT_ARCH": "riscv64"}, "unsupported architecture 'riscv64'"),
        ({"OS": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n'}, "unsupported OS release"),
        (
            {"OS": 'ID=fedora\nVERSION_ID="40"\nPRETTY_NAME="Fedora 40"\n'},
            "unsupported OS 'Fedora 40'",
        ),
        ({"OS": 'ID=debian\nVERSION_ID="11"\n'}, "Debian 12 (bookworm) and 13 (trixie)"),
    ],
)
def test_refuses_unsupported_platforms(tmp_path: Path, env: dict[str, str], message: str) -> None:
    env = dict(env)
    if "OS" in env:
        os_release = tmp_path / "os-release"
        os_release.write_text(env.pop("OS"))
        env["EDGE_AGENT_OS_RELEASE"] = str(os_release)
    prefix = tmp_path / "root"
    res = _install(prefix, "--example-config", str(_example(tmp_path)), env=env)
    assert res.returncode == 1
    assert message in res.stderr
    assert not (prefix / "opt").exists(), "refused before installing anything"


def test_accepts_raspberry_pi_os_on_aarch64(tmp_path: Path) -> None:
    os_release = tmp_path / "os-release"
    os_release.write_text(
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
    )
    res = _install(
        tmp_path / "root",
        "--dry-run",
        "--example-config",
        str(_example(tmp_path)),
        env={"EDGE_AGENT_ARCH": "arm64", "EDGE_AGENT_OS_RELEASE": str(os_release)},
    )
    assert res.returncode == 0, res.stderr


def test_root_is_required_without_prefix() -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: the check only bites for other users")
    install = REPO / "deploy/install.sh"
    res = subprocess.run(["bash", str(install)], capture_output=True, text=True, check=False)
    assert res.returncode == 1
    assert "run as root" in res.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_is_clean() -> None:
    res = subprocess.run(
        ["shellcheck", str(REPO / "deploy/install.sh")], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stdout
