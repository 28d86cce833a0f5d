"""The real agent under a fake systemd: READY=1, regular WATCHDOG=1, and no ping while it hangs."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from pathlib import Path

import pytest

from edge_agent.config.load import parse_config
from edge_agent.pipeline.agent import Agent
from tests.agent_helpers import sim_config
from tests.broker import Broker

pytestmark = pytest.mark.timeout(120)


def test_daemon_notifies_ready_pings_and_stops_pinging_when_its_loop_blocks(
    tmp_path: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock_path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(sock_path))
    server.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock_path))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # ping every 0.5 s
    config = parse_config(
        sim_config(tmp_path / "state", broker.url, interval_s=0.2, device="wd-pi")
    )

    loop_box: dict[str, asyncio.AbstractEventLoop] = {}
    stop_box: dict[str, asyncio.Event] = {}

    async def main() -> None:
        loop_box["loop"] = asyncio.get_running_loop()
        stop_box["stop"] = asyncio.Event()
        await Agent(config).run(stop_box["stop"])

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    received: list[tuple[float, str]] = []

    def collect(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = server.recv(4096).decode()
            except TimeoutError:
                continue
            for line in data.splitlines():
                received.append((time.monotonic(), line))

    try:
        collect(4.0)
        lines = [line for _, line in received]
        assert "READY=1" in lines
        pings = [t for t, line in received if line == "WATCHDOG=1"]
        assert len(pings) >= 4, lines
        assert max(b - a for a, b in itertools.pairwise(pings)) < 0.8
        assert any(line.startswith("STATUS=") and "sensors" in line for line in lines)

        # Block the event loop for 3 s: no ping may arrive during the hang.
        received.clear()
        blocked_at = time.monotonic()
        loop_box["loop"].call_soon_threadsafe(time.sleep, 3.0)
        collect(2.8)
        late = [t - blocked_at for t, line in received if line == "WATCHDOG=1"]
        # A ping already on its way may land just after the block starts (< one interval).
        assert all(t < 0.5 for t in late), late
    finally:
        loop_box["loop"].call_soon_threadsafe(stop_box["stop"].set)
        thread.join(30)
        collect(0.5)
        server.close()
    assert any(line.startswith("STOPPING=1") for _, line in received)
