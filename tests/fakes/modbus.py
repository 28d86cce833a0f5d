"""A Modbus RTU transmitter served by pymodbus on ``socket://127.0.0.1:PORT``.

Registers follow the common level-transmitter map: 0x0000 id, 0x0001 baud
code, 0x0002 unit code, 0x0003 decimals, 0x0004 value (int16), plus a float32
at 0x0010..0x0011 (big word order). Addresses beyond are undefined, so reading
them returns exception 2 (illegal data address). With
``ignore_missing_devices`` a wrong device id gets no answer at all, like a real
RS-485 line.
"""

from __future__ import annotations

import socket
import struct
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def float_registers(value: float) -> list[int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


async def start_server(
    port: int,
    *,
    level_raw: int = 1234,
    decimals: int = 3,
    level_f32: float = 2.75,
    device_id: int = 1,
) -> Any:
    from pymodbus.framer import FramerType
    from pymodbus.server import ModbusSerialServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    registers = [device_id, 3, 7, decimals, level_raw & 0xFFFF] + [0] * 11
    registers += float_registers(level_f32)
    device = SimDevice(
        id=device_id, simdata=[SimData(0, values=registers, datatype=DataType.REGISTERS)]
    )
    server = ModbusSerialServer(
        [device],
        framer=FramerType.RTU,
        port=f"socket://127.0.0.1:{port}",
        baudrate=9600,
        ignore_missing_devices=True,
    )
    await server.serve_forever(background=True)
    return server


async def start_silent_line(port: int) -> Any:
    """An RS-485 line where nobody answers (wrong id, A/B swapped, no power): requests are
    read and dropped. pymodbus's own server answers unknown ids with exception 4, which a
    real line never does."""
    import asyncio

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(256):
            pass
        writer.close()

    return await asyncio.start_server(swallow, "127.0.0.1", port)
