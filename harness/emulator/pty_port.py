"""A serial port for an emulated peer: a pty whose slave path the harness opens like /dev/ttyUSB0."""

from __future__ import annotations

import fcntl
import os
import random
import select
import struct
import termios
import threading
import time
import tty
from typing import Any, Callable

#: Output held for a reader that has not opened the port yet; past this, older output is dropped.
HOLD_LIMIT = 1 << 20
#: How long a reader must have had the port open before output flows (pyserial flushes input on open).
READER_SETTLE = 0.15


class PtyPort:
    """Owns the master side of a pty; calls ``on_data`` with what the harness writes.

    Output goes through one queue that a writer thread empties, so a slow
    ``on_data`` never holds output back and output keeps its order. Output
    written while nobody has the port open is held and sent once a reader
    has had it open for a moment (pyserial flushes the input buffer when it
    opens a port, so bytes queued in the pty before that would be lost).
    """

    def __init__(self, name: str, on_data: Callable[[bytes], None]) -> None:
        self.name = name
        self.on_data = on_data
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)  # with no slave open, the master reports POLLHUP until a reader opens the port
        self._out: list[bytes] = []
        self._out_bytes = 0
        self.dropped = 0   # bytes of held output dropped past HOLD_LIMIT
        self.noise = 0.0   # fault injection: chance per byte of a random byte slipping in
        self.drop = 0.0    # fault injection: chance per byte of it getting lost
        self._rng = random.Random()
        self._reader_since: float | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._writing = False
        self._thread = threading.Thread(target=self._read_loop, name=f"pty {name}", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name=f"pty {name} out", daemon=True)

    def start(self) -> str:
        self._thread.start()
        self._writer.start()
        return self.path

    def reader_present(self) -> bool:
        poller = select.poll()
        poller.register(self.master, select.POLLIN | select.POLLHUP)
        return not any(ev & select.POLLHUP for _, ev in poller.poll(0))

    def _reader_settled(self) -> bool:
        since = self._reader_since
        return since is not None and time.monotonic() - since > READER_SETTLE

    def _read_loop(self) -> None:
        poller = select.poll()
        poller.register(self.master, select.POLLIN | select.POLLHUP)
        while not self._stop.is_set():
            events = poller.poll(50)
            flags = events[0][1] if events else 0
            if flags & select.POLLHUP and not flags & select.POLLIN:
                self._reader_since = None
                self._stop.wait(0.05)
                continue
            if self._reader_since is None:
                self._reader_since = time.monotonic()
            with self._cond:
                self._cond.notify_all()  # the writer waits for a settled reader
            if flags & select.POLLIN:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data:
                    self.on_data(data)  # even from a reader that already closed the port again

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the reader; held (up to HOLD_LIMIT) while nobody has the port open."""
        with self._cond:
            self._out.append(bytes(data))
            self._out_bytes += len(data)
            while self._out_bytes > HOLD_LIMIT and len(self._out) > 1:
                old = self._out.pop(0)
                self._out_bytes -= len(old)
                self.dropped += len(old)
            self._cond.notify_all()

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                if not self._out or not self._reader_settled():
                    self._cond.wait(0.05)
                    continue
                chunk = self._out.pop(0)
                self._out_bytes -= len(chunk)
                self._writing = True
            try:
                self._write_now(chunk)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()

    def _faulty(self, data: bytes) -> bytes:
        if not (self.noise or self.drop):
            return data
        out = bytearray()
        for byte in data:
            if self._rng.random() < self.noise:
                out.append(self._rng.randrange(256))
            if self._rng.random() >= self.drop:
                out.append(byte)
        return bytes(out)

    def set_fault(self, kind: str, rate: float = 0.0, seed: int | None = None) -> None:
        """``noise`` or ``drop`` at ``rate`` per byte; ``clear`` ends both."""
        if kind not in ("noise", "drop", "clear"):
            raise ValueError(f"unknown fault {kind!r} (noise, drop, clear)")
        if seed is not None:
            self._rng.seed(seed)
        if kind == "clear":
            self.noise = self.drop = 0.0
        else:
            setattr(self, kind, max(0.0, min(1.0, rate)))

    def _write_now(self, data: bytes) -> None:
        view = memoryview(self._faulty(data))
        while view and not self._stop.is_set():
            _, writable, _ = select.select([], [self.master], [], 0.5)
            if not writable:
                continue  # nobody reads: the pty buffer is full; keep trying until stopped
            try:
                n = os.write(self.master, view)
            except OSError:
                return
            view = view[n:]

    def _unread_by_reader(self) -> int:
        """Bytes that reached the pty but that the reader has not read yet (FIONREAD on the slave side)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return 0
        try:
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        finally:
            os.close(fd)

    def drain(self, timeout: float = 2.0) -> bool:
        """Wait until a present reader has read everything written so far; False when it did not in time.

        Closing the master throws away what the reader has not read, so a port
        that goes away (a handset powering off) drains first, as a UART's FIFO empties.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._out or self._writing) and self.reader_present():
                if not self._cond.wait(min(0.05, max(0.0, deadline - time.monotonic()))) \
                        and time.monotonic() >= deadline:
                    return False
        quiet = 0
        while self.reader_present() and time.monotonic() < deadline:
            quiet = quiet + 1 if self._unread_by_reader() == 0 else 0
            if quiet >= 2:  # twice, since the pty hands written bytes to the reader's side asynchronously
                return True
            time.sleep(0.02)
        return not self.reader_present()

    def stop(self, drain: float = 0.0) -> None:
        """Close the port; with ``drain`` > 0, first give a present reader that long to read what was written."""
        if drain > 0:
            self.drain(drain)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=2)
        self._writer.join(timeout=2)
        try:
            os.close(self.master)
        except OSError:
            pass


#: The arguments of the ``*_fault`` control commands.
FAULT_USAGE = "kind=noise|drop|clear [rate] [seed]"


def apply_fault(port: PtyPort | None, request: dict[str, Any]) -> dict[str, Any]:
    """The control socket's fault switch for one peer's port: {"kind": "noise"|"drop"|"clear", "rate", "seed"}."""
    if port is None:
        raise ValueError("the port is gone right now")
    port.set_fault(str(request["kind"]), float(request.get("rate", 0.0)), request.get("seed"))
    return {"port": port.name, "noise": port.noise, "drop": port.drop}
