"""The lines a controller sent, kept (a bounded number) for the waits that look for their answer in them.

GRBL's answers arrive on one stream in any mix: ``ok`` for the line just
sent, a status report for a ``?`` sent at any moment, ``ALARM:N`` on its own.
The reader thread appends each classified line here with a running number;
a wait remembers the number before it wrote and looks only at what came
after, within its deadline.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, TypeVar

from harness.deadline import until
from harness.robot.grbl import MAX_LINE, Reply, classify

T = TypeVar("T")


class Inbox:
    """Classified lines with running numbers; ``keep`` of them are held, older ones are dropped."""

    def __init__(self, keep: int = 512) -> None:
        self._cond = threading.Condition()
        self._lines: deque[tuple[int, Reply]] = deque(maxlen=keep)
        self._partial = b""
        self.count = 0
        self.overlong = 0  # lines longer than MAX_LINE, cut
        self.gone: str | None = None  # why the port stopped giving lines (set by the reader on a read error)

    def feed(self, data: bytes) -> None:
        """Bytes from the port: each complete line is classified and kept; a line past MAX_LINE is cut there."""
        self._partial += data
        lines: list[bytes] = []
        while b"\n" in self._partial:
            line, self._partial = self._partial.split(b"\n", 1)
            lines.append(line)
        if len(self._partial) > MAX_LINE:
            lines.append(self._partial[:MAX_LINE])
            self._partial = b""
            self.overlong += 1
        for raw in lines:
            text = raw[:MAX_LINE].decode("ascii", "replace").strip()
            if text:
                self.add(classify(text))

    def add(self, reply: Reply) -> None:
        with self._cond:
            self._lines.append((self.count, reply))
            self.count += 1
            self._cond.notify_all()

    def close(self, why: str) -> None:
        """No more lines will come (the port failed): every wait returns now."""
        with self._cond:
            self.gone = why
            self._cond.notify_all()

    def since(self, mark: int) -> list[Reply]:
        """The lines numbered ``mark`` and later that are still held."""
        with self._cond:
            return [reply for number, reply in self._lines if number >= mark]

    def last(self, n: int = 5) -> list[str]:
        """The text of the last ``n`` lines (for errors that say what was seen)."""
        with self._cond:
            return [reply.text for _, reply in list(self._lines)[-n:]]

    def wait(self, found: Callable[[list[Reply]], T | None], mark: int, deadline: float | None,
             poll: float | None = None) -> T | None:
        """The first non-None ``found(lines since mark)``; None when ``deadline`` (or, with ``poll``, that long)
        passes or the port is gone (``gone`` says why)."""
        stop = time.monotonic() + poll if poll is not None else None
        if deadline is not None and stop is not None:
            stop = min(stop, deadline)
        elif stop is None:
            stop = deadline
        with self._cond:
            while True:
                result = found([reply for number, reply in self._lines if number >= mark])
                if result is not None or self.gone is not None:
                    return result
                rest = until(stop)
                if rest is not None and rest <= 0:
                    return None
                self._cond.wait(rest)
