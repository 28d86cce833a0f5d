"""Fixtures for driver tests: make ``tests/fakes`` importable and give each test a fresh clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from edge_agent.drivers.base import DriverContext  # noqa: E402

from edge_agent.clock import ManualClock, SystemClock  # noqa: E402


@pytest.fixture
def system_context() -> DriverContext:
    return DriverContext(clock=SystemClock(assume_synced=True))


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()
