"""Shared plumbing for commands that run the agent (``run``, ``demo``): signals and logging."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (systemd) and SIGINT (Ctrl-C) ask for a clean stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
