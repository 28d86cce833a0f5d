"""Run a real agent as a subprocess with a config written for the test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def sim_config(
    state_dir: Path,
    broker_url: str,
    *,
    scenarios: tuple[str, ...] = ("smoke",),
    cycle_s: float = 30.0,
    interval_s: float = 0.5,
    raise_after_s: float = 2.0,
    clear_after_s: float = 3.0,
    extra: str = "",
    site: str = "test-site",
    device: str = "test-pi",
    mqtt_extra: str = "",
) -> str:
    sensors = "\n".join(
        f'''
[[sensors]]
id = "{sc}-1"
driver = "sim"
scenario = "{sc}"
rules = "{sc}"
cycle_s = {cycle_s}
interval_s = {interval_s}
location = {{ building = "7", floor = "B1", zone = "{sc} zone" }}
overrides = {{ raise_after_s = {raise_after_s}, clear_after_s = {clear_after_s} }}
'''
        for sc in scenarios
    )
    return f'''
[agent]
site_id = "{site}"
device_id = "{device}"
state_dir = "{state_dir}"
locale = "en"

[mqtt]
url = "{broker_url}"
backoff_initial_s = 0.2
backoff_max_s = 1.0
keepalive_s = 5
{mqtt_extra}

[telemetry]
interval_s = 5
alert_interval_s = 2

[store]
reading_batch_s = 1.0
{extra}
{sensors}
'''


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def start_agent(
    config: Path, *, log: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[Any]:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(config), "-v"],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=str(REPO),
        env={**os.environ, **(env or {})},
    )


def stop_agent(proc: subprocess.Popen[Any], *, kill: bool = False, timeout: float = 15) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


def wait_for(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


async def until(cond: Any, timeout: float, what: str) -> None:
    """The async twin of :func:`wait_for`, for tests that run an Agent in-process."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
