"""``edge-agent tail`` against a real Mosquitto: alerts for people, JSON for scripts, a broker
that is down, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge_agent.cli.tail import LEVEL_STYLES, parse_broker_url
from edge_agent.model import AlertEvent, EventKind, Hazard, Level
from edge_agent.mqtt.payloads import dumps, status_payload
from edge_agent.pipeline.render import EventRenderer
from tests.agent_helpers import REPO
from tests.broker import Broker, free_port
from tests.cli.store_builder import BOOT, config
from tests.cli.tail_proc import TailProc
from tests.mqtt_helpers import Collector


def alert(
    renderer: EventRenderer, seq: int, kind: EventKind, level: Level, value: float
) -> dict[str, Any]:
    ev = AlertEvent(
        "a-77",
        "smoke-1",
        Hazard.SMOKE,
        kind,
        level,
        value,
        "µg/m³",
        {"rule": "pm25-level", "kind": "threshold", "threshold": 250.0, "value": value},
        datetime.now(UTC),
        True,
        10.0 + seq,
    )
    ev.seq = seq
    return renderer.payload(ev)


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> EventRenderer:
    """The daemon's renderer, for a site whose locale is en."""
    return EventRenderer(config(tmp_path_factory.mktemp("tail")), BOOT)


def publish_status(sub: Collector, site: str, device: str, state: str) -> None:
    body = status_payload(
        state,
        site_id=site,
        device_id=device,
        ts=datetime.now(UTC),
        clock_synced=True,
        boot_id=BOOT,
        sensors=["smoke-1"],
    )
    sub.client.publish(
        f"edge/{site}/{device}/status", dumps(body), qos=1, retain=True
    ).wait_for_publish(5)


def test_json_lines_for_scripts_with_duplicates_dropped(
    broker: Broker, renderer: EventRenderer
) -> None:
    sub = Collector(broker.port, "unused/#")
    tail = TailProc(
        "--broker", broker.url, "--site", "test-site", "--json", "--count", "3", "--timeout", "30"
    )
    try:
        publish_status(sub, "test-site", "test-pi", "online")
        tail.wait_for('"state": "online"')  # retained: proves the subscription is in place
        a1 = alert(renderer, 1, EventKind.RAISED, Level.ORANGE, 281.0)
        a2 = alert(renderer, 2, EventKind.ESCALATED, Level.RED, 520.0)
        a3 = alert(renderer, 3, EventKind.CLEARED, Level.NONE, 20.0)
        for p in (a1, a2, a1, a2, a3):  # a reconnect's resend: 1 and 2 arrive twice
            sub.publish("edge/test-site/test-pi/alerts", dumps(p))
        sub.publish("edge/other-site/test-pi/alerts", dumps(a1))  # filtered out by --site
        assert tail.finish() == 0, tail.err
    finally:
        tail.kill()
        publish_status(sub, "test-site", "test-pi", "offline")
        sub.close()
    lines = [json.loads(line) for line in tail.out]
    assert lines[0]["topic"] == "edge/test-site/test-pi/status"
    assert lines[0]["retained"] is True
    alerts = [ln for ln in lines if ln["topic"].endswith("/alerts")]
    assert [a["payload"] for a in alerts] == [a1, a2, a3], "as published, each seq once"
    assert all(a["retained"] is False for a in alerts)


def test_text_for_people_in_another_language(broker: Broker, renderer: EventRenderer) -> None:
    sub = Collector(broker.port, "unused/#")
    tail = TailProc(
        "--broker",
        broker.url,
        "--device",
        "lang-pi",
        "--lang",
        "zh-CN",
        "--color",
        "always",
        "--count",
        "2",
        "--timeout",
        "30",
    )
    try:
        publish_status(sub, "test-site", "lang-pi", "online")
        tail.wait_for("在线")
        raised = alert(renderer, 1, EventKind.RAISED, Level.ORANGE, 281.0)
        assert raised["lang"] == "en"
        sub.publish("edge/test-site/lang-pi/alerts", dumps(raised))
        sub.publish(
            "edge/test-site/lang-pi/alerts",
            dumps(alert(renderer, 2, EventKind.CLEARED, Level.NONE, 20.0)),
        )
        assert tail.finish() == 0, tail.err
    finally:
        tail.kill()
        sub.close()
    out = "\n".join(tail.out)
    assert "橙色预警" in out, "re-rendered in the requested language"
    assert "Orange warning" not in out
    assert LEVEL_STYLES["orange"] in out and LEVEL_STYLES[None] in out
    assert "test-site/test-pi · smoke-1 · raised · seq 1 · alert a-77" in out
    assert "connected to" in "\n".join(tail.err)


