"""Analog gas sensors (MQ-2 and kin) through an MCP3008 ADC on SPI.

An MQ-2's resistance Rs falls as smoke or combustible gas rises; its absolute
value varies from part to part, so the useful quantity is Rs/R0, where R0 is
Rs in clean air divided by the datasheet's clean-air ratio (9.83 for MQ-2).
Calibrate once: run ``edge-agent probe mcp3008 ...`` in clean air after the
warm-up, take the median ``rs_ohm`` and set ``r0_ohm = rs_ohm / 9.83``.

The heater needs minutes to settle (and a day or two when new): readings
within ``warmup_s`` of start are ``suspect``. The module's output swings to
5 V, so an MCP3008 powered at 3.3 V needs a divider: ``divider`` is the ratio
(R1 + R2) / R2 that undoes it.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.gpio_base import PolledDriver

from edge_agent.model import Quality, Reading
from edge_agent.options import Option, positive


def rs_from_voltage(v_out: float, supply_v: float, rl_ohm: float) -> float:
    """Sensor resistance from the load-resistor voltage: Rs = RL * (Vc - Vout) / Vout."""
    return rl_ohm * (supply_v - v_out) / v_out


class Mcp3008Driver(PolledDriver):
    """Wiring: MCP3008 on SPI0 (CE0), VDD/VREF 3.3 V; MQ module AO -> divider -> CHn."""

    name = "mcp3008"
    summary = (
        "analog gas sensor (MQ-2 etc.) through an MCP3008 ADC on SPI: "
        "sensor resistance rs_ohm and, once calibrated, rs_r0"
    )
    options: ClassVar[Mapping[str, Option]] = {
        "channel": Option(int, "MCP3008 input channel, 0..7", default=0, min=0, max=7),
        "spi_device": Option(
            int, "chip select: 0 = CE0 (GPIO8), 1 = CE1 (GPIO7)", default=0, min=0, max=1
        ),
        "vref": Option(
            float, "MCP3008 reference voltage (VREF pin), V", default=3.3, check=positive
        ),
        "divider": Option(
            float,
            "voltage divider ratio (R1+R2)/R2 between the module and the ADC; 1 = none",
            default=1.5,
            min=1,
            max=100,
        ),
        "supply_v": Option(
            float, "the gas sensor circuit's supply voltage, V", default=5.0, check=positive
        ),
        "rl_ohm": Option(
            float,
            "load resistor on the sensor module, Ω (often 1 kΩ on MQ-2 boards, marked 102)",
            default=1000.0,
            check=positive,
        ),
        "r0_ohm": Option(
            float,
            "Rs in clean air / clean-air ratio (9.83 for MQ-2); 0 = not "
            "calibrated yet, report rs_ohm only",
            default=0.0,
            min=0,
        ),
        "warmup_s": Option(
            float,
            "seconds after start during which readings are suspect (heater settling)",
            default=180.0,
            min=0,
            max=86400,
        ),
        "samples": Option(
            int, "ADC reads averaged (median) per reading", default=8, min=1, max=100
        ),
        "interval_s": Option(float, "seconds between readings", default=2.0, min=0.05, max=3600),
    }
    sample: ClassVar[Mapping[str, Any]] = {"channel": 0, "r0_ohm": 2000.0, "warmup_s": 0.0}
    quantities: ClassVar[Mapping[str, str]] = {"rs_ohm": "Ω", "rs_r0": "ratio"}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._adc: Any = None
        self._started_at = 0.0

    def open_devices(self) -> None:
        from gpiozero import MCP3008

        c = self.config
        self._adc = self.own(
            MCP3008(
                channel=int(c.get("channel", 0)),
                device=int(c.get("spi_device", 0)),
                max_voltage=float(c.get("vref", 3.3)),
                pin_factory=self.context.pin_factory,
            )
        )
        self._started_at = self.context.clock.monotonic()

    def read_blocking(self) -> list[Reading]:
        c = self.config
        n = int(c.get("samples", 8))
        fraction = statistics.median(float(self._adc.value) for _ in range(n))
        self.frame_stats.frames_ok += 1
        v_out = fraction * float(c.get("vref", 3.3)) * float(c.get("divider", 1.5))
        supply = float(c.get("supply_v", 5.0))
        quality = Quality.OK
        if self.context.clock.monotonic() - self._started_at < float(c.get("warmup_s", 180.0)):
            quality = Quality.SUSPECT
        if v_out <= 0.01 * supply:
            # No voltage across RL: the module is unplugged or its heater is dead.
            # Rs would be infinite: report nothing, so the fault rule sees silence.
            self.frame_stats.errors += 1
            self.frame_stats.last_error = f"output {v_out:.3f} V: sensor disconnected?"
            return []
        if v_out >= 0.995 * supply:
            quality = Quality.SUSPECT  # saturated: the divider or supply_v is wrong
        rs = rs_from_voltage(min(v_out, supply * 0.999), supply, float(c.get("rl_ohm", 1000.0)))
        out = [self.reading("rs_ohm", round(rs, 1), "Ω", quality)]
        r0 = float(c.get("r0_ohm", 0.0))
        if r0 > 0:
            out.append(self.reading("rs_r0", round(rs / r0, 4), "ratio", quality))
        return out
