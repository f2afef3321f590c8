"""Does an ADB daemon answer at this address or on this USB serial, and does it let us in?

Only the handshake: a CNXN, and when the daemon asks for authorisation, a
signature of its token made with our key (never the public key itself, so a
real phone shows no prompt for a probe). The ``adb-tcp`` and ``adb-usb``
schemes' ``probe`` use it; ``harness devices`` reports the outcome. Each probe
ends by its deadline (``timeout`` for the whole of it, connection included).
"""

from __future__ import annotations

import time
from typing import Any, Sequence


def _our_key() -> tuple[Any, str]:
    """Our ADB private key if it exists already (a probe never makes one), and where it lives."""
    from harness.adb.auth import default_key_path, load_or_create_key

    path = default_key_path()
    return (load_or_create_key(path) if path.exists() else None), str(path)


def adb_hello(pipe: Any, timeout: float = 2.0, deadline: float | None = None) -> tuple[bool, str]:
    """Send an ADB CNXN over a byte pipe; a CNXN back means an ADB daemon answers and lets us in.

    When the daemon asks for authorisation, the probe signs its token with our
    key: a device that trusts the key answers CNXN, one that does not asks
    again, and then the probe says it refuses our key. The public key itself is
    never offered, so a real phone shows no "allow USB debugging?" prompt for a probe.
    ``deadline`` (``time.monotonic()``; default ``timeout`` from now) ends it; ``timeout`` is what errors quote.
    """
    from harness.adb.auth import sign_token
    from harness.adb.errors import AdbError
    from harness.adb.connection import HOST_BANNER, parse_banner
    from harness.adb.protocol import (
        A_AUTH, A_CNXN, AUTH_SIGNATURE, AUTH_TOKEN, HEADER, MAX_HANDSHAKE_PAYLOAD, MAX_PAYLOAD,
        VERSION_SKIP_CHECKSUM, Message, ProtocolViolation, parse_header,
    )
    from harness.transport.base import TransportClosed, TransportTimeout

    where = pipe.description
    deadline = time.monotonic() + timeout if deadline is None else deadline

    def receive() -> tuple[int, int, bytes]:
        command, arg0, _arg1, length, _check = parse_header(
            pipe.read_exact(HEADER.size, max(0.05, deadline - time.monotonic())), MAX_HANDSHAKE_PAYLOAD)
        return command, arg0, pipe.read_exact(length, max(0.05, deadline - time.monotonic())) if length else b""

    signed_with = None
    try:
        pipe.write(Message(A_CNXN, VERSION_SKIP_CHECKSUM, MAX_PAYLOAD, HOST_BANNER).pack(),
                   max(0.05, deadline - time.monotonic()))
        command, arg0, data = receive()
        if command == A_AUTH and arg0 == AUTH_TOKEN:
            key, signed_with = _our_key()
            if key is None:
                return True, f"ADB answers, asks for authorisation (we have no key yet at {signed_with})"
            pipe.write(Message(A_AUTH, AUTH_SIGNATURE, 0, sign_token(key, data)).pack(),
                       max(0.05, deadline - time.monotonic()))
            command, arg0, data = receive()
    except TransportTimeout:
        step = "answer to our key's signature" if signed_with else "ADB CNXN"
        return False, f"{where} is open but sent no {step} within {timeout:g}s"
    except TransportClosed as exc:
        if signed_with:
            return False, f"ADB answers but refuses our key {signed_with} (closed: {exc})"
        return False, f"{where} closed during the ADB handshake: {exc}"
    except ProtocolViolation as exc:
        return False, f"{where} is not ADB: {exc}"
    except AdbError as exc:  # our key file is not a key: say so, the device is not at fault
        return False, f"ADB answers, asks for authorisation, and our key cannot be used: {exc}"
    if command == A_CNXN:
        state, props, _ = parse_banner(data)
        model = props.get("ro.product.model")
        return True, f"ADB {state}" + (f" ({model})" if model else "") + (", trusts our key" if signed_with else "")
    if command == A_AUTH and signed_with:
        return False, (f"ADB answers but refuses our key {signed_with} (an emulator trusts the keys of the user who "
                       f"started it and those it was told to trust; a phone asks to allow USB debugging)")
    return False, f"{where} answered {Message(command, arg0, 0, data)!r} instead of CNXN/AUTH"


def probe_adb_tcp(host: str, port: int, timeout: float = 2.0, deadline: float | None = None) -> tuple[bool, str]:
    """TCP connect plus the first ADB handshake step, both within ``timeout`` (or by ``deadline``)."""
    from harness.transport.base import TransportClosed, TransportTimeout
    from harness.transport.tcp import TcpPipe

    deadline = time.monotonic() + timeout if deadline is None else deadline
    try:
        pipe = TcpPipe(host, port, max(0.05, deadline - time.monotonic()))
    except (TransportClosed, TransportTimeout) as exc:
        return False, f"no TCP connection: {exc}"
    try:
        return adb_hello(pipe, timeout, deadline)
    finally:
        pipe.close()


def probe_adb_usb(serial: str, usb_phones: Sequence[Any] | None, backend: Any = None, timeout: float = 2.0,
                  handshake: bool = True, deadline: float | None = None) -> tuple[bool, str]:
    """Is a phone with this serial on USB, and (``handshake``) does its ADB interface answer CNXN, within ``timeout``?"""
    if usb_phones is None:
        return False, "USB not enumerated (no libusb backend)"
    phone = next((p for p in usb_phones if p.serial == serial), None)
    if phone is None:
        return False, f"no USB phone with serial {serial} attached"
    seen = f"attached on USB{f' at {phone.location}' if phone.location else ''} ({phone.vendor_id:04x}:{phone.product_id:04x})"
    if not handshake:
        return True, seen
    try:
        from harness.transport.usb import UsbPipe
    except ImportError:
        return True, seen
    from harness.errors import HarnessError

    deadline = time.monotonic() + timeout if deadline is None else deadline
    try:
        pipe = UsbPipe.find(serial, backend=backend, timeout=max(0.05, deadline - time.monotonic()))
    except HarnessError as exc:
        return False, f"{seen}, but its ADB interface cannot be opened: {exc}"
    try:
        answers, detail = adb_hello(pipe, timeout, deadline)
    finally:
        pipe.close()
    return answers, f"{seen}: {detail}"
