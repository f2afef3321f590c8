"""A serial port for an emulated peer: a pty whose slave path the harness opens like /dev/ttyUSB0."""

from __future__ import annotations

import os
import random
import select
import threading
import time
import tty
from typing import Any, Callable


class PtyPort:
    """Owns the master side of a pty; calls ``on_data`` with what the harness writes.

    Output written while nobody has the port open is held back and sent once
    a reader opens it (pyserial flushes the input buffer when it opens a
    port, so bytes queued in the pty before that would be lost).
    """

    def __init__(self, name: str, on_data: Callable[[bytes], None]) -> None:
        self.name = name
        self.on_data = on_data
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)  # with no slave open, the master reports POLLHUP until a reader opens the port
        self.slave = -1
        self._held: list[bytes] = []
        self.noise = 0.0   # fault injection: chance per byte of a random byte slipping in
        self.drop = 0.0    # fault injection: chance per byte of it getting lost
        self._rng = random.Random()
        self._reader_since: float | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"pty {name}", daemon=True)

    def start(self) -> str:
        self._thread.start()
        return self.path

    def reader_present(self) -> bool:
        poller = select.poll()
        poller.register(self.master, select.POLLIN | select.POLLHUP)
        return not any(ev & select.POLLHUP for _, ev in poller.poll(0))

    def _loop(self) -> None:
        poller = select.poll()
        poller.register(self.master, select.POLLIN | select.POLLHUP)
        while not self._stop.is_set():
            events = poller.poll(50)
            flags = events[0][1] if events else 0
            if flags & select.POLLIN:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data:
                    self.on_data(data)  # even from a reader that already closed the port again
                    continue
            if flags & select.POLLHUP:
                self._reader_since = None
                self._stop.wait(0.05)
                continue
            if self._reader_since is None:
                self._reader_since = time.monotonic()
            if self._held and time.monotonic() - self._reader_since > 0.15:
                with self._write_lock:
                    held, self._held = self._held, []
                for chunk in held:
                    self._write_now(chunk)

    def write(self, data: bytes) -> None:
        with self._write_lock:
            if self._reader_since is None or time.monotonic() - self._reader_since <= 0.15 or self._held:
                if sum(map(len, self._held)) < 1 << 20:
                    self._held.append(bytes(data))
                return
        self._write_now(data)

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
        data = self._faulty(data)
        with self._write_lock:
            view = memoryview(data)
            while view and not self._stop.is_set():
                _, writable, _ = select.select([], [self.master], [], 0.5)
                if not writable:
                    continue  # nobody reads: the pty buffer is full; keep trying until stopped
                try:
                    n = os.write(self.master, view)
                except OSError:
                    return
                view = view[n:]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
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
