"""Acquire: run one driver and put its readings on the pipeline's first queue.

A driver that fails to open or dies is retried with a capped backoff, for
ever: a sensor that comes back (a USB adapter re-plugged) is picked up again
without a restart, and meanwhile the fault rule sees the silence and raises a
``device`` alert. Nothing here swallows a failure into silence: the error is
kept in the driver's frame statistics for ``status`` and ``probe``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from edge_agent.drivers.base import Driver
from edge_agent.model import Reading
from edge_agent.pipeline.messages import Stop

log = logging.getLogger("edge_agent.acquire")

RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 30.0


async def acquire(
    driver: Driver,
    outq: asyncio.Queue[Reading | Stop],
    heartbeat: Callable[[], None] = lambda: None,
) -> None:
    """Read ``driver`` until cancelled."""
    delay = RETRY_INITIAL_S
    while True:
        try:
            await driver.start()
            async for reading in driver.readings():
                heartbeat()
                await outq.put(reading)
                delay = RETRY_INITIAL_S
            if driver.closed:
                return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any driver failure: record, report, retry
            stats = driver.stats()
            stats.errors += 1
            stats.last_error = str(exc)
            log.warning("sensor %s: %s (retrying in %.0f s)", driver.sensor_id, exc, delay)
        await asyncio.sleep(delay)
        delay = min(RETRY_MAX_S, delay * 2)
