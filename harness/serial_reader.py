"""One reader thread for a serial peer (console, modem): reads a port until stopped, and stops the same way.

As labgrid separates a resource (the port) from its driver, the peer's
driver (the modem's line router, the console's log and expect buffer) only
says what to do with the bytes (``on_data``) and when a read fails
(``on_error``: True to go on, for a port that comes back; False to end).
The thread, its stop event and its shutdown (stop, close the port so a
blocked read returns, join with a bound) live here once, and so does the
lifecycle of the drivers built from a ``harness.serial_port.SerialPort``
(``PortDriver``: no I/O when built, ``open``, idempotent ``close``, ``with``)
and the opening of a port, at once or with backoff until it comes back.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

import serial

from harness.errors import DeviceUnavailable, quote_seen
from harness.serial_port import SerialPort

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


def open_port(resource: SerialPort, what: str) -> serial.SerialBase:
    """Open ``resource`` (reads time out after 0.1 s so a reader notices ``stop``); DeviceUnavailable naming it."""
    try:
        return serial.serial_for_url(resource.url, timeout=0.1, **resource.settings())
    except (serial.SerialException, OSError, ValueError) as exc:
        said = str(exc).replace(resource.url, str(resource))  # pyserial quotes the URL, credentials and all
        raise DeviceUnavailable(f"{what} {resource}: cannot open: {quote_seen(said)}") from None


def open_port_by(resource: SerialPort, what: str, deadline: float,
                 stop: threading.Event | None = None) -> serial.SerialBase | None:
    """Open ``resource``, trying again with backoff until ``deadline`` (a port coming back after a reboot).

    None when ``stop`` is set first; DeviceUnavailable (the last try's) when the deadline passes.
    """
    stop = stop or threading.Event()
    delay = 0.05
    while not stop.is_set():
        try:
            return open_port(resource, what)
        except DeviceUnavailable:
            pause = min(delay, deadline - time.monotonic())
            if pause <= 0:
                raise
            stop.wait(pause)
            delay = min(delay * 2, 1.0)
    return None


Driver = TypeVar("Driver", bound="PortDriver")


class PortDriver:
    """The lifecycle every serial peer's driver shares: built from a resource, then ``open``, ``close``, ``with``.

    ``__init__`` does no I/O (a driver can be built, passed around and printed
    before its port exists). ``open`` opens the port and starts the reader
    (the subclass's ``_start``); a failure in it closes what was opened and
    raises. ``close`` is idempotent and safe on a driver never opened.
    """

    #: What errors call the peer ("console", "modem").
    what = "serial port"

    def __init__(self, resource: SerialPort) -> None:
        if not isinstance(resource, SerialPort):
            raise TypeError(f"{type(self).__name__} is built from a SerialPort, got {type(resource).__name__}")
        self.resource = resource
        self.is_open = False

    @property
    def url(self) -> str:
        """The port's URL as errors and logs show it (credentials left out)."""
        return str(self.resource)

    def _open_port(self) -> serial.SerialBase:
        return open_port(self.resource, self.what)

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def open(self: Driver) -> Driver:
        """Open the port and start reading; DeviceUnavailable naming the port when it cannot be opened."""
        if self.is_open:
            return self
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        self.is_open = True
        return self

    def close(self) -> None:
        """Stop the reader and close the port; again, or before ``open``, does nothing."""
        if not self.is_open:
            return
        self.is_open = False
        self._stop()

    def __enter__(self: Driver) -> Driver:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.resource!r}, {'open' if self.is_open else 'closed'})"