def test_plain_text_without_a_terminal(broker: Broker, renderer: EventRenderer) -> None:
    sub = Collector(broker.port, "unused/#")
    tail = TailProc(
        "--broker", broker.url, "--device", "plain-pi", "--count", "1", "--timeout", "30"
    )
    try:
        publish_status(sub, "test-site", "plain-pi", "offline")
        tail.wait_for("OFFLINE")
        raised = alert(renderer, 5, EventKind.RAISED, Level.RED, 600.0)
        sub.publish("edge/test-site/plain-pi/alerts", dumps(raised))
        assert tail.finish() == 0, tail.err
    finally:
        tail.kill()
        sub.close()
    out = "\n".join(tail.out)
    assert "\x1b[" not in out, "no colour codes when stdout is not a terminal"
    assert raised["title"] in out
    for line in raised["message"].splitlines():
        assert f"  {line}" in tail.out


def test_broker_down_then_up(tmp_path: Path, renderer: EventRenderer) -> None:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    tail = TailProc("--broker", url, "--json", "--count", "1", "--timeout", "40")
    late = Broker(tmp_path / "late", port=port)
    try:
        tail.wait_for("cannot reach the broker", "err")
        tail.wait_for("retrying in", "err")
        late.start()
        tail.wait_for("connected to", "err", timeout=30)
        sub = Collector(port, "unused/#")
        try:
            payload = alert(renderer, 9, EventKind.RAISED, Level.BLUE, 90.0)
            deadline = time.monotonic() + 10
            while not tail.out and time.monotonic() < deadline:
                sub.publish("edge/test-site/test-pi/alerts", dumps(payload))
                time.sleep(0.3)
            assert tail.finish() == 0, tail.err
        finally:
            sub.close()
    finally:
        tail.kill()
        late.stop()
    assert json.loads(tail.out[0])["payload"] == payload
    assert not any("Traceback" in line for line in tail.err)


def test_timeout_with_no_broker_fails_cleanly() -> None:
    tail = TailProc("--broker", f"mqtt://127.0.0.1:{free_port()}", "--timeout", "1.5")
    try:
        assert tail.finish(20) == 1
    finally:
        tail.kill()
    err = "\n".join(tail.err)
    assert "cannot reach the broker" in err and "Traceback" not in err


def test_ctrl_c_stops_cleanly(broker: Broker) -> None:
    tail = TailProc("--broker", broker.url, "--site", "nobody-here")
    try:
        tail.wait_for("connected to", "err")
        tail.proc.send_signal(signal.SIGINT)
        assert tail.finish(10) == 130
    finally:
        tail.kill()
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in tail.err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--broker", "http://x"), "mqtt://HOST"),
        (("--broker", "mqtt://h:99999"), "port"),
        (("--site", "a/b"), "--site"),
        (("--count", "0"), "--count"),
        (("--lang", "fr"), "--lang"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent", "tail", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_parse_broker_url() -> None:
    a = parse_broker_url("mqtts://ops%40site:p%3Ass@broker.example.org")
    assert (a.host, a.port, a.tls, a.username, a.password) == (
        "broker.example.org",
        8883,
        True,
        "ops@site",
        "p:ss",
    )
    assert parse_broker_url("mqtt://127.0.0.1").port == 1883


class ClosedBroker(Broker):
    """A Mosquitto that lets nobody in (no anonymous access, no accounts)."""

    def write_conf(self) -> Path:
        conf = super().write_conf()
        conf.write_text(conf.read_text().replace("allow_anonymous true", "allow_anonymous false"))
        return conf


def test_a_refusing_broker_is_reported_and_retried(tmp_path: Path) -> None:
    closed = ClosedBroker(tmp_path / "closed")
    closed.start()
    tail = TailProc("--broker", closed.url, "--timeout", "4")
    try:
        assert tail.finish(30) == 1
    finally:
        tail.kill()
        closed.stop()
    err = "\n".join(tail.err)
    assert "refused the connection" in err and "retrying in" in err, err
    assert "Traceback" not in err
