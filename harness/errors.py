"""Typed errors shared by every layer.

Every wait in the harness ends either in a result or in one of these, and
each says what was expected, what was seen, and where the evidence is.
"""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class ConfigError(HarnessError, ValueError):
    """Bad input from a file (profile, screen definition, inventory).

    The message is one line naming the file and the field.
    """

    def __init__(self, path: str | Path, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: {field}: {problem}")


class HarnessTimeout(HarnessError, TimeoutError):
    """A wait ran out: says what was expected, what was seen, and the evidence."""

    def __init__(self, expected: str, seen: str, timeout: float, evidence: str | Path | None = None) -> None:
        self.expected = expected
        self.seen = seen
        self.timeout = timeout
        self.evidence = str(evidence) if evidence is not None else None
        msg = f"timed out after {timeout:g}s waiting for {expected}; saw {seen}"
        if self.evidence:
            msg += f" (evidence: {self.evidence})"
        super().__init__(msg)


class DeviceUnavailable(HarnessError, ConnectionError):
    """The device is offline, unplugged or powered off."""
