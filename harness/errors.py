"""Typed errors shared by every layer.

Every wait in the harness ends either in a result or in one of these, and
each says what was expected, what was seen, and where the evidence is.
"""

from __future__ import annotations

from pathlib import Path

#: How much of what a device sent an error message quotes; the rest is counted, not shown.
QUOTE_LIMIT = 240


def _one_line(text: str) -> str:
    """Escape what would break a line (newlines, control characters); keep printable text as it is."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def quote_seen(seen: object, limit: int = QUOTE_LIMIT) -> str:
    """What was seen, as one line quoting at most ``limit`` bytes or characters, plus a count of the rest.

    Bytes and text from a device can be megabytes long and hold newlines or control characters;
    an error message quotes a bounded, escaped prefix and says how much more there was, so it stays
    one short line in a terminal, a JUnit report or a log.
    """
    if isinstance(seen, (bytes, bytearray, memoryview)):
        data = bytes(seen)
        shown, more, unit = repr(data[:limit]), len(data) - min(len(data), limit), "bytes"
    else:
        text = seen if isinstance(seen, str) else repr(seen)
        shown, more, unit = _one_line(text[:limit]), len(text) - min(len(text), limit), "characters"
    return shown + (f" ... (+{more} more {unit})" if more else "")


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


def seconds(value: float) -> str:
    """A duration as a person reads it: what is left of a deadline (4.99999) shows as 5, not to the microsecond."""
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


class HarnessTimeout(HarnessError, TimeoutError):
    """A wait ran out: says what was expected, what was seen, and the evidence."""

    def __init__(self, expected: str, seen: str, timeout: float, evidence: str | Path | None = None) -> None:
        self.expected = quote_seen(expected)
        self.seen = quote_seen(seen)
        self.timeout = timeout
        self.evidence = str(evidence) if evidence is not None else None
        msg = f"timed out after {seconds(timeout)}s waiting for {self.expected}; saw {self.seen}"
        if self.evidence:
            msg += f" (evidence: {self.evidence})"
        super().__init__(msg)


class DeviceUnavailable(HarnessError, ConnectionError):
    """The device is offline, unplugged or powered off."""
