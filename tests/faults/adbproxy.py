"""An ADB proxy on 127.0.0.1 between the harness and a handset: a faulty cable or a slow, lossy phone, from outside.

It forwards every byte of a real ADB connection, except what the test asks
it to change: ``rewrite`` may replace the payload of an OPEN from the host
(a tap the phone never gets: the service still runs, on a point where
nothing is), and ``down_rate`` sends the device's bytes back at that many
bytes per second (a handset whose screenshots take seconds). Its ADB is
written from the protocol (adbfaults.py), not from harness code; only the
socket clean-up is the harness's (``close_socket``).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Callable

from adbfaults import OPEN, pack, recv_exact

from harness.transport.tcp import close_socket

#: bytes the device side forwards at once; a slowed one then sleeps for their share of a second
CHUNK = 16384


class AdbProxy:
    """Forwards ADB between hosts and the device at ``device_port``; ``uri`` is the handset URI to give the harness.

    ``rewrite(payload)`` sees each OPEN's payload from the host (``b"shell,v2,raw:input tap 240 400\\0"``) and
    returns the payload to send instead, or None to send it as it is. ``opens`` keeps every payload seen.
    """

    def __init__(self, device_port: int, rewrite: Callable[[bytes], bytes | None] | None = None,
                 down_rate: float | None = None) -> None:
        self.device_port, self.rewrite, self.down_rate = device_port, rewrite, down_rate
        self.opens: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.uri = f"adb-tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self._socks: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                host, _ = self.listener.accept()
                device = socket.create_connection(("127.0.0.1", self.device_port), timeout=10)
                device.settimeout(None)
            except OSError:
                if self._closed:
                    return
                continue  # the device refused this one: the host sees its connection closed
            self._socks += [host, device]
            lock = threading.Lock()
            threading.Thread(target=self._down, args=(device, host, lock), daemon=True).start()
            threading.Thread(target=self._up, args=(host, device), daemon=True).start()

    def _down(self, device: socket.socket, host: socket.socket, lock: threading.Lock) -> None:
        try:
            while data := device.recv(CHUNK):
                with lock:
                    host.sendall(data)
                if self.down_rate:
                    time.sleep(len(data) / self.down_rate)  # the fault itself: a slow link, not a synchronisation
        except OSError:
            pass
        finally:
            close_socket(host)

    def _up(self, host: socket.socket, device: socket.socket) -> None:
        try:
            while True:
                header = recv_exact(host, 24)
                cmd, arg0, arg1, length = struct.unpack_from("<4I", header)
                data = recv_exact(host, length) if length else b""
                if cmd == OPEN:
                    self.opens.append(data)
                    other = self.rewrite(data) if self.rewrite is not None else None
                    if other is not None:
                        header, data = pack(OPEN, arg0, arg1, other)[:24], other
                device.sendall(header + data)
        except (OSError, ConnectionError):
            pass
        finally:
            close_socket(device)

    def close(self) -> None:
        self._closed = True
        close_socket(self.listener)
        for sock in self._socks:
            close_socket(sock)

    def __enter__(self) -> "AdbProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TapDropper:
    """A ``rewrite`` that moves the taps numbered in ``drop`` (1 = the first tap) to (0, 0), on the status bar,
    where they touch nothing: the phone runs ``input tap`` and nothing happens, as with a tap a phone lost."""

    def __init__(self, drop: set[int]) -> None:
        self.drop, self.taps, self.dropped = set(drop), 0, []

    def __call__(self, payload: bytes) -> bytes | None:
        start = payload.find(b"input tap ")
        if start < 0:
            return None
        self.taps += 1
        if self.taps not in self.drop:
            return None
        self.dropped.append(payload)
        return payload[:start] + b"input tap 0 0\0"
