"""The log of a serial peer (modem, console): one UTF-8 file in which no access code or secret can land.

Every line goes through ``mask`` before a byte reaches the file, whatever
the line is (a command, an answer, a garbled or stray line, a message body),
so a code cannot leak through a path that forgot to redact it: registered
secrets are replaced and every run of digits as long as an access code is
masked digit by digit. The file has a size limit, past which lines are
counted instead of written.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from harness.errors import quote_seen
from harness.secrets import redact

#: The encoding of every serial log the harness writes.
ENCODING = "utf-8"
#: Digit runs this long or longer are masked: access codes are 4 to 8 digits (phone numbers lose digits too).
CODE_SHAPED = re.compile(r"\d{4,}")
#: Longest line written as is; longer lines are quoted short with a count of the rest.
MAX_LINE = 512
#: Past this many bytes a log stops growing and counts what it left out.
MAX_BYTES = 16 << 20


#: A run of hex this long in a modem's log is (part of) a PDU (27.005 PDU mode: an SMS in hex): its size only.
PDU_SHAPED = re.compile(r"[0-9A-Fa-f]{12,}")


def stamp(t: float | None = None) -> str:
    """The local time of day to the millisecond (``08:01:02.345``) that starts every log line: the run's timeline
    puts the lines on the same clock as its steps and video frames."""
    t = time.time() if t is None else t
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def is_pdu(line: str) -> bool:
    """A line that is one PDU in hex (the line after a PDU-mode +CMGL, +CMGR or +CMT header)."""
    return len(line.strip()) >= 24 and PDU_SHAPED.fullmatch(line.strip()) is not None


def pdu_note(hex_text: str) -> str:
    return f"<pdu {len(hex_text.strip()) // 2} bytes, masked>"


def mask(line: str, pdus: bool = False, plain: bool = False) -> str:
    """``line`` with registered secrets, code-shaped digit runs and (``pdus``) PDUs masked, made one bounded line.

    ``plain``: a line whose role the writer knows cannot carry a message (an IMEI answering AT+CGSN): only
    registered secrets are masked, so harmless numbers stay readable.

    In a modem's log a PDU is masked whole, also when line noise glued it to a header or cut it: its
    text is packed (GSM 7-bit) or UCS2 hex, where masking digit runs alone would leave an unreadable,
    still leaky line.
    """
    line = redact(line)
    if pdus and not plain:
        line = PDU_SHAPED.sub(lambda m: pdu_note(m.group(0)), line)
    if not plain:
        line = CODE_SHAPED.sub(lambda m: "#" * len(m.group(0)), line)
    if len(line) > MAX_LINE or not line.isprintable():
        line = quote_seen(line, MAX_LINE)
    return line


class SerialLog:
    """An append-only, timestamped, masked log file; safe to call from reader and caller threads."""

    def __init__(self, path: str | Path | None, max_bytes: int = MAX_BYTES, pdus: bool = False) -> None:
        """``pdus``: a modem's log, where runs of hex are PDUs and are masked whole."""
        self.path = Path(path) if path else None
        self.pdus = pdus
        self.max_bytes = max_bytes
        self.written = 0
        self.left_out = 0
        self._lock = threading.Lock()
        self._file = open(self.path, "a", encoding=ENCODING, errors="replace", newline="\n") if self.path else None

    def write(self, *parts: str, flush: bool = True, plain: bool = False) -> None:
        """One log line made of ``parts`` (for example a direction and the line), masked as a whole.

        ``flush=False`` leaves it buffered for a reader that flushes once per chunk it read (``flush()``);
        ``plain``: see ``mask``, for a line the writer has checked is one that holds no message.
        """
        if self._file is None:
            return
        if self.written >= self.max_bytes:
            with self._lock:
                self.left_out += 1
            return
        text = f"{stamp()} {mask(' '.join(parts), self.pdus, plain)}\n"
        with self._lock:
            if self._file is None:
                return
            size = len(text.encode(ENCODING, "replace"))
            if self.written + size > self.max_bytes:
                self.left_out += 1
                return
            self._file.write(text)
            if flush:
                self._file.flush()
            self.written += size

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is None:
                return
            if self.left_out:
                self._file.write(f"{stamp()} --- log full at {self.written} bytes; "
                                 f"{self.left_out} more line(s) left out ---\n")
            self._file.close()
            self._file = None
