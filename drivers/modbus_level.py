"""RS-485 Modbus RTU level or pressure transmitter (through a USB/RS-485 adapter or HAT).

Submersible pressure transducers and radar level gauges speak Modbus RTU,
but every vendor has its own register map, so the register address, count,
data type, word order, scale and decimals are all config. A common map:
0x0003 decimals, 0x0004 value (int16), i.e. ``address = 4``,
``decimals_register = 3``. The reported value is
``raw * scale / 10**decimals + offset``; for a transducer on the bed that reads
depth, ``offset`` is its height above the level datum.

A real RS-485 device stays silent for a wrong id or a swapped A/B pair:
each unanswered poll counts as a timeout and yields no reading, so the
sensor-fault rule sees the silence. An exception response (wrong address)
is counted as an error with its code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from edge_agent.drivers.base import DriverContext
from edge_agent.drivers.gpio_base import PolledDriver
from edge_agent.drivers.serial_base import is_device_path, serial_options

from edge_agent.model import Quality, Reading
from edge_agent.options import Option

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server busy",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}
REGISTERS_PER_TYPE = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}


class ModbusLevelDriver(PolledDriver):
    """Wiring: adapter A+ -> transmitter A+, B- -> B-, common GND; 120 Ω at both line ends."""

    name = "modbus_level"
    summary = (
        "RS-485 Modbus RTU level/pressure transmitter: one register (any address, type, "
        "scale) read every interval_s as water_level in m (configurable)"
    )
    options: ClassVar[Mapping[str, Option]] = {
        **{k: v for k, v in serial_options(9600).items() if k in ("port", "baudrate")},
        "parity": Option(
            str, "N, E or O (most transmitters: N)", default="N", choices=("N", "E", "O")
        ),
        "stopbits": Option(int, "stop bits on the line: 1 or 2", default=1, choices=(1, 2)),
        "device_id": Option(
            int, "Modbus device (slave) id of the transmitter", default=1, min=1, max=247
        ),
        "function": Option(
            str,
            "holding (FC03) or input (FC04) registers",
            default="holding",
            choices=("holding", "input"),
        ),
        "address": Option(
            int, "register address of the value (0-based, as on the wire)", min=0, max=65535
        ),
        "data_type": Option(
            str,
            "how the register(s) encode the value",
            default="int16",
            choices=tuple(REGISTERS_PER_TYPE),
        ),
        "word_order": Option(
            str,
            "for 32-bit types: big (high word first) or little",
            default="big",
            choices=("big", "little"),
        ),
        "scale": Option(
            float, "multiply the raw value by this (e.g. 0.001 for mm -> m)", default=1.0
        ),
        "decimals": Option(int, "divide by 10**decimals (fixed)", default=0, min=0, max=9),
        "decimals_register": Option(
            int,
            "register holding the decimals, read with the value; -1 = use 'decimals'",
            default=-1,
            min=-1,
            max=65535,
        ),
        "offset": Option(
            float, "added last (e.g. the transducer's height above the datum, m)", default=0.0
        ),
        "quantity": Option(str, "quantity name of the readings", default="water_level"),
        "unit": Option(str, "unit after scaling", default="m"),
        "min_valid": Option(
            float, "values below this are marked fault (sensor range)", default=-1e9
        ),
        "max_valid": Option(
            float, "values above this are marked fault (sensor range)", default=1e9
        ),
        "interval_s": Option(float, "seconds between polls", default=2.0, min=0.1, max=3600),
        "timeout_s": Option(float, "seconds to wait for an answer", default=1.0, min=0.05, max=30),
    }
    sample: ClassVar[Mapping[str, Any]] = {
        "port": "/dev/ttyUSB0",
        "device_id": 1,
        "address": 4,
        "decimals_register": 3,
        "scale": 1.0,
        "unit": "m",
    }
    quantities: ClassVar[Mapping[str, str]] = {"water_level": "m"}

    def __init__(self, sensor_id: str, options: Mapping[str, Any], context: DriverContext) -> None:
        super().__init__(sensor_id, options, context)
        self._client: Any = None

    def open_devices(self) -> None:
        from pymodbus.client import ModbusSerialClient
        from pymodbus.framer import FramerType

        c = self.config
        self._client = self.own(
            ModbusSerialClient(
                str(c["port"]),
                framer=FramerType.RTU,
                baudrate=int(c.get("baudrate", 9600)),
                parity=str(c.get("parity", "N")),
                stopbits=int(c.get("stopbits", 1)),
                timeout=float(c.get("timeout_s", 1.0)),
                retries=0,
            )
        )

    async def start(self) -> None:
        await super().start()
        url = str(self.config["port"])
        if is_device_path(url):
            import os

            from edge_agent.drivers.serial_base import port_open_hint

            from edge_agent.errors import DriverError

            if not os.path.exists(url):
                err = FileNotFoundError(2, "No such file or directory", url)
                await self.aclose()
                raise DriverError(f"{self.name}: cannot open {url}", hint=port_open_hint(url, err))

    def _read(self, address: int, count: int) -> Any:
        c = self.config
        fn = (
            self._client.read_holding_registers
            if c.get("function", "holding") == "holding"
            else self._client.read_input_registers
        )
        return fn(address, count=count, device_id=int(c.get("device_id", 1)))

    def read_blocking(self) -> list[Reading]:
        from pymodbus.exceptions import ModbusException

        c = self.config
        client = self._client
        stats = self.frame_stats
        if not client.connected and not client.connect():
            stats.errors += 1
            stats.last_error = f"cannot open {c['port']}"
            return []
        data_type = str(c.get("data_type", "int16"))
        try:
            rr = self._read(int(c["address"]), REGISTERS_PER_TYPE[data_type])
            dec_reg = int(c.get("decimals_register", -1))
            dr = self._read(dec_reg, 1) if dec_reg >= 0 and not rr.isError() else None
        except ModbusException as exc:
            stats.timeouts += 1
            stats.last_error = f"no answer from device {c.get('device_id', 1)}: {exc}"
            client.close()
            return []
        for response in (rr, dr):
            if response is not None and response.isError():
                code = int(getattr(response, "exception_code", 0))
                stats.errors += 1
                stats.last_error = (
                    f"Modbus exception {code} ({EXCEPTION_NAMES.get(code, 'unknown')})"
                )
                return []
        stats.frames_ok += 1
        raw = client.convert_from_registers(
            rr.registers,
            data_type=getattr(client.DATATYPE, data_type.upper()),
            word_order=str(c.get("word_order", "big")),
        )
        decimals = int(dr.registers[0]) if dr is not None else int(c.get("decimals", 0))
        if decimals > 9:
            stats.last_error = f"decimals register says {decimals}: wrong register?"
            stats.errors += 1
            return []
        value = float(raw) * float(c.get("scale", 1.0)) / 10**decimals + float(c.get("offset", 0.0))
        if not math.isfinite(value):
            stats.errors += 1
            stats.last_error = f"value {value} is not a number (wrong data_type?)"
            return []
        quality = Quality.OK
        if not float(c.get("min_valid", -1e9)) <= value <= float(c.get("max_valid", 1e9)):
            quality = Quality.FAULT
        return [
            self.reading(
                str(c.get("quantity", "water_level")),
                round(value, 6),
                str(c.get("unit", "m")),
                quality,
            )
        ]
