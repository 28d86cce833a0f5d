"""The notify protocol against a real AF_UNIX datagram socket standing in for systemd.

Only systemd is faked (it is the "hardware" here): the test binds the socket
that ``$NOTIFY_SOCKET`` names and records every datagram with its arrival
time from a thread, so it keeps recording while the event loop is blocked.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from edge_agent.liveness import Liveness
from edge_agent.sdnotify import Notifier, run_watchdog

WATCHDOG_USEC = 200_000  # 0.2 s: pings every 0.1 s
INTERVAL = WATCHDOG_USEC / 2_000_000
SLACK = 0.15  # scheduling noise on a loaded 2-core machine


@dataclass
class FakeSystemd:
    """A bound datagram socket that records (arrival time, message)."""

    address: str
    env_value: str
    sock: socket.socket
    received: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.sock.settimeout(0.02)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.append((time.monotonic(), data.decode()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.sock.close()

    def messages(self) -> list[str]:
        return [m for _, m in self.received]

    def ping_times(self) -> list[float]:
        return [t for t, m in self.received if m == "WATCHDOG=1"]

    def wait_for(self, count: int, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)


@pytest.fixture(params=["path", "abstract"])
def fake_systemd(request: pytest.FixtureRequest) -> Iterator[FakeSystemd]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    tmpdir = None
    if request.param == "path":
        # AF_UNIX paths are limited to 108 bytes: pytest's tmp_path can be longer.
        tmpdir = tempfile.mkdtemp(prefix="sdn", dir="/tmp")
        address = os.path.join(tmpdir, "notify")
        env_value = address
    else:
        name = f"edge-agent-test/{uuid.uuid4().hex}"
        address = "\0" + name
        env_value = "@" + name
    sock.bind(address)
    fake = FakeSystemd(address=address, env_value=env_value, sock=sock)
    fake.start()
    yield fake
    fake.stop()
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


def env_for(fake: FakeSystemd, **extra: str) -> dict[str, str]:
    return {"NOTIFY_SOCKET": fake.env_value, **extra}


def test_without_notify_socket_everything_is_a_noop() -> None:
    n = Notifier({})
    assert not n.enabled
    assert n.watchdog_interval_s is None
    assert n.ready() is False
    assert n.status("running") is False
    assert n.watchdog() is False
    assert n.stopping() is False
    # no watchdog configured: the task returns at once instead of spinning
    asyncio.run(asyncio.wait_for(run_watchdog(n, lambda: True), timeout=1))


def test_state_messages_reach_systemd(fake_systemd: FakeSystemd) -> None:
    n = Notifier(env_for(fake_systemd))
    assert n.enabled
    assert n.ready(status="3 sensors, broker connected")
    assert n.status("3 sensors\nbroker  down")
    assert n.watchdog()
    assert n.stopping()
    fake_systemd.wait_for(4)
    n.close()
    assert fake_systemd.messages() == [
        "READY=1\nSTATUS=3 sensors, broker connected",
        "STATUS=3 sensors broker down",
        "WATCHDOG=1",
        "STOPPING=1",
    ]


def test_watchdog_interval_is_half_of_watchdog_usec(fake_systemd: FakeSystemd) -> None:
    n = Notifier(env_for(fake_systemd, WATCHDOG_USEC="30000000", WATCHDOG_PID=str(os.getpid())))
    assert n.watchdog_interval_s == 15.0
    # a WATCHDOG_USEC inherited from a parent process is not ours to honour
    other = Notifier(env_for(fake_systemd, WATCHDOG_USEC="30000000", WATCHDOG_PID="1"))
    assert other.watchdog_interval_s is None


def test_a_gone_socket_does_not_raise(tmp_path: object) -> None:
    n = Notifier({"NOTIFY_SOCKET": "/nonexistent/edge-agent/notify"})
    assert n.enabled
    assert n.ready() is False  # warned, not raised: losing a status must not kill alerting


def test_fields_must_be_single_lines(fake_systemd: FakeSystemd) -> None:
    n = Notifier(env_for(fake_systemd))
    with pytest.raises(ValueError, match="KEY=VALUE"):
        n.notify("READY=1\nWATCHDOG=1")


class Recorder:
    """Wraps is_alive to log (time, verdict) so the test can see each decision."""

    def __init__(self, liveness: Liveness) -> None:
        self.liveness = liveness
        self.calls: list[tuple[float, bool]] = []

    def __call__(self) -> bool:
        verdict = self.liveness.is_alive()
        self.calls.append((time.monotonic(), verdict))
        return verdict


async def _beat_forever(liveness: Liveness, stage: str, period: float) -> None:
    while True:
        liveness.beat(stage)
        await asyncio.sleep(period)


def _max_gap(times: list[float]) -> float:
    return max(b - a for a, b in itertools.pairwise(times))


def test_pings_regularly_and_stop_while_the_loop_is_blocked(fake_systemd: FakeSystemd) -> None:
    notifier = Notifier(env_for(fake_systemd, WATCHDOG_USEC=str(WATCHDOG_USEC)))
    assert notifier.watchdog_interval_s == pytest.approx(INTERVAL)
    marks: dict[str, float] = {}

    async def main() -> Recorder:
        liveness = Liveness(max_loop_lag_s=0.3, probe_interval_s=0.05)
        liveness.register("acquire", deadline_s=1.0)
        recorder = Recorder(liveness)
        tasks = [
            asyncio.create_task(liveness.run_loop_probe()),
            asyncio.create_task(_beat_forever(liveness, "acquire", 0.05)),
            asyncio.create_task(run_watchdog(notifier, recorder)),
        ]
        notifier.ready()
        await asyncio.sleep(1.0)
        marks["block_start"] = time.monotonic()
        time.sleep(1.0)  # a coroutine that blocks the loop: the fault under test
        marks["block_end"] = time.monotonic()
        await asyncio.sleep(0.6)
        notifier.stopping()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return recorder

    recorder = asyncio.run(main())
    fake_systemd.wait_for(1)
    time.sleep(0.1)
    assert fake_systemd.messages()[0] == "READY=1"
    assert fake_systemd.messages()[-1] == "STOPPING=1"
    pings = fake_systemd.ping_times()
    before = [t for t in pings if t < marks["block_start"]]
    during = [t for t in pings if marks["block_start"] + SLACK < t <= marks["block_end"]]
    after = [t for t in pings if t > marks["block_end"]]
    assert len(before) >= 6, f"expected regular pings before the hang, got {len(before)}"
    assert _max_gap(before) < INTERVAL + SLACK
    assert during == [], "a blocked loop must not ping"
    # the first liveness check after the loop unblocks sees the hang and does not ping
    first_after = next(v for t, v in recorder.calls if t >= marks["block_end"])
    assert first_after is False
    # and health that comes back resumes the pings
    assert after, "pings should resume once the loop is responsive again"


def test_pings_stop_within_one_interval_when_a_stage_stops_beating(
    fake_systemd: FakeSystemd,
) -> None:
    notifier = Notifier(env_for(fake_systemd, WATCHDOG_USEC=str(WATCHDOG_USEC)))
    deadline = 0.3
    marks: dict[str, float] = {}

    async def main() -> None:
        liveness = Liveness(max_loop_lag_s=0.5, probe_interval_s=0.05)
        liveness.register("acquire", deadline_s=deadline)
        liveness.register("publish", deadline_s=deadline)
        beaters = [
            asyncio.create_task(_beat_forever(liveness, "acquire", 0.05)),
            asyncio.create_task(_beat_forever(liveness, "publish", 0.05)),
        ]
        tasks = [
            asyncio.create_task(liveness.run_loop_probe()),
            asyncio.create_task(run_watchdog(notifier, liveness.is_alive)),
        ]
        await asyncio.sleep(0.8)
        beaters[1].cancel()  # "publish" hangs; the loop itself stays fine
        marks["stop"] = time.monotonic()
        await asyncio.sleep(1.0)
        assert liveness.problems()[0].startswith("stage 'publish' silent for")
        for t in [*beaters, *tasks]:
            t.cancel()
        await asyncio.gather(*beaters, *tasks, return_exceptions=True)

    asyncio.run(main())
    time.sleep(0.05)
    pings = fake_systemd.ping_times()
    before = [t for t in pings if t < marks["stop"]]
    assert len(before) >= 5
    unhealthy_from = marks["stop"] + deadline
    late = [t for t in pings if t > unhealthy_from + INTERVAL + SLACK]
    assert late == [], f"pings went on {late[-1] - unhealthy_from:.2f} s after the stage died"
