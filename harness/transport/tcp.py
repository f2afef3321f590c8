"""TCP byte pipe."""

from __future__ import annotations

import socket
import threading

from harness.transport.base import TransportClosed, TransportTimeout


class TcpPipe:
    """A connected TCP socket with exact reads and per-call timeouts."""

    def __init__(self, host: str, port: int, connect_timeout: float = 10.0) -> None:
        self.description = f"tcp://{host}:{port}"
        try:
            self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout:
            raise TransportTimeout(f"a TCP connection to {host}:{port}", "no answer", connect_timeout) from None
        except OSError as exc:
            raise TransportClosed(f"cannot connect to {host}:{port}: {exc.strerror or exc} (is the handset on and "
                                  f"its ADB port right? `harness devices --inventory FILE` shows what answers)") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._wlock = threading.Lock()

    def write(self, data: bytes, timeout: float) -> None:
        with self._wlock:
            self._sock.settimeout(timeout)
            try:
                self._sock.sendall(data)
            except socket.timeout:
                raise TransportTimeout(f"sending {len(data)} bytes to {self.description}", "the peer stopped reading", timeout) from None
            except OSError as exc:
                raise TransportClosed(f"{self.description}: connection lost while sending ({exc.strerror or exc})") from None

    def read_exact(self, n: int, timeout: float | None) -> bytes:
        buf = bytearray()
        self._sock.settimeout(timeout)
        while len(buf) < n:
            try:
                chunk = self._sock.recv(min(n - len(buf), 1 << 20))
            except socket.timeout:
                raise TransportTimeout(f"{n} bytes from {self.description}", f"{len(buf)} bytes", timeout or 0) from None
            except OSError as exc:
                raise TransportClosed(f"{self.description}: connection lost ({exc.strerror or exc})") from None
            if not chunk:
                raise TransportClosed(f"{self.description}: closed by the device after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
