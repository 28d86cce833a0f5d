"""``edge-agent probe``: real frames on a pty with garbage and corrupt frames interleaved."""

from __future__ import annotations

import errno
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from edge_agent.drivers import frames_a02, frames_pms, frames_sds
from edge_agent.drivers.base import FrameStats
from edge_agent.drivers.serial_base import port_open_hint
from fakes.pty_device import PtyDevice
from fakes.sensors import FakeA02yyuw, FakePms5003, FakeSds011

from edge_agent.cli.probe import convert, diagnose, main
from edge_agent.options import Option

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]
KEYS = {"sensor_id", "quantity", "value", "unit", "ts", "quality"}


def corrupt(frame: bytes, at: int) -> bytes:
    out = bytearray(frame)
    out[at] ^= 0x5A
    return bytes(out)


def pms_fake() -> FakePms5003:
    f1 = frames_pms.encode_data((11, 12, 13), (1, 2, 3))
    f2 = frames_pms.encode_data((14, 15, 16), (4, 5, 6))
    bad = corrupt(frames_pms.encode_data((99, 99, 99), (99, 99, 99)), 9)
    return FakePms5003([b"\x00\xfe\x42garbage", f1, bad, f1[:13], f2, b"\x4d\x42\x4d", f1])


def sds_fake() -> FakeSds011:
    f1, f2, f3 = (frames_sds.encode_data(*v) for v in ((1.1, 2.2), (3.3, 4.4), (5.5, 6.6)))
    bad = corrupt(frames_sds.encode_data(99.9, 99.9), 3)
    return FakeSds011([b"\xaa\xaa\x01noise", f1, bad, f2[:4], f2, b"\xab\xaa", f3])


def a02_fake() -> FakeA02yyuw:
    script = [
        b"\xff\xff\x00\x13",
        frames_a02.encode(1953),
        corrupt(frames_a02.encode(400), 2),
        frames_a02.encode(1953)[:2],
        frames_a02.encode(1800),
    ]
    return FakeA02yyuw(script, cycle=True)


CASES = {
    "pms5003": (
        pms_fake,
        [("pm1_0", 1.0), ("pm2_5", 2.0), ("pm10", 3.0), ("pm1_0", 4.0), ("pm2_5", 5.0)],
    ),
    "sds011": (
        sds_fake,
        [("pm2_5", 1.1), ("pm10", 2.2), ("pm2_5", 3.3), ("pm10", 4.4), ("pm2_5", 5.5)],
    ),
    "a02yyuw": (a02_fake, None),
}


def check_lines(driver: str, lines: list[str]) -> None:
    assert len(lines) == 5, lines
    rows = [json.loads(line) for line in lines]
    assert all(set(r) >= KEYS for r in rows)
    assert all(r["sensor_id"] == "probe" for r in rows)
    expected = CASES[driver][1]
    if expected is not None:
        assert [(r["quantity"], r["value"]) for r in rows] == expected
    else:
        # Streaming since power-up: any good frame may come first, never the corrupt one.
        assert all(r["quantity"] == "water_level" and r["unit"] == "m" for r in rows)
        assert {r["value"] for r in rows} <= {-1.953, -1.8}


@pytest.mark.parametrize("driver", sorted(CASES))
def test_probe_main_prints_five_correct_readings(driver: str) -> None:
    dev = PtyDevice(CASES[driver][0]())
    out, err = io.StringIO(), io.StringIO()
    try:
        argv = [driver, "--port", dev.path, "--count", "5", "--json"]
        if driver == "a02yyuw":
            argv += ["--interval_s", "0"]
        rc = main(argv, stdout=out, stderr=err)
    finally:
        dev.close()
    assert rc == 0, err.getvalue()
    check_lines(driver, out.getvalue().splitlines())
    assert "bad checksum" in err.getvalue() and "resyncs" in err.getvalue()


