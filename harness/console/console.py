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
from harness.profiles import Profile
from harness.serial_log import SerialLog, mask
from harness.serial_port import SerialPort
from harness.serial_reader import PortDriver, PortReader, open_port_by

#: What a handset's console speaks; the log is written in the same encoding (harness.serial_log.ENCODING).
ENCODING = "utf-8"
#: Console text kept for ``expect`` when nobody consumes it, and lines kept for ``tail``.
KEEP_TEXT = 256 * 1024
KEEP_LINES = 2000
#: Longest line: a console that never ends its line is logged in pieces this long.
MAX_LINE = 4096


def console_port(url: str, profile: Profile | None = None, baudrate: int | None = None) -> SerialPort:
    """The console's port: ``url`` with the line settings the handset's profile gives its console (``[console]``).

    ``baudrate`` (a person's ``--baudrate``) wins over the profile's; without a profile, 115200 8N1.
    """
    if profile is None:
        return SerialPort(url) if baudrate is None else SerialPort(url, baudrate=baudrate)
    wired = profile.console
    return SerialPort(url, baudrate=baudrate or wired.baudrate, bytesize=wired.bytesize, parity=wired.parity,
                      stopbits=wired.stopbits)


class ConsoleTimeout(HarnessTimeout):
    """The console did not print what was expected in time; ``seen`` is the tail it did print."""


class SerialConsole(PortDriver):
    """Expect-style access to a console plus a complete, timestamped log.

    Built from a ``SerialPort`` without touching it; ``open()`` (or ``with``) opens the port and starts the
    reader, ``close()`` stops it and closes the log, and may be called again.
    """

    what = "console"

    def __init__(self, port: SerialPort, log_path: str | Path | None = None, reopen_timeout: float = 120.0,
                 on_text: Callable[[str], None] | None = None,
                 on_event: Callable[[str], None] | None = None) -> None:
        """``on_text`` gets the text as it arrives, ``on_event`` a sentence when the port goes away or comes back."""
        super().__init__(port)
        self.on_text = on_text
        self.on_event = on_event
        self.reopen_timeout = reopen_timeout
        self.log_path = log_path
        self._log = SerialLog(None)
        self._decoder = codecs.getincrementaldecoder(ENCODING)("replace")
        self._cond = threading.Condition()
        self._text = ""          # what was received and not yet consumed by expect() (the newest KEEP_TEXT)
        self.lines: deque[str] = deque(maxlen=KEEP_LINES)
        self.gaps = 0
        self._partial = ""
        self._port: serial.SerialBase | None = None
        self._reader: PortReader | None = None

    def _start(self) -> None:
        self._log = SerialLog(self.log_path)
        self._port = self._open_port()
        self._reader = PortReader(lambda: self._port, self._data, self._lost, f"console {self.url}", 65536).start()

    def _stop(self) -> None:
        if self._reader is not None:
            self._reader.stop()  # closes the port too
        elif self._port is not None:
            self._port.close()
        self._reader = self._port = None
        with self._cond:
            if self._partial:
                self._write_log(self._partial)
                self._partial = ""
        self._log.close()

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
        if self._port is not None:
            try:
                self._port.close()
            except Exception:
                pass
        self._say(f"console {self.url} went away at {lost} (handset off or rebooting?); waiting for it to come back")
        stop = self._reader.stopping if self._reader is not None else threading.Event()
        port = None
        while port is None and not stop.is_set():
            try:
                port = open_port_by(self.resource, self.what, time.monotonic() + self.reopen_timeout, stop)
            except DeviceUnavailable:
                note = f"console {self.url} lost at {lost}; not back after {self.reopen_timeout:g}s; still trying"
                self._write_log(f"--- {note} ---")
                self._say(note)
        if port is None or stop.is_set():
            if port is not None:
                port.close()  # came back just as the console was closed
            return
        self._port = port
        self._decoder.reset()  # a character cut in two by the port going away is not glued to new text
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
        """Write raw bytes; DeviceUnavailable while the port is away (or not open)."""
        if not self.is_open:
            raise DeviceUnavailable(f"console {self.url}: not open (call open() or use the console in a with block)")
        try:
            self._port.write(data)  # type: ignore[union-attr]  # None only while away: the except below
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
