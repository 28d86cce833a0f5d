"""Give the store one owner thread and an async face.

SQLite calls block (fsync on an SD card can take tens of milliseconds), so
they never run on the event loop. Every call goes through one single-thread
executor: one connection, one owner, calls applied in submission order.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from edge_agent.store.db import OpenReport, Store

P = ParamSpec("P")
T = TypeVar("T")


class StoreRunner:
    """Runs :class:`Store` methods on the store's own thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-store")
        self._store: Store | None = None

    async def open(self, state_dir: Path, **kwargs: Any) -> OpenReport:
        store, report = await self._run(Store.open, state_dir, **kwargs)
        self._store = store
        return report

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("store is not open")
        return self._store

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` (usually a bound Store method) on the store thread."""
        return await self._run(fn, *args, **kwargs)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            await self._run(store.close)
        self._pool.shutdown(wait=True)
