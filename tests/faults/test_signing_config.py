"""Signing primitives and the config checks that guard secrets (no broker needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.config.load import parse_config
from edge_agent.errors import ConfigError
from edge_agent.signing import Signer, embed, signature, split_embedded, verify

pytestmark = pytest.mark.fault

KEY = b"k" * 32
BASE = '[agent]\nsite_id = "s"\ndevice_id = "d"\nstate_dir = "st"\n'


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=8), max_size=5))
def test_embedded_signature_round_trips_byte_exact(doc: dict[str, object]) -> None:
    payload = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    sig = signature(KEY, "edge/s/d/alerts", payload)
    wire = embed(payload, sig)
    assert json.loads(wire)["sig"] == sig
    split = split_embedded(wire)
    assert split == (payload, sig)
    assert verify(KEY, "edge/s/d/alerts", *split)
    assert not verify(KEY, "edge/s/other/alerts", *split), "the topic is signed too"


def test_signer_v5_uses_a_property_and_checks_commands() -> None:
    op = b"operator"
    signer = Signer(KEY, op, v5=True, require_signed_commands=True)
    body, sig = signer.sign("t", b'{"a":1}')
    assert body == b'{"a":1}' and sig == signature(KEY, "t", body)
    cmd = b'{"id":"1","by":"x"}'
    assert signer.check_command("c", cmd, None) is None
    assert signer.check_command("c", cmd, signature(KEY, "c", cmd)) is None, "device key != op"
    assert signer.check_command("c", cmd, signature(op, "c", cmd)) == cmd
    v3 = Signer(KEY, op, v5=False, require_signed_commands=True)
    assert v3.check_command("c", embed(cmd, signature(op, "c", cmd)), None) == cmd
    assert Signer(KEY, None, True, True).check_command("c", cmd, signature(op, "c", cmd)) is None


def test_world_readable_signing_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "signing.key"
    key.write_text("abc")
    key.chmod(0o644)
    text = BASE + f'[signing]\nenabled = true\nkey_file = "{key}"\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text, source=tmp_path / "a.toml")
    assert "readable by everyone" in str(err.value.problems)
    key.chmod(0o600)
    cfg = parse_config(text, source=tmp_path / "a.toml")
    assert cfg.signing.enabled and cfg.signing.key_file == str(key)


def test_cap_with_signing_needs_mqtt5(tmp_path: Path) -> None:
    text = BASE + '[mqtt]\nprotocol = "3.1.1"\n[cap]\nenabled = true\n[signing]\nenabled = true\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text, source=tmp_path / "a.toml")
    assert "signing.enabled" in str(err.value.problems)


def test_world_readable_password_file_is_refused(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("secret")
    pw.chmod(0o604)
    text = BASE + f'[mqtt]\nusername = "u"\npassword_file = "{pw}"\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text, source=tmp_path / "a.toml")
    assert "readable by everyone" in str(err.value.problems)
