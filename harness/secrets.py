"""Keeping passwords and access codes out of logs, reports and artifacts.

Every secret the harness handles is wrapped in ``Secret`` (whose repr and
str are masked) and registered here; every log record and every text
artifact passes through ``redact`` before it is written.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Union

MASK = "[REDACTED]"
_lock = threading.Lock()
_known: set[str] = set()


class Secret:
    """A value that must never be printed; ``reveal()`` is the only way to read it.

    A password or a code is also registered, so ``redact`` masks it wherever it
    turns up. Text that is only *typed* (an account address, a search term) is
    masked where it travels (``registered=False``) but not hunted down in every
    other message, where a person needs to read it.
    """

    __slots__ = ("_value", "_registered")

    def __init__(self, value: str, registered: bool = True) -> None:
        self._value = value
        self._registered = registered
        if registered:
            register(value)

    def reveal(self) -> str:
        return self._value

    def map(self, transform: "Callable[[str], str]") -> "Secret":
        """A new secret made from this one (quoted or escaped for a device), just as masked."""
        return Secret(transform(self._value), self._registered)

    def __repr__(self) -> str:
        return "Secret(" + MASK + ")"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple:
        raise TypeError("a Secret cannot be pickled")


class SecretText:
    """Text made of plain parts and secrets, such as the ADB service ``shell,v2,raw:input text <password>``.

    ``str()`` and ``repr()`` show the plain parts and mask each secret, so an error or a log line built
    from it cannot hold the value; only ``reveal()`` (called where the bytes go on the wire) joins the
    real text.
    """

    __slots__ = ("_parts",)

    def __init__(self, *parts: "Union[str, Secret, SecretText]") -> None:
        flat: list[str | Secret] = []
        for part in parts:
            if isinstance(part, SecretText):
                flat.extend(part._parts)
            elif isinstance(part, (str, Secret)):
                flat.append(part)
            else:
                raise TypeError(f"SecretText parts are str or Secret, not {type(part).__name__}")
        self._parts: tuple[str | Secret, ...] = tuple(flat)

    def reveal(self) -> str:
        return "".join(p.reveal() if isinstance(p, Secret) else p for p in self._parts)

    def __str__(self) -> str:
        return "".join(MASK if isinstance(p, Secret) else p for p in self._parts)

    def __repr__(self) -> str:
        return f"SecretText({str(self)!r})"

    def __add__(self, other: "Union[str, Secret, SecretText]") -> "SecretText":
        return SecretText(self, other)

    def __radd__(self, other: "Union[str, Secret]") -> "SecretText":
        return SecretText(other, self)

    def __reduce__(self) -> tuple:
        raise TypeError("a SecretText cannot be pickled")


def reveal(text: "Union[str, Secret, SecretText]") -> str:
    """The real text of a plain string, a Secret or a SecretText (only where it is sent to a device)."""
    return text if isinstance(text, str) else text.reveal()


def register(value: str) -> None:
    """Remember a secret so that ``redact`` removes it wherever it turns up."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by a mask."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
