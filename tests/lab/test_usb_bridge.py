"""The export's ADB-over-TCP bridge to a USB phone: it carries whole ADB messages, and a client that breaks the
protocol (a bad header, a payload larger than any adb sends) loses its connection before a byte reaches the phone.

The phone is an emulated lumia-920 reached through its emulated USB socket (``EmulatedUsbBackend``).
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Iterator

import pytest

from harness.adb.auth import load_or_create_key
from harness.adb.protocol import HEADER, Message, parse_header
from harness.adb_wire import A_CNXN, MAX_HANDSHAKE_PAYLOAD, VERSION_SKIP_CHECKSUM

DEADLINE = 30.0


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    from harness.emulator.process import EmulatorProcess
    from harness.emulator.usb_backend import EmulatedUsbBackend
    from harness.lab.labgrid.usb_bridge import UsbBridge

    folder = tmp_path_factory.mktemp("usb-bridge")
    key = folder / "adbkey"
    load_or_create_key(key)
    phone = EmulatorProcess("lumia-920", ["--animation-ms", "0", "--boot-time", "0.3", "--no-user-keys",
                                          "--adb-key", str(key) + ".pub"], log_path=folder / "emulator.log")
    phone.start()
    served = None
    try:
        served = UsbBridge(phone.endpoints["serial"], "127.0.0.1",
                           backend=EmulatedUsbBackend([phone.endpoints["usb"]])).start()
        yield "127.0.0.1", served.port
    finally:
        if served is not None:
            served.stop()
        phone.stop()


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=DEADLINE)
    sock.settimeout(DEADLINE)
    return sock


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def _closed(sock: socket.socket) -> bool:
    """True once the bridge has closed the connection (waits up to the deadline, never on a sleep)."""
    try:
        while True:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_a_connect_message_is_carried_to_the_phone_and_answered(bridge: tuple[str, int]) -> None:
    cnxn = Message(A_CNXN, VERSION_SKIP_CHECKSUM, MAX_HANDSHAKE_PAYLOAD, b"host::\0")
    with _connect(bridge) as sock:
        sock.sendall(cnxn.pack())
        command, _arg0, _arg1, length, _check = parse_header(_recv_exact(sock, HEADER.size))
        payload = _recv_exact(sock, length)
    assert command in (A_CNXN, 0x48545541), (hex(command), payload[:40])  # CNXN, or AUTH when it wants a key


@pytest.mark.parametrize("header", [
    pytest.param(b"\x00" * HEADER.size, id="no-command"),
    pytest.param(struct.pack("<6I", A_CNXN, 0, 0, 0, 0, 0), id="wrong-magic"),
    pytest.param(struct.pack("<6I", A_CNXN, VERSION_SKIP_CHECKSUM, 4096, 2 << 20, 0, A_CNXN ^ 0xFFFFFFFF),
                 id="2-MiB-payload"),
])
def test_a_header_that_breaks_the_protocol_ends_the_client(bridge: tuple[str, int], header: bytes) -> None:
    with _connect(bridge) as sock:
        sock.sendall(header)
        assert _closed(sock), f"the bridge kept a client that sent {header.hex()}"
    with _connect(bridge) as sock:  # and the next client is served as if nothing happened
        sock.sendall(Message(A_CNXN, VERSION_SKIP_CHECKSUM, MAX_HANDSHAKE_PAYLOAD, b"host::\0").pack())
        assert parse_header(_recv_exact(sock, HEADER.size))[0] in (A_CNXN, 0x48545541)
