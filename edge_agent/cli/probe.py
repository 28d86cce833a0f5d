"""``edge-agent probe DRIVER --port PORT [--count N] [--json] [--OPTION VALUE ...]``.

The installer's wiring check: talk to one sensor with the same driver and the
same option keys as the config, print what it reads and how clean the line
is, and when it fails say what is most likely wrong (group membership, the
UART not enabled, TX/RX swapped, wrong baud, a sleeping sensor, nothing
connected). Exit 0 when ``--count`` readings arrived, 1 when not, 2 on usage
errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from edge_agent.options import Option, validate_table

if TYPE_CHECKING:
    from edge_agent.drivers.base import Driver, FrameStats
    from edge_agent.model import Reading

PROG = "edge-agent probe"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def convert(text: str, opt: Option) -> Any:
    """Turn a command-line string into the Option's type; ValueError says why not."""
    types = opt.type if isinstance(opt.type, tuple) else (opt.type,)
    problems: list[str] = []
    for t in types:
        try:
            if t is bool:
                low = text.strip().lower()
                if low in TRUE_WORDS:
                    return True
                if low in FALSE_WORDS:
                    return False
                raise ValueError(f"{text!r} is not a boolean (use true or false)")
            if t is int:
                return int(text, 0)
            if t is float:
                return float(text)
            if t in (dict, list):
                value = json.loads(text)
                if not isinstance(value, t):
                    raise ValueError(f"{text!r} is not a JSON {t.__name__}")
                return value
            if t is str:
                return text
        except (ValueError, json.JSONDecodeError) as exc:
            problems.append(str(exc))
    raise ValueError(f"expected {opt.type_name()}: " + "; ".join(problems))


