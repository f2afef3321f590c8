"""TCP byte pipe."""

from __future__ import annotations

import socket
import threading
import time

from harness.deadline import CommandTimeout, left
from harness.transport.base import TransportClosed, TransportTimeout

#: how long one recv waits when a read has no deadline (it then simply waits again)
_IDLE_POLL = 60.0


class TcpPipe:
    """A connected TCP socket with exact reads; each timeout bounds the whole call, not each recv."""

    def __init__(self, host: str, port: int, connect_timeout: float = 10.0) -> None:
        self.description = f"tcp://{host}:{port}"
        connect_timeout = left(connect_timeout) or 0.0
        try:
            self._sock = socket.create_connection((host, port), timeout=max(0.001, connect_timeout))
        except socket.timeout:
            raise TransportTimeout(f"a TCP connection to {host}:{port}", "no answer", connect_timeout) from None
        except OSError as exc:
            raise TransportClosed(f"cannot connect to {host}:{port}: {exc.strerror or exc} (is the handset on and "
                                  f"its ADB port right? `harness devices --inventory FILE` shows what answers)") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Reads (a reader thread) and writes (callers) each get a socket object of their own: a timeout is a
        # property of the object, and one thread setting it must not cut the other's wait short. Both always
        # have a timeout, so the shared descriptor stays non-blocking and each object polls with its own.
        self._wsock = self._sock.dup()
        self._wlock = threading.Lock()

    def write(self, data: bytes, timeout: float) -> None:
        timeout = left(timeout) or 0.0
        with self._wlock:
            self._wsock.settimeout(max(0.001, timeout))  # since Python 3.5 this bounds the whole sendall
            try:
                self._wsock.sendall(data)
            except CommandTimeout:
                raise  # the whole command's deadline (a signal), not a peer that stopped reading
            except socket.timeout:
                raise TransportTimeout(f"sending {len(data)} bytes to {self.description}", "the peer stopped reading", timeout) from None
            except OSError as exc:
                raise TransportClosed(f"{self.description}: connection lost while sending ({exc.strerror or exc})") from None

    def read_exact(self, n: int, timeout: float | None) -> bytes:
        """``n`` bytes, or a typed error once ``timeout`` (None: none) has passed since the call began."""
        buf = bytearray(n)
        self.read_into(memoryview(buf), timeout)
        return bytes(buf)

    def read_into(self, view: memoryview, timeout: float | None) -> None:
        """Fill ``view`` from the socket (no copy on this side), or a typed error once ``timeout`` (None: none)
        has passed since the call began."""
        timeout = left(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        n, got = len(view), 0
        while got < n:
            if deadline is not None:
                rest = deadline - time.monotonic()
                if rest <= 0:
                    raise TransportTimeout(f"{n} bytes from {self.description}", f"{got} bytes", timeout or 0)
                self._sock.settimeout(rest)
            else:
                self._sock.settimeout(_IDLE_POLL)
            try:
                count = self._sock.recv_into(view[got:])
            except socket.timeout:
                if deadline is None:
                    continue  # no deadline: wait on
                raise TransportTimeout(f"{n} bytes from {self.description}", f"{got} bytes", timeout or 0) from None
            except OSError as exc:
                raise TransportClosed(f"{self.description}: connection lost ({exc.strerror or exc})") from None
            if not count:
                raise TransportClosed(f"{self.description}: closed by the device after {got} of {n} bytes")
            got += count

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._wsock.close()
