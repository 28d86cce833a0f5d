"""Frame scanners: verified datasheet samples, resync after garbage/truncation, fuzzing."""

from __future__ import annotations

from edge_agent.drivers import frames_a02, frames_ld2410, frames_ld2450, frames_pms, frames_sds
from edge_agent.drivers.frames_a02 import A02Scanner
from edge_agent.drivers.frames_ld2410 import Ld2410Data, Ld2410Scanner
from edge_agent.drivers.frames_ld2450 import Ld2450Scanner
from edge_agent.drivers.frames_pms import PmsAck, PmsData, PmsScanner
from edge_agent.drivers.frames_sds import SdsData, SdsReply, SdsScanner
from hypothesis import given, settings
from hypothesis import strategies as st

PMS_SAMPLE = bytes.fromhex(
    "424d001c0000000800080000000800080 0d20046002d001e0000000097000 2c5".replace(" ", "")
)


def test_pms_verified_sample() -> None:
    (frame,) = PmsScanner().feed(PMS_SAMPLE)
    assert isinstance(frame, PmsData)
    assert (frame.pm1_0_cf1, frame.pm2_5_cf1, frame.pm10_cf1) == (0, 8, 8)
    assert (frame.pm1_0, frame.pm2_5, frame.pm10) == (0, 8, 8)
    assert frame.counts == (210, 70, 45, 30, 0, 0)
    assert frame.version == 0x97 and frame.error == 0


def test_pms_commands_match_datasheet() -> None:
    assert frames_pms.CMD_PASSIVE.hex(" ") == "42 4d e1 00 00 01 70"
    assert frames_pms.CMD_ACTIVE.hex(" ") == "42 4d e1 00 01 01 71"
    assert frames_pms.CMD_READ.hex(" ") == "42 4d e2 00 00 01 71"
    assert frames_pms.CMD_SLEEP.hex(" ") == "42 4d e4 00 00 01 73"
    assert frames_pms.CMD_WAKE.hex(" ") == "42 4d e4 00 01 01 74"


def test_pms_resyncs_after_garbage_truncation_and_bad_checksum() -> None:
    a = frames_pms.encode_data((1, 2, 3), (4, 5, 6))
    b = frames_pms.encode_data((7, 8, 9), (10, 11, 12))
    corrupt = bytearray(b)
    corrupt[12] ^= 0x40
    stream = b"\x00\xffnoise" + a[:17] + bytes(corrupt) + b"\x42" + a + b
    scanner = PmsScanner()
    # Feed one byte at a time: frames split across reads must still be found.
    frames = [f for i in range(len(stream)) for f in scanner.feed(stream[i : i + 1])]
    assert [(f.pm2_5, f.pm10) for f in frames if isinstance(f, PmsData)] == [(5, 6), (11, 12)]
    stats = scanner.stats
    assert stats.frames_ok == 2
    assert stats.bad_checksum + stats.bad_length >= 2  # the truncated one and the corrupt one
    assert stats.resyncs >= 1 and stats.garbage_bytes > 0


def test_pms_ack_is_not_a_bad_frame() -> None:
    ack = frames_pms.HEADER + bytes([0, 4, 0xE1, 1])
    ack += frames_pms.sum16(ack).to_bytes(2, "big")
    (frame,) = PmsScanner().feed(ack)
    assert frame == PmsAck(cmd=0xE1, data=1)


def test_sds_verified_sample_and_query_command() -> None:
    (frame,) = SdsScanner().feed(bytes.fromhex("AAC0D4043A0AA1601DAB"))
    assert frame == SdsData(pm2_5=123.6, pm10=261.8, device_id=0x60A1)
    assert frames_sds.cmd_query() == bytes.fromhex("AAB404" + "00" * 12 + "FFFF02AB")
    reply = frames_sds.encode_reply(frames_sds.SLEEP_WORK, 1, 0)
    (r,) = SdsScanner().feed(reply)
    assert isinstance(r, SdsReply) and r.kind == frames_sds.SLEEP_WORK


def test_sds_rejects_bad_checksum_and_tail() -> None:
    good = frames_sds.encode_data(10.0, 20.0)
    bad_cs = good[:8] + bytes([(good[8] + 1) & 0xFF]) + good[9:]
    bad_tail = good[:9] + b"\x00"
    scanner = SdsScanner()
    frames = scanner.feed(bad_cs + bad_tail + good)
    assert frames == [SdsData(10.0, 20.0, 0x60A1)]
    assert scanner.stats.bad_checksum == 1 and scanner.stats.bad_length == 1


