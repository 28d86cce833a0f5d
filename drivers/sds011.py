"""Nova SDS011 particulate sensor on a UART (often through its USB adapter).

Active mode sends a frame every second; query mode answers one query at a
time. Its fan wears out after ~8000 h, so long deployments duty-cycle it:
either the sensor's own working period (``work_period_min``) or, in query
mode, ``sleep_between``: the agent wakes the sensor ``warmup_s`` before each
query and puts it back to sleep after the answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers import frames_sds as sds
from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.scanner import FrameScanner
from edge_agent.drivers.serial_base import SerialDriver, serial_options

from edge_agent.model import Quality, Reading
from edge_agent.options import Option

UGM3 = "µg/m³"


class Sds011Driver(SerialDriver[sds.SdsData | sds.SdsReply]):
    """Wiring: sensor TXD -> Pi RXD (GPIO15), RXD -> TXD (GPIO14), 5 V, GND; or its USB adapter."""

    name = "sds011"
    summary = "Nova SDS011 particulate sensor on a UART or USB adapter: PM2.5 and PM10 in µg/m³"
    options: ClassVar[Mapping[str, Option]] = {
        **serial_options(9600),
        "mode": Option(
            str,
            "active: a frame every second; query: the agent asks every interval_s",
            default="active",
            choices=("active", "query"),
        ),
        "interval_s": Option(
            float, "seconds between queries in query mode", default=5.0, min=1, max=86400
        ),
        "sleep_between": Option(
            bool,
            "query mode only: sleep the sensor (fan off) between "
            "queries, waking it warmup_s before each",
            default=False,
        ),
        "warmup_s": Option(
            float,
            "seconds after wake during which readings are marked suspect",
            default=30.0,
            min=0,
            max=600,
        ),
        "work_period_min": Option(
            int,
            "the sensor's own duty cycle: 0 continuous, 1-30 one "
            "measurement every n minutes; -1 leaves it as configured",
            default=-1,
            min=-1,
            max=30,
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"port": "/dev/ttyUSB0", "mode": "active"}
    quantities: ClassVar[Mapping[str, str]] = {"pm2_5": UGM3, "pm10": UGM3}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._awake_at = time.monotonic()
        self._asleep = False
        self._next_query = 0.0
        self.replies: list[sds.SdsReply] = []

    @property
    def _query_mode(self) -> bool:
        return bool(self.config.get("mode", "active") == "query")

    def make_scanner(self) -> FrameScanner[sds.SdsData | sds.SdsReply]:
        return sds.SdsScanner(self.frame_stats)

    def on_open(self, port: Any) -> None:
        self.write(port, sds.cmd_sleep(False))
        self._awake_at = time.monotonic()
        self._asleep = False
        self.write(port, sds.cmd_set_active(not self._query_mode))
        period = int(self.config.get("work_period_min", -1))
        if period >= 0:
            self.write(port, sds.cmd_working_period(period))
        warmup = float(self.config.get("warmup_s", 30.0))
        sleeping = self._query_mode and self.config.get("sleep_between", False)
        self._next_query = self._awake_at + (warmup if sleeping else 0.0)

    def on_idle(self, port: Any, now: float) -> None:
        if not self._query_mode:
            return
        warmup = float(self.config.get("warmup_s", 30.0))
        if self._asleep and now >= self._next_query - warmup:
            self.write(port, sds.cmd_sleep(False))
            self._asleep = False
            self._awake_at = now
        if not self._asleep and now >= self._next_query:
            self.write(port, sds.cmd_query())
            self._next_query = now + float(self.config.get("interval_s", 5.0))

    def on_close(self, port: Any) -> None:
        if self.config.get("sleep_between", False):
            self.write(port, sds.cmd_sleep(True))

    def decode(self, frame: sds.SdsData | sds.SdsReply) -> list[Reading]:
        if isinstance(frame, sds.SdsReply):
            self.replies = [*self.replies[-7:], frame]
            return []
        now = time.monotonic()
        warmup = float(self.config.get("warmup_s", 30.0))
        quality = Quality.SUSPECT if now - self._awake_at < warmup else Quality.OK
        out = [
            self.reading("pm2_5", frame.pm2_5, UGM3, quality),
            self.reading("pm10", frame.pm10, UGM3, quality),
        ]
        interval = float(self.config.get("interval_s", 5.0))
        if (
            self._query_mode
            and self.config.get("sleep_between", False)
            and interval > warmup + 2.0
            and self._port is not None
        ):
            self.write(self._port, sds.cmd_sleep(True))
            self._asleep = True
        return out
