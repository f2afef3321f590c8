"""ADB over TCP for the emulated handset (what ``adb connect HOST:PORT`` reaches).

The port stays the same across power cycles; while the handset is off or
booting, the port refuses connections, as a real phone's adbd would not answer.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from harness.emulator.adb_device import DEFAULT_MAXDATA, DeviceSession
from harness.emulator.transport_service import CommandHandler, takes
from harness.emulator.trust import KeyStore, keystore_for


#: Linux's per-socket "ACK at once" switch; it lapses after a while, so it is set again before each read.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    """Exactly ``n`` bytes; ACKs at once, so a host that writes header and data separately with Nagle
    on (adb-shell) is not held 40 ms per message by a delayed ACK."""
    if _QUICKACK is not None:
        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    chunk = sock.recv(n)
    if len(chunk) == n:  # the usual case: all of it in one read, no joining
        return chunk
    if not chunk:
        raise EOFError("host closed the connection")
    buf = bytearray(chunk)
    while len(buf) < n:
        if _QUICKACK is not None:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("host closed the connection")
        buf += chunk
    return bytes(buf)


def _send_message(sock: socket.socket, header: bytes, payload: bytes | memoryview) -> None:
    """Header and payload in one system call where it takes them all (``sendmsg``), never joined in a copy."""
    parts = [memoryview(header), memoryview(payload).cast("B")] if len(payload) else [memoryview(header)]
    while parts:
        sent = sock.sendmsg(parts)
        while parts and sent >= len(parts[0]):
            sent -= len(parts[0])
            parts.pop(0)
        if parts and sent:
            parts[0] = parts[0][sent:]


class AdbTcpService:
    """Listens on 127.0.0.1 (OS-picked port) while the phone is booted."""

    def __init__(self, phone: Any, keys: KeyStore, host: str = "127.0.0.1", max_data: int = DEFAULT_MAXDATA) -> None:
        self.phone = phone
        self.keys = keys
        self.max_data = max_data
        self.host = host
        self.port = 0
        self._listener: socket.socket | None = None
        self._reserved: socket.socket | None = None  # the port, bound but not listening, while the phone is off
        self._sessions: set[DeviceSession] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> dict[str, Any]:
        self._listen()
        self.phone.add_power_listener(self._on_power)
        return {"adb": f"{self.host}:{self.port}"}

    def _bound(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        return sock

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None or self._stopped:
                return
            # the port kept bound while the phone was off (see _unlisten), or a new one at the first start
            sock, self._reserved = (self._reserved or self._bound()), None
            sock.listen(16)
            self._listener = sock
        threading.Thread(target=self._accept_loop, args=(sock,), name="adb-tcp", daemon=True).start()

    def _unlisten(self) -> None:
        with self._lock:
            sock, self._listener = self._listener, None
            sessions = list(self._sessions)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
                if not self._stopped:
                    # Keep the port while the phone is off: bound but not listening, a connection is refused as
                    # from a phone that is off, and no other program on this host can take the OS-picked port
                    # before power on (a port freed for the off time was taken by another process's connection
                    # in a loaded full run, and the phone never answered again).
                    self._reserved = self._bound()
        for session in sessions:
            session.shutdown()

    def _on_power(self, powered: bool) -> None:
        if powered:
            self._listen()
        else:
            self._unlisten()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if not self.phone.booted:
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def close(conn: socket.socket = conn) -> None:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()

            session = DeviceSession(self.phone, self.keys, lambda n, c=conn: _recv_exact(c, n),
                                    lambda head, data, c=conn: _send_message(c, head, data), close,
                                    self.max_data)
            with self._lock:
                self._sessions.add(session)
            threading.Thread(target=self._serve, args=(session,), name="adbd-session", daemon=True).start()

    def _serve(self, session: DeviceSession) -> None:
        try:
            session.serve()
        finally:
            with self._lock:
                self._sessions.discard(session)

    def stop(self) -> None:
        self._stopped = True
        self._unlisten()
        with self._lock:
            reserved, self._reserved = self._reserved, None
        if reserved is not None:
            reserved.close()

    def commands(self) -> dict[str, CommandHandler]:
        def trust(req: dict[str, Any]) -> dict[str, Any]:
            try:
                self.keys.add(str(req["key"]).encode())
            except Exception as exc:  # the key decoder's own error: answer it, keep serving
                raise ValueError(f"not an ADB public key: {exc}") from None
            return {"trusted": True}
        return {"adb_trust_key": takes("key  (an adbkey.pub line)")(trust)}


def adb_tcp_service(phone: Any, options: dict[str, Any]) -> AdbTcpService:
    """Factory for the emulator host: trusts its user's keys, ``options['adb_keys']`` files, or any key with
    ``adb_insecure``; announces ``options['adb_maxdata']``."""
    return AdbTcpService(phone, keystore_for(options), max_data=options.get("adb_maxdata") or DEFAULT_MAXDATA)
