"""The handset's log: recent lines kept for the control socket, every line passed on to listeners.

Listeners (the emulator's stderr, a test) hear lines on a thread of their own,
so a slow listener never holds up the phone that logs.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable

#: How many recent lines the phone keeps (the control socket's ``log`` command reads them).
KEPT_LINES = 500


class PhoneLog:
    """Stamped log lines of one handset (never a password or access code: callers log no secrets)."""

    def __init__(self, name: str) -> None:
        self.lines: list[str] = []
        self._listeners: list[Callable[[str], None]] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._dispatch, name=f"log-{name}", daemon=True)
        self._thread.start()

    def add_listener(self, cb: Callable[[str], None]) -> None:
        self._listeners.append(cb)

    def __call__(self, line: str) -> None:
        now = time.time()  # to the millisecond: a run's timeline puts these lines among its steps and frames
        stamped = f"{time.strftime('%H:%M:%S', time.localtime(now))}.{int(now * 1000) % 1000:03d} {line}"
        self.lines.append(stamped)
        del self.lines[:-KEPT_LINES]
        self._queue.put(stamped)

    def close(self) -> None:
        self._queue.put(None)

    def _dispatch(self) -> None:
        while (line := self._queue.get()) is not None:
            for cb in list(self._listeners):
                try:
                    cb(line)
                except Exception:
                    pass
