"""One reader thread for a serial peer (console, modem): reads a port until stopped, and stops the same way.

As labgrid separates a resource (the port) from its driver, the peer's
driver (the modem's line router, the console's log and expect buffer) only
says what to do with the bytes (``on_data``) and when a read fails
(``on_error``: True to go on, for a port that comes back; False to end).
The thread, its stop event and its shutdown (stop, close the port so a
blocked read returns, join with a bound) live here once.
"""

from __future__ import annotations

import threading
from typing import Callable

import serial

#: Errors a read from a port that went away raises (pyserial, the OS, a port closed under the read).
READ_ERRORS = (serial.SerialException, OSError, TypeError, ValueError, AttributeError)


class PortReader:
    """Calls ``on_data`` with each chunk read from ``port()`` (at most ``chunk`` bytes) until ``stop``."""

    def __init__(self, port: Callable[[], serial.SerialBase], on_data: Callable[[bytes], None],
                 on_error: Callable[[Exception], bool], name: str, chunk: int = 4096) -> None:
        self._port = port
        self._on_data = on_data
        self._on_error = on_error
        self._chunk = chunk
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> "PortReader":
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                port = self._port()
                data = port.read(min(port.in_waiting or 1, self._chunk))
            except READ_ERRORS as exc:
                if self.stopping.is_set() or not self._on_error(exc):
                    return
                continue
            if data:
                self._on_data(data)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading: the port is closed so a read in progress returns; the thread is given ``timeout``."""
        self.stopping.set()
        try:
            self._port().close()
        except Exception:
            pass  # a port already gone is closed enough
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)