def build_parser(
    driver_names: Sequence[str], options: Mapping[str, Option] | None, summary: str | None = None
) -> argparse.ArgumentParser:
    """The parser for one driver (its options become ``--key VALUE``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Read a few values from one sensor and show the frame statistics: "
        "the wiring check before a sensor goes into the config."
        + (f"\n\n{summary}" if summary else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "driver",
        choices=list(driver_names),
        metavar="DRIVER",
        help="driver name as in the config: " + ", ".join(driver_names),
    )
    parser.add_argument(
        "--count",
        type=int,
        default=5,
        metavar="N",
        help="readings to take before stopping (default 5)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one reading per line as JSON (statistics go to stderr)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="give up after S seconds (default 30; a PMS5003's first frame can take ~9 s)",
    )
    parser.add_argument(
        "--sensor-id",
        default="probe",
        metavar="ID",
        help="sensor_id stamped on the readings (default 'probe')",
    )
    if options:
        group = parser.add_argument_group("driver options (the same keys as in the config)")
        for key, opt in options.items():
            flags = [f"--{key}"]
            if "_" in key:
                flags.append(f"--{key.replace('_', '-')}")
            extra = []
            if opt.choices:
                extra.append("one of " + ", ".join(str(c) for c in opt.choices))
            if not opt.required:
                extra.append(f"default {opt.default!r}")
            else:
                extra.append("required")
            group.add_argument(
                *flags,
                dest=f"opt_{key}",
                metavar=opt.type_name().upper(),
                help=opt.help + (f" ({'; '.join(extra)})" if extra else ""),
            )
    return parser


def reading_json(r: Reading) -> str:
    return json.dumps(
        {
            "sensor_id": r.sensor_id,
            "quantity": r.quantity,
            "value": r.value,
            "unit": r.unit,
            "ts": r.ts.isoformat(),
            "quality": str(r.quality),
            "clock_synced": r.clock_synced,
            "t_mono": round(r.t_mono, 3),
        },
        ensure_ascii=False,
    )


def reading_text(r: Reading) -> str:
    return (
        f"{r.ts.strftime('%H:%M:%S.%f')[:-3]}  {r.quantity:<12} {r.value:>10g} "
        f"{r.unit:<6} [{r.quality}]"
    )


def stats_text(stats: FrameStats, bytes_received: int | None) -> str:
    parts = [
        f"{stats.frames_ok} good",
        f"{stats.bad_checksum} bad checksum",
        f"{stats.bad_length} bad length",
        f"{stats.resyncs} resyncs",
        f"{stats.garbage_bytes} garbage bytes",
    ]
    if bytes_received is not None:
        parts.append(f"{bytes_received} bytes received")
    if stats.timeouts:
        parts.append(f"{stats.timeouts} timeouts")
    if stats.reopens:
        parts.append(f"{stats.reopens} reopens")
    return "frames: " + ", ".join(parts)


def diagnose(
    driver: str,
    config: Mapping[str, Any],
    stats: FrameStats,
    bytes_received: int | None,
    got: int,
    wanted: int,
) -> list[str]:
    """Likely causes, most likely first, for what the probe saw."""
    out: list[str] = []
    port = config.get("port", "the port")
    baud = config.get("baudrate")
    if got >= wanted:
        if stats.bad_rate() > 0.05:
            out.append(
                f"{stats.bad_rate():.0%} of frames were bad: a noisy line. On a Pi 3/4/Zero W the "
                "mini UART (/dev/ttyS0) follows the core clock: add dtoverlay=disable-bt (or "
                "miniuart-bt) to use the PL011; keep wires short and share the sensor's ground."
            )
        return out
    if bytes_received == 0:
        out.append(
            f"nothing at all was received on {port}. Check in this order: the sensor has "
            "power (PMS5003/SDS011 need 5 V for the fan, you should hear it); TX and RX "
            "are crossed (sensor TX -> Pi RXD GPIO15, sensor RX -> Pi TXD GPIO14), "
            "swap them if unsure; the sensor is not asleep (PMS SET pin must be high or "
            "open); something is connected to this port at all."
        )
        if config.get("mode") in ("passive", "query", "trigger"):
            out.append(
                f"in {config.get('mode')} mode the sensor only talks when asked: the "
                "Pi's TX must reach the sensor's RX."
            )
    elif bytes_received is not None and stats.frames_ok == 0 and stats.bad_frames == 0:
        out.append(
            f"{bytes_received} bytes arrived but never a frame header: most likely the "
            f"wrong baud rate (this driver expects {baud}), or a different device on "
            f"{port} (a serial console still enabled on the UART, another sensor)."
        )
    elif stats.frames_ok == 0 and stats.bad_frames > 0:
        out.append(
            "frame headers arrive but every frame fails its length or checksum: line "
            "noise, a mismatched baud rate or a damaged sensor; see the mini-UART note "
            "in hw/raspberry-pi.md."
        )
    elif stats.frames_ok > 0:
        out.append(
            f"the sensor answers ({stats.frames_ok} good frames) but too slowly for "
            f"{wanted} readings: raise --timeout, or check that it is not warming up or "
            "in a duty cycle."
        )
    if stats.timeouts:
        out.append(
            f"{stats.timeouts} requests got no answer: wrong device_id or baud, A/B "
            "swapped on RS-485, missing termination, or the device has no power."
        )
    if bytes_received is None and not stats.timeouts and got == 0:
        out.append(
            "no reading arrived: check the pins against hw/, that the sensor has power, "
            "and that your user is in group 'gpio' (and 'spi' for the MCP3008)."
        )
    if stats.last_error:
        out.append(f"last error: {stats.last_error}")
    return out


async def run_probe(driver: Driver, count: int, timeout: float, emit: Any) -> int:
    """Start ``driver``, pass up to ``count`` readings to ``emit``, close it; returns how many."""
    got = 0
    await driver.start()
    try:
        stream = driver.readings().__aiter__()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while got < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                reading = await asyncio.wait_for(stream.__anext__(), remaining)
            except (TimeoutError, StopAsyncIteration):
                break
            emit(reading)
            got += 1
    finally:
        await driver.aclose()
    return got


def main(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Entry point: ``argv`` is everything after ``probe``."""
    from edge_agent.errors import DriverError, PluginError
    from edge_agent.registry import Registry

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    registry = Registry()
    names = registry.driver_names()
    pre = argparse.ArgumentParser(prog=PROG, add_help=False)
    pre.add_argument("driver", nargs="?")
    known, _ = pre.parse_known_args(argv)
    options: Mapping[str, Option] | None = None
    summary = None
    cls: type[Driver] | None = None
    if known.driver in names:
        try:
            cls = registry.driver(known.driver)
        except PluginError as exc:
            print(f"{PROG}: {exc}", file=err)
            return 2
        options, summary = cls.options, cls.summary
    parser = build_parser(names, options, summary)
    args = parser.parse_args(argv)
    assert cls is not None and options is not None  # argparse rejected unknown drivers
    if args.count < 1:
        parser.error("--count must be at least 1")

    table: dict[str, Any] = {}
    for key, opt in options.items():
        text = getattr(args, f"opt_{key}")
        if text is None:
            continue
        try:
            table[key] = convert(text, opt)
        except ValueError as exc:
            parser.error(f"--{key}: {exc}")
    config, problems = validate_table(table, options)
    if problems:
        for key, problem in problems:
            print(f"{PROG}: --{key}: {problem}", file=err)
        return 2

    from edge_agent.clock import SystemClock
    from edge_agent.drivers.base import DriverContext

    driver = cls(args.sensor_id, config, DriverContext(clock=SystemClock()))

    def emit(reading: Reading) -> None:
        print(reading_json(reading) if args.json else reading_text(reading), file=out, flush=True)

    if not args.json:
        where = f" on {config['port']}" if "port" in config else ""
        print(
            f"probing {cls.name}{where} for {args.count} readings (timeout {args.timeout:g} s)...",
            file=err,
            flush=True,
        )
    try:
        got = asyncio.run(run_probe(driver, args.count, args.timeout, emit))
    except DriverError as exc:
        print(f"{PROG}: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130
    stats = driver.stats()
    bytes_received = getattr(driver, "bytes_received", None)
    # With --json stdout carries readings only, so the summary goes to stderr.
    report = err if args.json else out
    print(stats_text(stats, bytes_received), file=report)
    if got < args.count:
        print(f"only {got} of {args.count} readings within {args.timeout:g} s", file=report)
    for line in diagnose(cls.name, config, stats, bytes_received, got, args.count):
        print(f"  - {line}", file=report)
    return 0 if got >= args.count else 1
