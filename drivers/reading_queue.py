"""A bounded hand-off from driver threads and callbacks to the event loop.

Serial reader threads and gpiozero callbacks run outside the event loop; they
must never touch an ``asyncio.Queue`` directly. :meth:`ReadingQueue.put_threadsafe`
hops onto the loop with ``call_soon_threadsafe``. When the pipeline falls
behind, the oldest reading is dropped (and counted) rather than blocking the
hardware thread or growing without bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from edge_agent.drivers.base import FrameStats

from edge_agent.model import Reading

if TYPE_CHECKING:  # imported where used: plugin discovery must stay light
    import asyncio


class ReadingQueue:
    """Create on the event loop (in ``start``); feed from anywhere; iterate on the loop."""

    def __init__(self, maxsize: int, stats: FrameStats) -> None:
        import asyncio

        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Reading | None] = asyncio.Queue(maxsize=maxsize)
        self._stats = stats
        self.dropped = 0

    def put_threadsafe(self, reading: Reading) -> bool:
        """From any thread. False when the loop is gone (the caller should stop)."""
        try:
            self._loop.call_soon_threadsafe(self.put, reading)
        except RuntimeError:
            return False
        return True

    def put(self, item: Reading | None) -> None:
        """On the loop only."""
        if self._queue.full():
            self._queue.get_nowait()
            if item is not None:
                self.dropped += 1
                self._stats.errors += 1
                self._stats.last_error = "reading queue full: dropped the oldest reading"
        self._queue.put_nowait(item)

    def close(self) -> None:
        """On the loop: wake every consumer and end their iteration."""
        self.put(None)

    async def __aiter__(self) -> AsyncIterator[Reading]:
        while True:
            item = await self._queue.get()
            if item is None:
                self._queue.put_nowait(None)  # any other consumer ends too
                return
            yield item
