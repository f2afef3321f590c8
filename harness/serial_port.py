"""A serial port as a resource: where a serial peer is and how to talk to it, and nothing else.

As labgrid separates a resource from its driver, a ``SerialPort`` is a plain
description (a pyserial URL, the baud rate and line settings): building one
does no I/O, so an inventory, a fixture or a CLI can make, compare and print
them freely. The drivers (``harness.console.SerialConsole``,
``harness.modem.GsmModem``) are built from one and open it in ``open()``
(``harness.serial_reader.PortDriver``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def printable_url(url: str) -> str:
    """``url`` without the credentials a URL may carry (``user:password@``): safe for logs and errors."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://<unparsable>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"<credentials>@{host}", parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class SerialPort:
    """A serial peer's port: a pyserial URL (``/dev/ttyACM0``, ``rfc2217://host:port``, a pty) and its settings."""

    url: str
    baudrate: int = 115200
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    rtscts: bool = False
    dsrdtr: bool = False
    xonxoff: bool = False

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("a serial port needs a URL or device path")
        if self.baudrate <= 0:
            raise ValueError(f"serial port {printable_url(self.url)}: baud rate must be positive, got {self.baudrate}")

    def settings(self) -> dict[str, Any]:
        """The keyword arguments ``serial.serial_for_url`` takes for this port's line settings."""
        return {"baudrate": self.baudrate, "bytesize": self.bytesize, "parity": self.parity,
                "stopbits": self.stopbits, "rtscts": self.rtscts, "dsrdtr": self.dsrdtr, "xonxoff": self.xonxoff}

    def __str__(self) -> str:
        return printable_url(self.url)

    def __repr__(self) -> str:
        return f"SerialPort({printable_url(self.url)!r}, baudrate={self.baudrate})"
