"""Typed, validated configuration. Built only by :mod:`edge_agent.config.load`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_agent.rulepacks import RulePack


@dataclass(frozen=True, slots=True)
class AgentConfig:
    site_id: str
    device_id: str
    state_dir: Path
    locale: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class MqttConfig:
    url: str
    host: str
    port: int
    tls: bool
    topic_prefix: str
    protocol: str  # "5" or "3.1.1"
    client_id: str
    keepalive_s: int
    session_expiry_s: int
    max_inflight: int
    backoff_initial_s: float
    backoff_max_s: float
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True, slots=True)
class SigningConfig:
    """``[signing]``: HMAC-SHA256 on every payload and on accepted commands (docs/security.md).

    Key locations are ``credential:NAME`` (systemd ``LoadCredential=``) or file
    paths; the keys themselves never appear in the config.
    """

    enabled: bool = False
    key_file: str = "credential:signing.key"
    operator_key_file: str | None = None


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    enabled: bool
    interval_s: float
    alert_interval_s: float


@dataclass(frozen=True, slots=True)
class StoreConfig:
    outbox_max_bytes: int
    min_free_bytes: int
    readings_retention_h: float
    reading_batch_s: float
    #: Upper bound of the database file (0: none); past it telemetry and old readings go.
    max_db_bytes: int = 0


@dataclass(frozen=True, slots=True)
class CapConfig:
    enabled: bool
    langs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HomeAssistantConfig:
    enabled: bool
    prefix: str


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """One ``[[sensors]]`` table.

    ``driver_options`` are the driver-specific keys (validated against the
    driver's ``options``); ``overrides`` adjust the rule pack for this sensor
    only; ``detection`` overrides the pack's ``[detection]`` table.
    """

    id: str
    driver: str
    pack: RulePack
    location: dict[str, Any]
    driver_options: dict[str, Any]
    overrides: dict[str, Any]
    detection: dict[str, Any]
    name: str | None = None
    locale: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Config:
    """The whole agent configuration, validated before any I/O."""

    source: Path | None
    agent: AgentConfig
    mqtt: MqttConfig
    telemetry: TelemetryConfig
    store: StoreConfig
    cap: CapConfig
    homeassistant: HomeAssistantConfig
    sensors: tuple[SensorConfig, ...]
    outputs: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    signing: SigningConfig = field(default_factory=SigningConfig)

    @property
    def base_topic(self) -> str:
        return f"{self.mqtt.topic_prefix}/{self.agent.site_id}/{self.agent.device_id}"
