"""Properties of the streaming detector behind make_detector."""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from edge_agent.detection import (
    DETECTION_OPTIONS,
    detector_fingerprint,
    detector_from_bytes,
    make_detector,
)
from edge_agent.options import validate_table

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def feed(det, values, start=0, step=60.0):  # type: ignore[no-untyped-def]
    out = []
    for i, v in enumerate(values, start):
        out.append(det.score_learn(v, T0 + timedelta(seconds=i * step), i * step))
    return out


def noise(n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [20.0 + rng.gauss(0, 1) for _ in range(n)]


def test_import_stays_light() -> None:
    code = "import sys, edge_agent.detection; print('river' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_defaults_validate() -> None:
    _params, problems = validate_table({}, DETECTION_OPTIONS)
    assert problems == []
    _, problems = validate_table({"horizons": [0]}, DETECTION_OPTIONS)
    assert problems and problems[0][0] == "horizons"


def test_none_during_warmup_then_scores_in_unit_interval() -> None:
    det = make_detector({"warmup": 50})
    scores = feed(det, [*noise(400), 1000000.0, -1000000.0, 20.0])
    assert scores[:50] == [None] * 50
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores[50:])
    assert scores[400] is not None and scores[400] > 0.9999


def test_disabled_detector_has_no_opinion() -> None:
    det = make_detector({"enabled": False})
    assert feed(det, noise(300)) == [None] * 300
    assert detector_from_bytes(det.to_bytes()).score_learn(1.0, T0, 0.0) is None


def test_does_not_learn_from_flagged_points() -> None:
    det = make_detector({})
    feed(det, noise(500))
    before = [(s.mean.get(), s.var.get(), s.n) for s in det.scalers]  # type: ignore[attr-defined]
    score = feed(det, [500.0], start=500)[0]
    assert score is not None and score >= DETECTION_OPTIONS["learn_below"].default
    after = [(s.mean.get(), s.var.get(), s.n) for s in det.scalers]  # type: ignore[attr-defined]
    assert after == before
    # ...whereas ordinary readings are learnt (the first one after the spike is
    # itself a huge change, and the windowed mean carries the spike for
    # ``smooth`` readings, so give it a few more than that).
    feed(det, noise(40, seed=7), start=501)
    assert [s.n for s in det.scalers] != [b[2] for b in before]  # type: ignore[attr-defined]


def test_lasting_change_stops_alarming() -> None:
    """Habituation: a step is reported, then the detector settles on the new level."""
    det = make_detector({})
    feed(det, noise(1000))
    after = feed(det, [v + 30.0 for v in noise(3000, seed=2)], start=1000)
    assert after[0] is not None and after[0] > 0.9999
    assert all(s is not None and s < 0.9999 for s in after[-500:])


def test_round_trip_gives_identical_scores() -> None:
    det = make_detector({"seasonality": "weekly", "horizons": [1, 3]})
    feed(det, noise(700))
    copy = detector_from_bytes(det.to_bytes())
    tail = [*noise(300, seed=3), 80.0, *noise(50, seed=4)]
    assert feed(copy, tail, start=700) == feed(det, tail, start=700)


def test_bad_checkpoints_are_rejected() -> None:
    with pytest.raises(ValueError, match="magic"):
        detector_from_bytes(b"garbage")
    with pytest.raises(ValueError):
        detector_from_bytes(b"EADET1" + b"not zlib")
    import zlib

    evil = b"EADET1" + zlib.compress(pickle.dumps(subprocess.Popen))
    with pytest.raises(ValueError, match="not allowed"):
        detector_from_bytes(evil)


def test_fingerprint_tracks_params() -> None:
    assert detector_fingerprint({}) == detector_fingerprint({"warmup": 150})
    assert detector_fingerprint({}) != detector_fingerprint({"warmup": 151})
    assert detector_fingerprint({}) != detector_fingerprint({"seasonality": "weekly"})
    assert detector_fingerprint({}) != detector_fingerprint({"refractory": 0})


def test_memory_is_bounded_over_100k_points() -> None:
    det = make_detector({"seasonality": "weekly", "horizons": [1, 12]})
    rng = random.Random(5)
    sizes = []
    for chunk in range(10):
        values = [rng.gauss(0, 1) + (50 if rng.random() < 0.001 else 0) for _ in range(10_000)]
        feed(det, values, start=chunk * 10_000)
        sizes.append((det.memory_bytes(), len(det.to_bytes())))
    assert sizes[-1][0] == sizes[1][0]
    assert max(b for _, b in sizes) < 16_000


def test_false_alarm_feedback_is_bounded_and_reversible() -> None:
    # No refractory period: the probe right after the "alert" must be scored.
    det = make_detector({"refractory": 0})
    feed(det, noise(600))
    feed(det, [40.0], start=600)  # flagged: the "alert"
    base = det.to_bytes()

    def probe(d) -> float:  # type: ignore[no-untyped-def]
        s = feed(d, [33.0], start=601)[0]
        assert s is not None
        return s

    original = probe(detector_from_bytes(base))
    scores = []
    for n in range(1, 7):
        d = detector_from_bytes(base)
        for _ in range(n):
            d.feedback("false_alarm")
        scores.append(probe(d))
    assert scores[0] < original  # less sensitive...
    assert scores[1] < scores[0]
    assert scores[-1] == scores[-2] == scores[-3]  # ...but bounded
    d = detector_from_bytes(base)
    for _ in range(2):
        d.feedback("false_alarm")
    for _ in range(5):
        d.feedback("true_alarm")  # reversible, and never more sensitive than shipped
    assert probe(d) == original
    with pytest.raises(ValueError):
        d.feedback("maybe")  # type: ignore[arg-type]
