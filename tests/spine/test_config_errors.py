"""check-config: every error names its file, line and key path; exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.config.load import load_config, parse_config
from edge_agent.errors import ConfigError
from tests.agent_helpers import REPO

GOOD = """
[agent]
site_id = "s1"
device_id = "d1"
state_dir = "state"

[[sensors]]
id = "smoke-1"
driver = "sim"
scenario = "smoke"
rules = "smoke"
location = { building = "7", floor = "B1", zone = "garage" }
"""


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent", "check-config", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_good_config_passes(tmp_path: Path) -> None:
    p = tmp_path / "ok.toml"
    p.write_text(GOOD)
    r = check(p)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_example_config_in_deploy_is_valid() -> None:
    r = check(REPO / "deploy" / "edge-agent.example.toml")
    assert r.returncode == 0, r.stderr


def test_misspelt_key_exits_2_and_names_it(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace('device_id = "d1"', 'devcie_id = "d1"'))
    r = check(p)
    assert r.returncode == 2
    assert f"{p}:4: agent.devcie_id: unknown key; did you mean 'device_id'?" in r.stderr
    assert "agent.device_id: missing required key" in r.stderr


def test_misspelt_sensor_key_is_named_with_its_index(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace('scenario = "smoke"', 'scenaro = "smoke"'))
    r = check(p)
    assert r.returncode == 2
    assert "sensors[0].scenaro: unknown key for a sim sensor; did you mean 'scenario'?" in r.stderr
    assert ":10:" in r.stderr  # the line of the misspelt key


def test_wrong_type_exits_2_and_names_key(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD + '\n[telemetry]\ninterval_s = "fast"\n')
    r = check(p)
    assert r.returncode == 2
    assert "telemetry.interval_s: expected number, got string 'fast'" in r.stderr


def test_missing_rules_file_exits_2_and_names_key(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace('rules = "smoke"', 'rules = "packs/mine.toml"'))
    r = check(p)
    assert r.returncode == 2
    assert "sensors[0].rules: no rule pack 'packs/mine.toml'" in r.stderr


def test_unknown_driver_and_bad_id(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(
        GOOD.replace('driver = "sim"', 'driver = "pms9999"').replace(
            'id = "smoke-1"', 'id = "smoke 1/a"'
        )
    )
    r = check(p)
    assert r.returncode == 2
    assert "sensors[0].driver: no driver named 'pms9999'" in r.stderr
    assert "sensors[0].id: 'smoke 1/a' is not a valid id" in r.stderr


def test_all_problems_reported_at_once() -> None:
    text = GOOD.replace('site_id = "s1"', "site_id = 5") + '\n[mqtt]\nurl = "http://x"\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    joined = "\n".join(info.value.problems)
    assert "agent.site_id: expected string" in joined
    assert "mqtt.url: 'http://x': scheme must be mqtt:// or mqtts://" in joined


def test_override_of_unknown_rule_and_param(tmp_path: Path) -> None:
    text = GOOD + 'overrides = { pm25 = { red = 1 } , "pm25-level" = { rde = 3 } }\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    joined = "\n".join(info.value.problems)
    assert "sensors[0].overrides.pm25: not a rule of pack 'smoke'" in joined
    assert (
        "sensors[0].overrides.pm25-level.rde: unknown threshold parameter; did you mean 'red'?"
        in joined
    )


def test_override_that_breaks_level_order_is_refused() -> None:
    text = GOOD + 'overrides = { "pm25-level" = { red = 100.0 } }\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert "red (100) must be above orange (250)" in "\n".join(info.value.problems)


def test_world_readable_password_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.password"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    p = tmp_path / "c.toml"
    p.write_text(GOOD + f'\n[mqtt]\nusername = "u"\npassword_file = "{secret}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(p)
    assert "readable by everyone" in "\n".join(info.value.problems)
    secret.chmod(0o600)
    assert load_config(p).mqtt.password_file == secret


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text(GOOD + "\n[mqtt\n")
    r = check(p)
    assert r.returncode == 2
    assert "TOML syntax error" in r.stderr and "line" in r.stderr


def test_state_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text(GOOD)
    assert load_config(p).agent.state_dir == tmp_path / "state"
