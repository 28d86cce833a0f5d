"""Checkpoint bytes for detectors, and the disabled detector.

Why a restricted pickle: the state is river statistics (Rust objects that
pickle themselves) plus a few lists; writing a parallel serialiser for each
would be fragile. The bytes are our own (the store keeps them in SQLite), but
the loader still refuses any class outside a short allow-list, so a corrupted
or planted blob cannot run code: it raises ValueError instead.
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from edge_agent.detection.streaming import StreamingDetector

_MAGIC = b"EADET1"

_ALLOWED = {
    ("collections", "deque"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("edge_agent.detection.checkpoint", "CheckpointedDetector"),
    ("edge_agent.detection.checkpoint", "DisabledDetector"),
    ("edge_agent.detection.streaming", "StreamingDetector"),
    ("edge_agent.detection.streaming", "_Scaler"),
    ("edge_agent.detection.streaming", "_Window"),
    ("river.stats.ewmean", "EWMean"),
    ("river.stats.ewvar", "EWVar"),
}


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED or (
            module.startswith("river._river_rust") and name.startswith("Rs")
        ):
            return super().find_class(module, name)
        raise ValueError(f"detector checkpoint refers to {module}.{name}, which is not allowed")


class CheckpointedDetector(StreamingDetector):
    """The streaming detector with the checkpoint verbs of the Detector protocol."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.params = dict(params)

    def to_bytes(self) -> bytes:
        return _MAGIC + zlib.compress(pickle.dumps(self, protocol=5))


class DisabledDetector:
    """Used when ``enabled = false``: always "no opinion", nothing to learn."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def score_learn(self, value: float, ts: datetime, t_mono: float) -> float | None:
        return None

    def feedback(self, verdict: Literal["false_alarm", "true_alarm"]) -> None:
        return None

    def to_bytes(self) -> bytes:
        return _MAGIC + zlib.compress(pickle.dumps(self, protocol=5))

    def memory_bytes(self) -> int:
        return 64


def load(data: bytes) -> CheckpointedDetector | DisabledDetector:
    """Inverse of ``to_bytes``."""
    if not data.startswith(_MAGIC):
        raise ValueError("not a detector checkpoint (bad magic bytes)")
    try:
        raw = zlib.decompress(data[len(_MAGIC) :])
        obj = _Restricted(io.BytesIO(raw)).load()
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"corrupt detector checkpoint: {exc}") from exc
    if not isinstance(obj, CheckpointedDetector | DisabledDetector):
        raise ValueError(f"detector checkpoint holds a {type(obj).__name__}")
    return obj
