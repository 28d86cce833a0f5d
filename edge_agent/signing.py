"""HMAC-SHA256 signatures on every payload, and on the commands a node accepts.

Why: TLS protects the link to the broker, not what the broker (or anyone
else allowed to publish there) forwards. A per-device key lets a platform
prove an alert came from this node; an operator key lets a node refuse
commands that did not come from the operator.

What is signed: ``topic`` (UTF-8) + ``b"\\n"`` + the payload bytes, so a valid
payload replayed on another topic does not verify. The signature is 64
lowercase hex characters.

Where it rides (docs/security.md has the platform side):

- MQTT 5: the user property ``sig``; the payload is untouched.
- MQTT 3.1.1 has no properties, so a JSON object payload carries the
  signature as its *last* key: the wire payload is the signed payload with
  ``,"sig":"<hex>"}`` in place of its closing ``}`` (``{"sig":"<hex>"}`` for
  ``{}``). A verifier cuts the fixed-length tail, so no JSON
  re-serialisation is involved. Empty payloads (clearing a retained topic)
  cannot carry it and go unsigned; CAP XML with signing on needs MQTT 5
  (``load_config`` refuses the combination).

Keys come from a file or a systemd credential, never the main config. A key
file is read as bytes with surrounding whitespace removed (for example 64
hex characters from ``openssl rand -hex 32``); an empty file means "no key"
because the installer creates the credential files empty.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from edge_agent.errors import ConfigError

#: MQTT 5 user property that carries the signature.
SIG_PROPERTY = "sig"
#: The tail a 3.1.1 payload ends with: ``"sig":"`` + 64 hex + ``"}``.
_TAIL = re.compile(rb'"sig":"([0-9a-f]{64})"\}\Z')
_TAIL_LEN = len('"sig":"') + 64 + len('"}')
CREDENTIAL_PREFIX = "credential:"


def signature(key: bytes, topic: str, payload: bytes) -> str:
    """Hex HMAC-SHA256 over ``topic + "\\n" + payload``."""
    return hmac.new(key, topic.encode("utf-8") + b"\n" + payload, hashlib.sha256).hexdigest()


def verify(key: bytes, topic: str, payload: bytes, sig: str) -> bool:
    """Constant-time check of ``sig`` against the payload as signed."""
    return hmac.compare_digest(signature(key, topic, payload), sig.strip().lower())


def can_embed(payload: bytes) -> bool:
    """True for payloads that can carry an embedded (MQTT 3.1.1) signature."""
    return payload.startswith(b"{") and payload.rstrip().endswith(b"}")


def embed(payload: bytes, sig: str) -> bytes:
    """Add ``"sig"`` as the last key of a compact JSON object payload."""
    body = payload.rstrip()
    if not can_embed(body):
        raise ValueError("only a JSON object payload can carry an embedded signature")
    inner = body[:-1]
    sep = b"," if inner.strip() != b"{" else b""
    return inner + sep + b'"sig":"' + sig.encode("ascii") + b'"}'


def split_embedded(payload: bytes) -> tuple[bytes, str] | None:
    """Undo :func:`embed`: ``(signed payload, sig)``, or None if there is no signature tail."""
    m = _TAIL.search(payload)
    if m is None:
        return None
    head = payload[: len(payload) - _TAIL_LEN]
    if head.endswith(b","):
        head = head[:-1]
    return head + b"}", m.group(1).decode("ascii")


def resolve_secret_path(spec: str, *, base_dir: Path | None = None) -> Path:
    """``credential:NAME`` -> ``$CREDENTIALS_DIRECTORY/NAME``; a relative path -> under base_dir."""
    if spec.startswith(CREDENTIAL_PREFIX):
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise ConfigError(
                [f"{spec}: not running under systemd with LoadCredential= ($CREDENTIALS_DIRECTORY)"]
            )
        return Path(directory) / spec[len(CREDENTIAL_PREFIX) :]
    p = Path(spec).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


def secret_file_problem(path: Path) -> str | None:
    """Why a secret file must not be used (missing, or readable by everyone), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read {str(path)!r}: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return f"{str(path)!r} is not a regular file"
    if mode & stat.S_IROTH:
        return (
            f"{str(path)!r} is readable by everyone: run `chmod 600 {path}` "
            "(or 640 with group edge-agent)"
        )
    return None


def read_key(path: Path) -> bytes | None:
    """The key bytes, or None for an empty file. Refuses a world-readable file."""
    problem = secret_file_problem(path)
    if problem is not None:
        raise ConfigError([f"signing key: {problem}"])
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError([f"signing key: cannot read {str(path)!r}: {exc}"]) from exc
    return data or None


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs what this node publishes and checks the commands it receives.

    ``device_key`` None means payloads go out unsigned; with signing on,
    ``operator_key`` None means no command verifies, so none is accepted.
    """

    device_key: bytes | None
    operator_key: bytes | None
    v5: bool
    require_signed_commands: bool

    def sign(self, topic: str, payload: bytes) -> tuple[bytes, str | None]:
        """``(payload to send, sig for the MQTT 5 user property or None)``."""
        if self.device_key is None:
            return payload, None
        sig = signature(self.device_key, topic, payload)
        if self.v5:
            return payload, sig
        if can_embed(payload):
            return embed(payload, sig), None
        return payload, None  # empty retained clears: see the module docstring

    def check_command(self, topic: str, payload: bytes, sig: str | None) -> bytes | None:
        """The command payload if it may be applied (signed with the operator key), else None."""
        if not self.require_signed_commands:
            split = split_embedded(payload) if sig is None else None
            return payload if split is None else split[0]
        if self.operator_key is None:
            return None
        if sig is None:
            split = split_embedded(payload)
            if split is None:
                return None
            payload, sig = split
        return payload if verify(self.operator_key, topic, payload, sig) else None
