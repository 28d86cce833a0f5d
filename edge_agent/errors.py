"""One exception tree, gpiozero-style: specific errors also inherit the matching builtin."""

from __future__ import annotations


class EdgeAgentError(Exception):
    """Base of every error edge-agent raises on purpose."""


class ConfigError(EdgeAgentError, ValueError):
    """A config or rule-pack problem, located by file and key path.

    ``problems`` holds one line per problem, each already naming the file,
    the key path, what is wrong and, where we know it, how to fix it.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PluginError(EdgeAgentError, LookupError):
    """A driver or rule kind name that no installed package provides."""


class DriverError(EdgeAgentError, OSError):
    """A sensor cannot be reached or understood. ``hint`` says what an installer should check."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n  hint: {hint}")


class DriverClosedError(DriverError):
    """A driver was used after ``aclose()``."""


class StoreError(EdgeAgentError, OSError):
    """The SQLite store cannot be opened or written."""
