"""A serial port for an emulated peer: a pty whose slave path the harness opens like /dev/ttyUSB0."""

from __future__ import annotations

import os
import select
import threading
import tty
from typing import Callable


class PtyPort:
    """Owns the master side of a pty; calls ``on_data`` with what the harness writes."""

    def __init__(self, name: str, on_data: Callable[[bytes], None]) -> None:
        self.name = name
        self.on_data = on_data
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"pty {name}", daemon=True)

    def start(self) -> str:
        self._thread.start()
        return self.path

    def _loop(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if data:
                self.on_data(data)

    def write(self, data: bytes) -> None:
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
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