def test_a02_verified_sample_and_ff_inside_frames() -> None:
    assert A02Scanner().feed(bytes.fromhex("FF07A1A7")) == [1953]
    # 0xFF as the low byte and in the checksum: the scanner must slide, not trust it.
    tricky = frames_a02.encode(0x01FF) + frames_a02.encode(0x00FF)
    scanner = A02Scanner()
    assert scanner.feed(b"\xff\xff\x12" + tricky) == [0x01FF, 0x00FF]


def test_ld2450_sign_rule_from_datasheet_example() -> None:
    assert frames_ld2450.decode_signed(0x030E) == -782
    assert frames_ld2450.decode_signed(0x86B1) == 1713
    assert frames_ld2450.decode_signed(0x0010) == -16
    frame = bytes.fromhex("AAFF0300" + "0E03B18610006801" + "00" * 16 + "55CC")
    (f,) = Ld2450Scanner().feed(frame)
    assert f.count == 1 and f.targets[0] is not None
    assert (f.targets[0].x_mm, f.targets[0].y_mm, f.targets[0].speed_cms) == (-782, 1713, -16)


def test_ld2410_basic_frame_and_ack_skipped() -> None:
    ack = frames_ld2410.ACK_HEAD + b"\x04\x00\xff\x01\x00\x00" + frames_ld2410.ACK_TAIL
    data = frames_ld2410.encode_basic(3, 120, 50, 80, 40, 95)
    assert len(data) == 23
    frames = Ld2410Scanner().feed(b"\x01" + ack + data)
    assert frames[-1] == Ld2410Data(3, 120, 50, 80, 40, 95, engineering=False)


# -- fuzzing: arbitrary bytes never raise and never yield a frame that fails its check --

SCANNERS = {
    "pms": PmsScanner,
    "sds": SdsScanner,
    "a02": A02Scanner,
    "ld2410": Ld2410Scanner,
    "ld2450": Ld2450Scanner,
}


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in [*points, len(data)]:
        out.append(data[last:p])
        last = p
    return out


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_fuzz_scanners_never_raise(data: bytes, cuts: list[int]) -> None:
    for cls in SCANNERS.values():
        scanner = cls()
        for chunk in _chunks(data, cuts):
            scanner.feed(chunk)
        assert scanner.pending <= scanner.max_buffer + 64


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_fuzz_every_frame_found_is_checksummed_bytes_of_the_input(
    data: bytes, cuts: list[int]
) -> None:
    """A frame can only come out if its exact, valid encoding was in the input."""
    pms = PmsScanner()
    for chunk in _chunks(data, cuts):
        for f in pms.feed(chunk):
            if isinstance(f, PmsData):
                enc = frames_pms.encode_data(
                    (f.pm1_0_cf1, f.pm2_5_cf1, f.pm10_cf1),
                    (f.pm1_0, f.pm2_5, f.pm10),
                    f.counts,
                    f.version,
                    f.error,
                )
                assert enc in data
    sds = SdsScanner()
    for chunk in _chunks(data, cuts):
        for f in sds.feed(chunk):
            if isinstance(f, SdsData):
                assert frames_sds.encode_data(f.pm2_5, f.pm10, f.device_id) in data
    a02 = A02Scanner()
    for chunk in _chunks(data, cuts):
        for d in a02.feed(chunk):
            assert frames_a02.encode(d) in data


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.tuples(st.integers(0, 999), st.integers(0, 999)), min_size=1, max_size=6),
    noise=st.lists(st.binary(max_size=12).filter(lambda b: 0x42 not in b), max_size=6),
    cuts=st.lists(st.integers(0, 400), max_size=8),
)
def test_fuzz_good_frames_between_noise_are_all_found(
    values: list[tuple[int, int]], noise: list[bytes], cuts: list[int]
) -> None:
    stream = b""
    for i, (a, b) in enumerate(values):
        stream += (noise[i] if i < len(noise) else b"") + frames_pms.encode_data(
            (a, b, b), (a, b, b)
        )
    scanner = PmsScanner()
    found = [f for c in _chunks(stream, cuts) for f in scanner.feed(c)]
    assert [(f.pm1_0, f.pm2_5) for f in found if isinstance(f, PmsData)] == values