@pytest.mark.parametrize("driver", sorted(CASES))
def test_probe_subprocess(driver: str) -> None:
    if not (REPO / "edge_agent" / "cli" / "main.py").exists():
        pytest.skip("edge_agent/cli/main.py not written yet")
    dev = PtyDevice(CASES[driver][0]())
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "edge_agent",
                "probe",
                driver,
                "--port",
                dev.path,
                "--count",
                "5",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=45,
            cwd=REPO,
        )
    finally:
        dev.close()
    assert proc.returncode == 0, proc.stderr
    check_lines(driver, proc.stdout.splitlines())


def test_probe_text_output_and_sleeping_sensor_diagnosis() -> None:
    fake = FakePms5003()
    fake.asleep = True  # SET pin low: it ignores everything...
    fake.on_bytes = lambda data: b""  # type: ignore[method-assign]  # ...even our wake
    dev = PtyDevice(fake)
    out = io.StringIO()
    try:
        rc = main(
            ["pms5003", "--port", dev.path, "--count", "2", "--timeout", "0.6"],
            stdout=out,
            stderr=io.StringIO(),
        )
    finally:
        dev.close()
    text = out.getvalue()
    assert rc == 1
    assert "0 good" in text and "nothing at all was received" in text
    assert "TX and RX" in text and "asleep" in text


def test_probe_wrong_baud_diagnosis() -> None:
    class Noise:
        def on_bytes(self, data: bytes) -> bytes:
            return b""

        def next_chunk(self) -> bytes:
            return bytes(range(0x50, 0x70))  # what a 9600 baud frame looks like at 115200

    dev = PtyDevice(Noise())
    out = io.StringIO()
    try:
        rc = main(
            ["sds011", "--port", dev.path, "--count", "1", "--timeout", "0.5"],
            stdout=out,
            stderr=io.StringIO(),
        )
    finally:
        dev.close()
    assert rc == 1
    assert "wrong baud rate" in out.getvalue()


def test_probe_missing_port_exit_1_with_hint(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["a02yyuw", "--port", "/dev/ttyDOESNOTEXIST", "--count", "1"])
    assert rc == 1
    assert "raspi-config" in capsys.readouterr().err


def test_probe_rejects_bad_option_values(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["pms5003", "--port", "/dev/null", "--warmup_s", "soon"])
    assert exc.value.code == 2
    assert "--warmup_s" in capsys.readouterr().err
    assert main(["pms5003", "--port", "/dev/null", "--mode", "lazy"]) == 2
    assert "'lazy' is not one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nosuchdriver", "--port", "x"])


def test_probe_help_lists_driver_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["modbus_level", "--help"])
    text = capsys.readouterr().out
    assert "--device_id" in text and "--decimals_register" in text and "Modbus" in text


def test_convert_types() -> None:
    assert convert("0x10", Option(int, "h")) == 16
    assert convert("2.5", Option(float, "h")) == 2.5
    assert convert("yes", Option(bool, "h")) is True
    assert convert("off", Option(bool, "h")) is False
    with pytest.raises(ValueError):
        convert("maybe", Option(bool, "h"))


def test_permission_hint_names_the_group(tmp_path: Path) -> None:
    dev = tmp_path / "ttyS9"
    dev.write_bytes(b"")
    hint = port_open_hint(str(dev), PermissionError(errno.EACCES, "Permission denied"))
    assert "usermod -aG" in hint
    assert "in use" in port_open_hint("/dev/ttyAMA0", OSError("Could not exclusively lock port"))


def test_diagnose_noisy_line_and_modbus_timeouts() -> None:
    noisy = FrameStats(frames_ok=10, bad_checksum=5)
    assert "mini UART" in diagnose("pms5003", {"port": "/dev/ttyS0"}, noisy, 500, 5, 5)[0]
    silent = FrameStats(timeouts=3)
    lines = diagnose("modbus_level", {"port": "/dev/ttyUSB0"}, silent, None, 0, 5)
    assert any("device_id" in line for line in lines)
