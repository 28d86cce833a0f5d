"""Plantower PMS5003 / PMS7003 / PMSA003 particulate sensor on a UART.

Smoke raises PM2.5 long before most people smell it. The sensor starts in
active mode (a frame every 0.2-2.3 s); passive mode answers one frame per
read command, which lets the node choose its own pace. After wake the fan
needs ~30 s before values are stable, and a warming sensor sends all-zero
frames: such readings are marked ``suspect`` rather than dropped, so the
pipeline still sees the sensor alive.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers import frames_pms as pms
from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.scanner import FrameScanner
from edge_agent.drivers.serial_base import SerialDriver, serial_options

from edge_agent.model import Quality, Reading
from edge_agent.options import Option

UGM3 = "µg/m³"


class Pms5003Driver(SerialDriver[pms.PmsData | pms.PmsAck]):
    """Wiring: sensor TX -> Pi RXD (GPIO15), sensor RX -> Pi TXD (GPIO14), 5 V, GND."""

    name = "pms5003"
    summary = (
        "Plantower PMS5003/PMS7003/PMSA003 laser particulate sensor on a UART: "
        "PM1.0, PM2.5, PM10 in µg/m³ (smoke, dust)"
    )
    options: ClassVar[Mapping[str, Option]] = {
        **serial_options(9600),
        "mode": Option(
            str,
            "active: the sensor streams frames; passive: the agent asks for one every interval_s",
            default="active",
            choices=("active", "passive"),
        ),
        "interval_s": Option(
            float, "seconds between read commands in passive mode", default=2.5, min=0.5, max=3600
        ),
        "warmup_s": Option(
            float,
            "seconds after wake during which readings are marked suspect (the fan needs ~30 s)",
            default=30.0,
            min=0,
            max=600,
        ),
        "values": Option(
            str,
            "which mass concentrations to report: atmospheric (the usual) or "
            "cf1 (factory calibration particle)",
            default="atmospheric",
            choices=("atmospheric", "cf1"),
        ),
        "sleep_on_close": Option(
            bool, "put the sensor to sleep (fan off) when the agent stops", default=False
        ),
    }
    sample: ClassVar[Mapping[str, Any]] = {"port": "/dev/serial0", "mode": "active"}
    quantities: ClassVar[Mapping[str, str]] = {"pm1_0": UGM3, "pm2_5": UGM3, "pm10": UGM3}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._awake_at = time.monotonic()
        self._next_poll = 0.0
        self.last_ack: pms.PmsAck | None = None

    def make_scanner(self) -> FrameScanner[pms.PmsData | pms.PmsAck]:
        return pms.PmsScanner(self.frame_stats)

    def on_open(self, port: Any) -> None:
        self.write(port, pms.CMD_WAKE)
        passive = self.config.get("mode", "active") == "passive"
        self.write(port, pms.CMD_PASSIVE if passive else pms.CMD_ACTIVE)
        self._awake_at = time.monotonic()
        self._next_poll = self._awake_at

    def on_idle(self, port: Any, now: float) -> None:
        if self.config.get("mode", "active") == "passive" and now >= self._next_poll:
            self.write(port, pms.CMD_READ)
            self._next_poll = now + float(self.config.get("interval_s", 2.5))

    def on_close(self, port: Any) -> None:
        if self.config.get("sleep_on_close", False):
            self.write(port, pms.CMD_SLEEP)

    def decode(self, frame: pms.PmsData | pms.PmsAck) -> list[Reading]:
        if isinstance(frame, pms.PmsAck):
            self.last_ack = frame
            return []
        quality = Quality.OK
        warming = time.monotonic() - self._awake_at < float(self.config.get("warmup_s", 30.0))
        if warming or frame.all_zero:
            quality = Quality.SUSPECT
        if frame.error:
            quality = Quality.SUSPECT
            self.frame_stats.last_error = f"sensor reports error code {frame.error:#04x}"
        if self.config.get("values", "atmospheric") == "cf1":
            values = (frame.pm1_0_cf1, frame.pm2_5_cf1, frame.pm10_cf1)
        else:
            values = (frame.pm1_0, frame.pm2_5, frame.pm10)
        return [
            self.reading(q, v, UGM3, quality)
            for q, v in zip(("pm1_0", "pm2_5", "pm10"), values, strict=True)
        ]
