"""Time sources, injectable so tests and replay control them.

A Raspberry Pi has no RTC (before the Pi 5): until NTP syncs, the wall clock
can be years off. Intervals therefore always use ``time.monotonic()``; wall
stamps are aware UTC and carry ``clock_synced`` so a platform can correct
stamps taken before sync using ``boot_id`` and the monotonic time.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


class Clock(Protocol):
    """What the pipeline needs to know about time."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    def synced(self) -> bool: ...


class SystemClock:
    """The real clock. ``synced()`` is cached for ``recheck_s`` so the hot path stays cheap."""

    def __init__(
        self,
        *,
        flag: Path = TIMESYNC_FLAG,
        recheck_s: float = 30.0,
        assume_synced: bool | None = None,
    ) -> None:
        self._flag = flag
        self._recheck_s = recheck_s
        self._assume = assume_synced
        self._cached = False
        self._checked_at = -1e18

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def synced(self) -> bool:
        if self._assume is not None:
            return self._assume
        now = time.monotonic()
        if now - self._checked_at >= self._recheck_s:
            self._checked_at = now
            self._cached = detect_ntp_synced(self._flag)
        return self._cached


def detect_ntp_synced(flag: Path = TIMESYNC_FLAG) -> bool:
    """True when systemd-timesyncd (or timedatectl) says the clock is synchronised.

    ``EDGE_AGENT_CLOCK_SYNCED=1|0`` overrides the check (containers, CI, and
    nodes whose clock is disciplined by chrony without systemd's flag).
    """
    forced = os.environ.get("EDGE_AGENT_CLOCK_SYNCED")
    if forced in ("0", "1"):
        return forced == "1"
    if flag.exists():
        return True
    import subprocess  # only here: every CLI command imports this module

    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return out.stdout.strip() == "yes"


def boot_id() -> str:
    """The kernel's boot id: with ``t_mono`` it places any event on this boot's timeline."""
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        import uuid

        return str(uuid.uuid4())


class ManualClock:
    """A clock that moves only when told to: for tests and for replay.

    Replay sets the time from each row's timestamp, so the state machine's
    dwell and clear delays run on the recorded time, as fast as the CPU allows.
    """

    def __init__(self, start: datetime | None = None, *, synced: bool = True) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0
        self._synced = synced

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        from datetime import timedelta

        return self._start + timedelta(seconds=self._mono)

    def synced(self) -> bool:
        return self._synced

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock never goes back")
        self._mono += seconds

    def set_synced(self, synced: bool) -> None:
        self._synced = synced
