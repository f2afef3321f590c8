"""``adb-tcp://HOST:PORT``: a phone's ADB daemon over TCP (a rack phone on Wi-Fi, ``adb tcpip``, an emulator's port)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.handsets.base import HandsetUri, OpenedHandset, OpenOptions, Probed, ProbeOptions

if TYPE_CHECKING:
    from harness.adb.driver import AdbHandset

USAGE = "adb-tcp://HOST:PORT"
#: Opening reaches a phone that is already there (a rack's, leased by its inventory entry).
STARTS_HANDSET = False


@dataclass(frozen=True)
class TcpAddress:
    """Where the ADB daemon listens; ``uri`` names the handset in messages."""

    uri: str
    host: str
    port: int


def parse(uri: HandsetUri) -> TcpAddress:
    """HOST:PORT with a port 1..65535 (an IPv6 host in brackets: ``[::1]:5555``); no options."""
    host, colon, port = uri.location.rpartition(":")
    host = host.strip("[]")
    if not colon:
        raise uri.error(f"expected {USAGE}: no port")
    if not host:
        raise uri.error(f"expected {USAGE}: no host")
    if not port.isdigit():
        raise uri.error(f"expected {USAGE}: port {port!r} is not a number")
    if not 0 < int(port) < 65536:
        raise uri.error(f"expected {USAGE}: port {port} is out of range 1..65535")
    if uri.query:
        raise uri.error(f"{USAGE} takes no options (got {', '.join(sorted(uri.query))})")
    return TcpAddress(uri.text, host, int(port))


def connect(address: TcpAddress, options: OpenOptions) -> "AdbHandset":
    """An ADB handset over TCP, reconnecting to the same address when the phone drops the connection."""
    from harness.adb.auth import load_or_create_key
    from harness.adb.connection import AdbConnection
    from harness.adb.driver import AdbHandset
    from harness.transport.tcp import TcpPipe

    key = load_or_create_key(options.key_path)
    timeout = options.timeout

    def open_connection() -> AdbConnection:
        return AdbConnection(TcpPipe(address.host, address.port, timeout), key, timeout=timeout).connect()

    return AdbHandset(open_connection, address.uri, timeout, gone=options.gone)


def open(address: TcpAddress, options: OpenOptions) -> OpenedHandset:  # noqa: A001  (the scheme API's name)
    """The handset at ``address``; nothing else comes with it (its ports come from an inventory)."""
    return OpenedHandset(address.uri, connect(address, options))


def probe(address: TcpAddress, options: ProbeOptions) -> Probed:
    """A TCP connection and the ADB handshake (CNXN, our key's signature): a new connection disturbs no other."""
    from harness.handsets.adb_probe import probe_adb_tcp

    return Probed(*probe_adb_tcp(address.host, address.port, options.timeout, options.deadline))
