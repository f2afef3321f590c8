"""Hostile ADB devices for the fault matrix, written here from the protocol (AOSP protocol.txt), not from harness code.

Each device is a TCP listener on 127.0.0.1 with an OS-picked port; every
connection runs one behaviour in a daemon thread. A device stops by itself
when the test closes it (or when its behaviour ends), and a flood stops at
``FLOOD_CAP`` bytes so a broken host cannot take the machine with it.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

CNXN, AUTH, OPEN, OKAY, CLSE, WRTE = (struct.unpack("<I", n)[0] for n in (b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"CLSE", b"WRTE"))
V_CHECKSUM, V_SKIP = 0x01000000, 0x01000001
BANNER = b"device::ro.product.model=Hostile;ro.serialno=HOSTILE1;features=shell_v2"
SCREEN = (480, 800)
#: what a flooding device sends at most, however the host behaves
FLOOD_CAP = 600 << 20


def pack(cmd: int, arg0: int, arg1: int, data: bytes = b"", check: int | None = None, magic: int | None = None) -> bytes:
    """One ADB message: the 24-byte header (command, arg0, arg1, length, checksum, magic) and its payload."""
    return struct.pack("<6I", cmd, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF if check is None else check,
                       cmd ^ 0xFFFFFFFF if magic is None else magic) + data


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("host closed")
        buf += chunk
    return buf


def recv_msg(sock: socket.socket) -> tuple[int, int, int, bytes]:
    cmd, arg0, arg1, length, _check, _magic = struct.unpack("<6I", recv_exact(sock, 24))
    return cmd, arg0, arg1, recv_exact(sock, length) if length else b""


def shell_v2(pid: int, data: bytes) -> bytes:
    return struct.pack("<BI", pid, len(data)) + data


@dataclass
class Seen:
    """What a device observed, for the test to assert on."""

    services: list[str] = field(default_factory=list)
    wrte_sizes: list[int] = field(default_factory=list)
    received: bytearray = field(default_factory=bytearray)
    sent: int = 0
    connections: int = 0


class HostileDevice:
    """A listener that runs ``behaviour(sock, seen)`` for each host connection until ``close()``."""

    def __init__(self, behaviour: Callable[[socket.socket, Seen], None], accept: int = 100) -> None:
        self.behaviour = behaviour
        self.seen = Seen()
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.uri = f"adb-tcp://127.0.0.1:{self.port}"
        self.accept_left = accept
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set() and self.accept_left > 0:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.accept_left -= 1
            self.seen.connections += 1
            self._socks.append(sock)
            threading.Thread(target=self._run, args=(sock,), daemon=True).start()
        self.listener.close()  # after its last accepted connection, the port refuses (a device gone for good)

    def _run(self, sock: socket.socket) -> None:
        try:
            self.behaviour(sock, self.seen)
        except OSError:
            pass
        finally:
            sock.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        for sock in self._socks:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> "HostileDevice":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- behaviours -------------------------------------------------------------------------------------

def hold(sock: socket.socket) -> None:
    """Say nothing more; read until the host (or the test's close) ends the connection."""
    while sock.recv(65536):
        pass


def handshake(sock: socket.socket, maxdata: int = 1 << 20, version: int = V_SKIP) -> None:
    """Read the host's CNXN and answer with ours (no AUTH)."""
    cmd, *_ = recv_msg(sock)
    assert cmd == CNXN, f"expected the host's CNXN, got {cmd:#x}"
    sock.sendall(pack(CNXN, version, maxdata, BANNER))


def answer_identity(sock: socket.socket, local: int, remote: int, service: str) -> bool:
    """Serve ``getprop`` and ``wm size`` (shell v2) like a small phone; False for any other service."""
    command = service.split(":", 1)[-1]
    if command == "getprop":
        out = b"[ro.serialno]: [HOSTILE1]\n[ro.product.model]: [Hostile]\n[ro.build.version.release]: [8.1]\n"
    elif command == "wm size":
        out = f"Physical size: {SCREEN[0]}x{SCREEN[1]}\n".encode()
    else:
        return False
    sock.sendall(pack(OKAY, local, remote))
    sock.sendall(pack(WRTE, local, remote, shell_v2(1, out) + shell_v2(3, b"\0")))
    sock.sendall(pack(CLSE, local, remote))
    return True


def serve(flood_service: Callable[[str], bool], polite: bool, on_open: Callable[[socket.socket, int, int, str], None] | None = None,
          chunk: int = 64 << 10) -> Callable[[socket.socket, Seen], None]:
    """A device that answers identity services and floods any service ``flood_service`` picks with endless output.

    ``polite``: wait for the host's OKAY before each WRTE, as the protocol asks (the host must then stop at its
    limit); otherwise send WRTE after WRTE without waiting (the host must refuse that).
    """
    def behaviour(sock: socket.socket, seen: Seen) -> None:
        handshake(sock)
        next_id = 100
        while True:
            cmd, arg0, _arg1, data = recv_msg(sock)
            if cmd != OPEN:
                continue
            service = data.rstrip(b"\0").decode(errors="replace")
            seen.services.append(service)
            next_id += 1
            if answer_identity(sock, next_id, arg0, service):
                continue
            if on_open is not None:
                on_open(sock, next_id, arg0, service)
                continue
            if not flood_service(service):
                sock.sendall(pack(CLSE, 0, arg0))
                continue
            sock.sendall(pack(OKAY, next_id, arg0))
            payload = (shell_v2(1, b"y" * (chunk - 5)) if service.startswith("shell,v2") else b"\xff" * chunk)
            batch = 1 if polite else 8  # a rude device sends WRTEs back to back, many per write
            while seen.sent < FLOOD_CAP:
                sock.sendall(pack(WRTE, next_id, arg0, payload) * batch)
                seen.sent += len(payload) * batch
                if polite:
                    while True:  # the host's OKAY for this WRTE (or its CLSE: it stopped reading)
                        reply, *_ = recv_msg(sock)
                        if reply == OKAY:
                            break
                        if reply == CLSE:
                            return
    return behaviour


def random_bytes(seed: int, size: int = 4096) -> Callable[[socket.socket, Seen], None]:
    """After the host's CNXN, ``size`` seeded random bytes, then silence."""
    def behaviour(sock: socket.socket, seen: Seen) -> None:
        recv_msg(sock)
        sock.sendall(random.Random(seed).randbytes(size))
        sock.recv(1)
    return behaviour


def dripping(interval: float) -> Callable[[socket.socket, Seen], None]:
    """A valid CNXN, one byte every ``interval`` seconds."""
    def behaviour(sock: socket.socket, seen: Seen) -> None:
        recv_msg(sock)
        for byte in pack(CNXN, V_SKIP, 1 << 20, BANNER):
            sock.sendall(bytes([byte]))
            seen.sent += 1
            time.sleep(interval)
    return behaviour


def auth_loop(sock: socket.socket, seen: Seen) -> None:
    """Answers every host message with a fresh AUTH TOKEN, forever."""
    rng = random.Random(7)
    recv_msg(sock)
    while True:
        sock.sendall(pack(AUTH, 1, 0, rng.randbytes(20)))
        seen.sent += 1
        recv_msg(sock)
