"""TLS and ACL faults (never reported as delivered), payload signatures and signed commands."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from edge_agent.signing import signature, split_embedded, verify
from tests.agent_helpers import start_agent, stop_agent, write_config
from tests.broker import Broker, free_port
from tests.faults.helpers import (
    SITE,
    Ledger,
    Subscriber,
    committed_seqs,
    db_query,
    drained,
    fault_config,
    outbox_alerts,
    stay_user,
    wait_until,
)
from tests.faults.tls import issue, make_ca

pytestmark = pytest.mark.fault

DEVICE_KEY = b"3f1c0d2e9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
OPERATOR_KEY = b"operator-key-for-tests-only-0123456789abcdef"


def secret(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def meta(state: Path, key: str) -> str:
    rows = db_query(state, "SELECT value FROM meta WHERE key=?", (key,))
    return str(rows[0][0]) if rows else ""


def false_delivered(state: Path) -> int:
    """Alert events whose outbox row is gone although nobody could have received them."""
    return len(committed_seqs(state)) - outbox_alerts(state)


def props_sig(props: Any) -> str | None:
    for name, value in getattr(props, "UserProperty", None) or ():
        if name == "sig":
            return str(value)
    return None


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Any]:
    folder = tmp_path / "pki"
    folder.mkdir()
    ca = make_ca(folder, "test-ca")
    rogue = make_ca(folder, "rogue-ca")
    return {
        "ca": ca[0],
        "rogue_ca": rogue[0],
        "server": issue(folder, "server", ca, server=True),
        "client": issue(folder, "tls-pi", ca, server=False),
        "rogue_client": issue(folder, "rogue-pi", rogue, server=False),
    }


def tls_broker(tmp_path: Path, pki: dict[str, Any]) -> tuple[Broker, int]:
    tls_port = free_port()
    b = Broker(
        tmp_path / "mosq",
        extra_conf=(
            f"{stay_user()}listener {tls_port} 127.0.0.1\n"
            f"cafile {pki['ca'].cert}\ncertfile {pki['server'].cert}\n"
            f"keyfile {pki['server'].key}\nrequire_certificate true\n"
        ),
    )
    b.start()
    return b, tls_port


def tls_agent_config(
    tmp_path: Path, port: int, device: str, ca: Path, client: Any, signing: bool = False
) -> Path:
    state = tmp_path / "state"
    text = fault_config(
        state,
        f"mqtts://localhost:{port}",
        device,
        mqtt_extra=f'ca_file = "{ca}"\ncert_file = "{client.cert}"\nkey_file = "{client.key}"',
    )
    if signing:
        key = secret(tmp_path / "signing.key", DEVICE_KEY + b"\n")
        op = secret(tmp_path / "operator.key", OPERATOR_KEY)
        text += f'\n[signing]\nenabled = true\nkey_file = "{key}"\noperator_key_file = "{op}"\n'
    return write_config(tmp_path / "a.toml", text)


def test_tls_client_cert_signed_payloads_and_signed_commands(
    tmp_path: Path, pki: dict[str, Any]
) -> None:
    broker, tls_port = tls_broker(tmp_path, pki)
    device = "tls-pi"
    state = tmp_path / "state"
    cfg = tls_agent_config(tmp_path, tls_port, device, pki["ca"].cert, pki["client"], True)
    base = f"edge/{SITE}/{device}"
    sub = Subscriber(broker.port, f"{base}/#", "tls-sub")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_until(lambda: len(sub.seqs()) >= 3, 30, "alerts over TLS")
        # An unsigned command is refused; one signed with the operator key is applied.
        sub.client.publish(f"{base}/cmd/reload", b'{"id":"u1","by":"fault-test"}', qos=1)
        body = b'{"id":"s1","by":"fault-test"}'
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("sig", signature(OPERATOR_KEY, f"{base}/cmd/reload", body))]
        sub.client.publish(f"{base}/cmd/reload", body, qos=1, properties=props)

        def results() -> dict[str, dict[str, Any]]:
            out = {}
            for m in sub.messages("/cmd/result"):
                split = split_embedded(m[2])
                doc = json.loads(m[2] if split is None else split[0])
                out[str(doc["id"])] = doc
            return out

        wait_until(lambda: {"s1"} <= set(results()), 30, "the signed command's result")
        wait_until(lambda: len(results()) >= 2, 10, "both command results")
        wait_until(drained(state, sub, device), 30, "drained")
    finally:
        stop_agent(proc)
        sub.close()
        broker.stop()
    res = {k: v for k, v in results().items()}
    assert res["s1"]["outcome"] == "ok", res
    unsigned = [v for k, v in res.items() if k != "s1"]
    assert unsigned and all(v["outcome"] == "error" for v in unsigned), res
    assert "not signed" in unsigned[0]["detail"]
    bad = 0
    for _, topic, payload, props in sub.messages():
        if not payload or topic.endswith("/cmd/reload"):
            continue
        sig = props_sig(props)
        if sig is None or not verify(DEVICE_KEY, topic, payload, sig):
            bad += 1
    Ledger("tls-signed").check(committed_seqs(state), sub.seqs(device), bad_signatures=bad)
    assert bad == 0


@pytest.mark.parametrize("fault", ["wrong_ca", "rogue_client_cert"])
def test_tls_faults_never_delivered(tmp_path: Path, pki: dict[str, Any], fault: str) -> None:
    broker, tls_port = tls_broker(tmp_path, pki)
    device = "tls-pi"
    state = tmp_path / "state"
    ca = pki["rogue_ca"].cert if fault == "wrong_ca" else pki["ca"].cert
    client = pki["client"] if fault == "wrong_ca" else pki["rogue_client"]
    cfg = tls_agent_config(tmp_path, tls_port, device, ca, client)
    sub = Subscriber(broker.port, f"edge/{SITE}/{device}/#", f"{fault}-sub")
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        wait_until(lambda: len(committed_seqs(state)) >= 5, 30, "alerts committed")
        wait_until(lambda: meta(state, "broker_error") != "", 20, "a broker error recorded")
        time.sleep(1)
        assert proc.poll() is None, "a TLS fault is retried, not a crash"
    finally:
        stop_agent(proc)
        sub.close()
        broker.stop()
    error = meta(state, "broker_error")
    fd = false_delivered(state)
    Ledger(f"tls-{fault}").check(
        set(),
        sub.seqs(device),
        held_in_outbox=outbox_alerts(state),
        false_delivered=fd,
        broker_error=repr(error[:60]),
    )
    assert not sub.seqs(device)
    assert fd == 0
    if fault == "wrong_ca":
        assert "certificate" in error.lower(), error


def acl_broker(tmp_path: Path) -> Broker:
    folder = tmp_path / "acl"
    folder.mkdir()
    pw = folder / "passwd"
    for i, (user, password) in enumerate((("watcher", "w-pass"), ("acl-pi", "pi-pass"))):
        subprocess.run(
            ["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(pw), user, password],
            check=True,
            capture_output=True,
        )
    acl = folder / "acl"
    acl.write_text("user watcher\ntopic read #\n\npattern readwrite edge/+/%u/#\n")
    b = Broker(
        tmp_path / "mosq",
        extra_conf=(f"{stay_user()}allow_anonymous false\npassword_file {pw}\nacl_file {acl}\n"),
    )
    b.start()
    return b


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
@pytest.mark.parametrize("allowed", [True, False], ids=["acl-allows", "acl-denies"])
def test_acl_deny_is_never_delivered(tmp_path: Path, protocol: str, allowed: bool) -> None:
    broker = acl_broker(tmp_path)
    device = "acl-pi" if allowed else "other-pi"  # the ACL allows edge/+/acl-pi/# only
    state = tmp_path / "state"
    pw = secret(tmp_path / "mqtt.password", b"pi-pass\n")
    cfg = write_config(
        tmp_path / "a.toml",
        fault_config(
            state,
            broker.url,
            device,
            mqtt_extra=f'protocol = "{protocol}"\nusername = "acl-pi"\npassword_file = "{pw}"',
        ),
    )
    sub = Subscriber.with_login(
        broker.port, f"edge/{SITE}/{device}/#", "acl-sub", "watcher", "w-pass"
    )
    proc = start_agent(cfg, log=tmp_path / "agent.log")
    try:
        if allowed:
            wait_until(drained(state, sub, device), 40, "delivery through the ACL")
            wait_until(lambda: len(committed_seqs(state)) >= 5, 30, "alerts")
            wait_until(drained(state, sub, device), 40, "delivery through the ACL")
        else:
            wait_until(lambda: len(committed_seqs(state)) >= 8, 30, "alerts committed")
            wait_until(
                lambda: bool(db_query(state, "SELECT 1 FROM alert_events WHERE sensor_id='node'")),
                30,
                "a device alert about the refused publishes",
            )
        assert proc.poll() is None
    finally:
        stop_agent(proc)
        sub.close()
        broker.stop()
    fd = 0 if allowed else false_delivered(state)
    node = db_query(state, "SELECT payload FROM alert_events WHERE sensor_id='node'")
    parked = db_query(state, "SELECT count(*) FROM outbox WHERE last_error LIKE 'refused%'")
    lost, _ = Ledger(f"acl-{protocol}-{'allow' if allowed else 'deny'}").check(
        committed_seqs(state) if allowed else set(),
        sub.seqs(device),
        false_delivered=fd,
        parked=parked[0][0] if parked else 0,
    )
    if allowed:
        assert not lost and not node
        return
    assert not sub.seqs(device)
    assert fd == 0, "an ACL-denied publish was treated as delivered"
    text = json.dumps([json.loads(r[0]) for r in node])
    expected = "publish_refused" if protocol == "5" else "publish_unverified"
    assert expected in text, text
