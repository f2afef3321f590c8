"""``adb-usb://SERIAL``: a phone's ADB interface on USB, found by its serial number (empty: the only one attached)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.handsets.base import HandsetUri, OpenedHandset, OpenOptions, Probed, ProbeOptions

if TYPE_CHECKING:
    from harness.adb.driver import AdbHandset

USAGE = "adb-usb://SERIAL"
#: Opening reaches a phone that is already there (a rack's, leased by its inventory entry).
STARTS_HANDSET = False


@dataclass(frozen=True)
class UsbAddress:
    """The USB serial number of the phone; ``uri`` names the handset in messages."""

    uri: str
    serial: str


def parse(uri: HandsetUri) -> UsbAddress:
    """A serial number of printable characters without ``/`` or ``:``; no options."""
    serial = uri.location
    if not serial.isprintable() or any(c in serial for c in "/: "):
        raise uri.error(f"expected {USAGE} (a USB serial number, as `harness devices` lists it)")
    if uri.query:
        raise uri.error(f"{USAGE} takes no options (got {', '.join(sorted(uri.query))})")
    return UsbAddress(uri.text, serial)


def connect(address: UsbAddress, options: OpenOptions) -> "AdbHandset":
    """An ADB handset over USB bulk endpoints; after a re-enumeration (a reboot) the serial finds it again."""
    from harness.adb.auth import load_or_create_key
    from harness.adb.connection import AdbConnection
    from harness.adb.driver import AdbHandset
    from harness.transport.usb import UsbPipe

    key = load_or_create_key(options.key_path)
    timeout = options.timeout

    def open_connection() -> AdbConnection:
        pipe = UsbPipe.find(address.serial or None, backend=options.usb_backend, timeout=timeout)
        return AdbConnection(pipe, key, timeout=timeout).connect()

    return AdbHandset(open_connection, address.uri, timeout, gone=options.gone)


def open(address: UsbAddress, options: OpenOptions) -> OpenedHandset:  # noqa: A001  (the scheme API's name)
    """The handset at ``address``; nothing else comes with it (its ports come from an inventory)."""
    return OpenedHandset(address.uri, connect(address, options))


def probe(address: UsbAddress, options: ProbeOptions) -> Probed:
    """The phone among those discovery saw on USB, then its ADB handshake, unless a run holds it.

    A CNXN on USB resets the phone's ADB session, so a leased phone (``options.disturb`` False) is only
    looked for on the bus.
    """
    from harness.handsets.adb_probe import probe_adb_usb

    return Probed(*probe_adb_usb(address.serial, options.usb_phones, options.usb_backend, options.timeout,
                                 handshake=options.disturb, deadline=options.deadline))
