"""Run ``edge-agent tail`` as a subprocess and collect what it prints, line by line."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

from tests.agent_helpers import REPO


class TailProc:
    """``edge-agent tail`` as a subprocess, its output collected line by line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "tail", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(s, buf), daemon=True)
            for s, buf in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream: Any, buf: list[str]) -> None:
        for line in stream:
            buf.append(line.rstrip("\n"))

    def wait_for(self, what: str, where: str = "out", timeout: float = 20) -> None:
        buf = self.out if where == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(what in line for line in list(buf)):
                return
            time.sleep(0.05)
        raise AssertionError(f"tail never printed {what!r}; out={self.out} err={self.err}")

    def finish(self, timeout: float = 30) -> int:
        rc = self.proc.wait(timeout)
        for t in self._threads:
            t.join(5)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
