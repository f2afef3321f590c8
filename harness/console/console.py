"""The serial console of a handset, opened by pyserial URL (/dev/ttyACM0, rfc2217://host:port, a pty).

A background reader keeps the whole console log in the run's artifacts. When
the port goes away (the handset reboots and its USB serial disappears) the
reader writes a gap marker, reopens the port with backoff, and carries on,
so no line that reached the host is lost.
"""

from __future__ import annotations

import codecs
import re
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable

import serial

from harness.errors import DeviceUnavailable, HarnessTimeout
from harness.serial_log import SerialLog, mask
from harness.serial_reader import PortReader

#: What a handset's console speaks; the log is written in the same encoding (harness.serial_log.ENCODING).
ENCODING = "utf-8"
#: Console text kept for ``expect`` when nobody consumes it, and lines kept for ``tail``.
KEEP_TEXT = 256 * 1024
KEEP_LINES = 2000
#: Longest line: a console that never ends its line is logged in pieces this long.
MAX_LINE = 4096


class ConsoleTimeout(HarnessTimeout):
    """The console did not print what was expected in time; ``seen`` is the tail it did print."""


class SerialConsole:
    """Expect-style access to a console plus a complete, timestamped log."""

    def __init__(self, url: str, log_path: str | Path | None = None, baudrate: int = 115200,
                 reopen_timeout: float = 120.0, on_text: Callable[[str], None] | None = None,
                 on_event: Callable[[str], None] | None = None) -> None:
        """``on_text`` gets the text as it arrives, ``on_event`` a sentence when the port goes away or comes back."""
        self.url = url
        self.on_text = on_text
        self.on_event = on_event
        self.baudrate = baudrate
        self.reopen_timeout = reopen_timeout
        self._log = SerialLog(log_path)
        self._decoder = codecs.getincrementaldecoder(ENCODING)("replace")
        self._cond = threading.Condition()
        self._text = ""          # what was received and not yet consumed by expect() (the newest KEEP_TEXT)
        self.lines: deque[str] = deque(maxlen=KEEP_LINES)
        self.gaps = 0
        self._partial = ""
        self._port = self._open()
        self._reader = PortReader(lambda: self._port, self._data, self._lost, f"console {url}", 65536)
        self._stop = self._reader.stopping
        self._reader.start()

    def _open(self) -> serial.SerialBase:
        try:
            return serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.1, exclusive=False)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnavailable(f"console {self.url}: cannot open: {exc}") from None

    def _write_log(self, line: str) -> None:
        self.lines.append(mask(line))  # ``tail`` is evidence for reports: masked as the log is
        self._log.write(line)

    def _lost(self, exc: Exception) -> bool:
        """The port went away (the handset rebooting): wait for it to come back and go on reading."""
        self._reopen()
        return True

    def _data(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        self._take(text)
        if self.on_text is not None and text:
            self.on_text(text)

    def _take(self, text: str) -> None:
        with self._cond:
            self._text = (self._text + text)[-KEEP_TEXT:]
            self._partial += text
            *complete, self._partial = self._partial.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if len(self._partial) > MAX_LINE:
                complete.append(self._partial)
                self._partial = ""
            for line in complete:
                self._write_log(line)
            self._cond.notify_all()

    def _say(self, event: str) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _reopen(self) -> None:
        lost = time.strftime("%H:%M:%S")
        try:
            self._port.close()
        except Exception:
            pass
        self._say(f"console {self.url} went away at {lost} (handset off or rebooting?); waiting for it to come back")
        deadline = time.monotonic() + self.reopen_timeout
        delay = 0.05
        while not self._stop.is_set():
            try:
                self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.1)
                self._decoder.reset()  # a character cut in two by the port going away is not glued to new text
                break
            except (serial.SerialException, OSError, ValueError):
                if time.monotonic() > deadline:
                    note = f"console {self.url} lost at {lost}; not back after {self.reopen_timeout:g}s; still trying"
                    self._write_log(f"--- {note} ---")
                    self._say(note)
                    self._stop.wait(1.0)
                    deadline = time.monotonic() + self.reopen_timeout
                self._stop.wait(delay)
                delay = min(delay * 2, 1.0)
        if self._stop.is_set():
            return
        self._say(f"console {self.url} is back (gone since {lost})")
        with self._cond:
            self.gaps += 1
            if self._partial:
                self._write_log(self._partial)
                self._partial = ""
            self._write_log(f"--- console gap: port lost at {lost}, back at {time.strftime('%H:%M:%S')} ---")
            self._cond.notify_all()

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> tuple[re.Match[str], str]:
        """Wait for ``pattern``; returns the match and the text before it (both consumed)."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                match = regex.search(self._text)
                if match:
                    before = self._text[:match.start()]
                    self._text = self._text[match.end():]
                    return match, before
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConsoleTimeout(f"/{regex.pattern}/ on console {self.url}", mask(repr(self._text[-200:])), timeout)
                self._cond.wait(remaining)

    def send(self, data: bytes) -> None:
        """Write raw bytes; DeviceUnavailable while the port is away."""
        try:
            self._port.write(data)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            raise DeviceUnavailable(f"console {self.url}: write failed ({exc})") from None

    def send_line(self, line: str) -> None:
        self.send(line.encode(ENCODING, "replace") + b"\r\n")

    def run(self, command: str, prompt: str = r"wp> ", timeout: float = 10.0) -> str:
        """Send a command and return what it printed before the next prompt."""
        self.send_line(command)
        _, before = self.expect(re.escape(prompt), timeout)
        lines = before.replace("\r", "").split("\n")
        return "\n".join(line for line in lines if line.strip() != command.strip()).strip("\n")

    def tail(self, n: int = 20) -> list[str]:
        return list(self.lines)[-n:]

    def __enter__(self) -> "SerialConsole":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.stop()
        if self._partial:
            self._write_log(self._partial)
            self._partial = ""
        self._log.close()
