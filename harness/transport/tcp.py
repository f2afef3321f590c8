"""TCP byte pipe."""

from __future__ import annotations

import select
import socket
import threading
import time

from harness.deadline import CommandTimeout, left
from harness.transport.base import TransportClosed, TransportTimeout


def _wait_ready(sock: socket.socket, events: int, rest: float) -> None:
    """Wait up to ``rest`` seconds for the socket to be readable/writable (the caller then tries again)."""
    poller = select.poll()  # one per wait: a poll object must not be shared by two threads' waits
    poller.register(sock, events)
    poller.poll(max(1, int(rest * 1000 + 0.999)))


class TcpPipe:
    """A connected TCP socket with exact reads; each timeout bounds the whole call, not each recv.

    The socket stays in blocking mode and carries no timeout, so a read with no deadline (the ADB reader
    thread's) is one ``recv_into`` that the kernel wakes with the data. A read or write with a deadline
    tries once without blocking (``MSG_DONTWAIT``) and waits in ``poll`` for what is left of the deadline
    only when nothing is ready. (A socket timeout instead makes Python poll before every recv/send and set
    the descriptor's mode on every call: three system calls for each 24-byte OKAY of a 4096-byte
    stream, and the host's part of a screenshot's 2000 round trips doubled.)
    """

    def __init__(self, host: str, port: int, connect_timeout: float = 10.0) -> None:
        self.description = f"tcp://{host}:{port}"
        connect_timeout = left(connect_timeout) or 0.0
        try:
            self._sock = socket.create_connection((host, port), timeout=max(0.001, connect_timeout))
        except socket.timeout:
            raise TransportTimeout(f"a TCP connection to {host}:{port}", "no answer", connect_timeout) from None
        except OSError as exc:
            raise TransportClosed(f"cannot connect to {host}:{port}: {exc.strerror or exc} (is the handset on and "
                                  f"its ADB port right? `harness devices` with the inventory shows what answers)") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.settimeout(None)  # blocking; deadlines are kept per call (see the class's docstring)
        self._wlock = threading.Lock()

    def write(self, data: bytes | bytearray | memoryview, timeout: float) -> None:
        """All of ``data``, or a typed error once ``timeout`` has passed since the call began."""
        timeout = left(timeout) or 0.0
        deadline = time.monotonic() + timeout
        view = memoryview(data).cast("B")
        sent = 0
        with self._wlock:
            while sent < len(view):
                try:
                    sent += self._sock.send(view[sent:], socket.MSG_DONTWAIT)
                    continue
                except CommandTimeout:
                    raise  # the whole command's deadline (a signal), not a peer that stopped reading
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise TransportClosed(f"{self.description}: connection lost while sending ({exc.strerror or exc})") from None
                rest = deadline - time.monotonic()
                if rest <= 0:
                    raise TransportTimeout(f"sending {len(view)} bytes to {self.description}",
                                           f"the peer stopped reading after {sent} bytes", timeout)
                _wait_ready(self._sock, select.POLLOUT, rest)

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
        flags = 0 if deadline is None else socket.MSG_DONTWAIT
        n, got = len(view), 0
        while got < n:
            try:
                count = self._sock.recv_into(view[got:], n - got, flags)
            except BlockingIOError:
                assert deadline is not None  # only a read with a deadline asks not to block
                rest = deadline - time.monotonic()
                if rest <= 0:
                    raise TransportTimeout(f"{n} bytes from {self.description}", f"{got} bytes", timeout or 0) from None
                _wait_ready(self._sock, select.POLLIN, rest)
                continue
            except OSError as exc:
                raise TransportClosed(f"{self.description}: connection lost ({exc.strerror or exc})") from None
            if not count:
                raise TransportClosed(f"{self.description}: closed by the device after {got} of {n} bytes")
            got += count

    def close(self) -> None:
        close_socket(self._sock)


def close_socket(sock: socket.socket) -> None:
    """Shut both ways, then close: a thread blocked in ``recv`` or ``accept`` on it wakes (``close`` alone does not
    wake it on Linux); a socket already shut or never connected is closed all the same."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
