"""Detection: one streaming model per (sensor, quantity), scoring each reading in [0, 1].

The models live in :mod:`edge_agent.detection` (river); this module owns
*which* model serves which reading, their checkpoints, and the feedback staff
give. The detection package is imported only when a sensor actually has
detection enabled, so commands that never detect never import river.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge_agent.model import Reading, Scored
from edge_agent.pipeline.messages import Stop, Tick

if TYPE_CHECKING:
    from edge_agent.detection import Detector


@dataclass(frozen=True, slots=True)
class DetectSpec:
    """Detection settings of one sensor: the quantity its pack grades and merged params."""

    quantity: str
    params: dict[str, Any]

    @property
    def enabled(self) -> bool:
        return bool(self.params.get("enabled", True))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    sensor_id: str
    quantity: str
    fingerprint: str
    state: bytes


class Detection:
    """The detectors of one agent."""

    def __init__(self, specs: Mapping[str, DetectSpec]) -> None:
        self._specs = dict(specs)
        self._models: dict[tuple[str, str], Detector] = {}
        self._fingerprints: dict[str, str] = {}
        self._api: Any = None
        if any(s.enabled for s in self._specs.values()):
            self._api = _load_api()
        if self._api is not None:
            for sid, spec in self._specs.items():
                if spec.enabled:
                    self._fingerprints[sid] = self._api.detector_fingerprint(spec.params)

    def reconfigure(self, specs: Mapping[str, DetectSpec]) -> list[str]:
        """Adopt new settings (config reload); models whose settings changed start afresh."""
        old = self._fingerprints
        self._specs = dict(specs)
        if self._api is None and any(s.enabled for s in self._specs.values()):
            self._api = _load_api()
        self._fingerprints = {}
        if self._api is not None:
            for sid, spec in self._specs.items():
                if spec.enabled:
                    self._fingerprints[sid] = self._api.detector_fingerprint(spec.params)
        reset = [sid for sid in old if old[sid] != self._fingerprints.get(sid)]
        for key in [k for k in self._models if k[0] in reset or k[0] not in self._specs]:
            del self._models[key]
        return reset

    @property
    def active(self) -> bool:
        return self._api is not None and bool(self._fingerprints)

    def score(self, reading: Reading) -> Scored:
        """Score ``reading`` with its sensor's model, then let the model learn from it."""
        fp = self._fingerprints.get(reading.sensor_id)
        if fp is None:
            return Scored(reading)
        spec = self._specs[reading.sensor_id]
        if reading.quantity != spec.quantity or reading.quality != "ok":
            return Scored(reading)
        key = (reading.sensor_id, reading.quantity)
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = self._api.make_detector(spec.params)
        return Scored(reading, model.score_learn(reading.value, reading.ts, reading.t_mono))

    def feedback(self, sensor_id: str, verdict: str) -> bool:
        """Pass a staff verdict (``false_alarm``/``true_alarm``) to the sensor's model."""
        spec = self._specs.get(sensor_id)
        model = self._models.get((sensor_id, spec.quantity)) if spec else None
        if model is None:
            return False
        model.feedback(verdict)  # type: ignore[arg-type]
        return True

    def checkpoints(self) -> list[Checkpoint]:
        return [
            Checkpoint(sid, q, self._fingerprints[sid], m.to_bytes())
            for (sid, q), m in self._models.items()
        ]

    def restore(self, checkpoints: Iterable[Checkpoint]) -> list[str]:
        """Load checkpoints whose fingerprint still matches; return the sensors discarded."""
        discarded = []
        for cp in checkpoints:
            if self._fingerprints.get(cp.sensor_id) != cp.fingerprint:
                discarded.append(cp.sensor_id)
                continue
            try:
                self._models[(cp.sensor_id, cp.quantity)] = self._api.detector_from_bytes(cp.state)
            except Exception:  # a checkpoint we cannot read is discarded, never fatal
                discarded.append(cp.sensor_id)
        return discarded

    def memory_bytes(self) -> dict[str, int]:
        return {f"{sid}/{q}": m.memory_bytes() for (sid, q), m in self._models.items()}


def _load_api() -> Any:
    try:
        import edge_agent.detection as api
    except ImportError:
        return None
    if not hasattr(api, "make_detector"):
        return None
    return api


async def detect_stage(
    detection: Detection,
    inq: asyncio.Queue[Reading | Tick | Stop],
    outq: asyncio.Queue[Scored | Tick | Stop],
    heartbeat: Callable[[], None],
) -> None:
    """Score every reading, in arrival order, and pass it on."""
    while True:
        item = await inq.get()
        heartbeat()
        if isinstance(item, Stop | Tick):
            await outq.put(item)
            if isinstance(item, Stop):
                return
            continue
        await outq.put(detection.score(item))
