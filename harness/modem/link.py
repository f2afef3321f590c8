"""The wire side of a modem: one reader thread that frames lines, bounds them, and routes each one.

Routing is by what a line is, not by when it came: the answer to the command
in flight (its lines and final result), an unsolicited result code (+CMTI),
a message delivered straight to us (+CMT and its text line), or a stray
line. Every read has a size limit: a line is cut at ``MAX_LINE`` bytes, an
answer at ``max_answer`` bytes, the queues of URCs and delivered messages
keep the newest few. Every line is written to the masked serial log.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field

import serial

from harness.modem.at import Delivery, damaged_final, is_final, is_urc
from harness.serial_log import SerialLog, is_pdu, pdu_note
from harness.serial_reader import PortReader

#: Bytes of one line kept; the rest of an over-long line is counted and thrown away.
MAX_LINE = 4096
#: Bytes of one command's answer kept by default (a listing of 30 stored texts is under 8 KiB).
MAX_ANSWER = 256 * 1024
#: Unsolicited result codes and delivered messages kept for a reader that comes late.
KEEP_URCS = 256
KEEP_DELIVERED = 64


@dataclass
class Exchange:
    """One command in flight and what has come back for it so far."""

    command: str
    max_answer: int
    lines: list[str] = field(default_factory=list)
    size: int = 0
    left_out: int = 0          # bytes of answer past max_answer
    final: str | None = None   # the final result line, once it came
    garbled: str | None = None  # a damaged final result, once it came
    expect_body: bool = False  # a +CMGL/+CMGR header came: the next line is a message text
    texts: set[int] = field(default_factory=set)  # which lines are message texts

    @property
    def done(self) -> bool:
        return self.final is not None or self.garbled is not None

    def shown(self) -> list[str]:
        """The answer as errors may quote it: message texts replaced by their length."""
        return [f"[message text: {len(line)} chars]" if i in self.texts else line for i, line in enumerate(self.lines)]


#: Commands whose answers name the modem or its SIM (27.007 5, 7.1; V.250 6.1): no message can be in them.
IDENTITY_COMMANDS = ("AT+CGSN", "AT+GSN", "AT+CIMI", "AT+CCID", "AT+QCCID", "AT+ICCID", "AT^ICCID", "ATI",
                     "AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+GMI", "AT+GMM", "AT+GMR", "AT+CNUM")
#: An identity answer line: an IMEI, IMSI or ICCID, bare or after its label ("+CGSN: ", "IMEI: "), or +CNUM's.
_IDENTITY_LINE = re.compile(r'(?:[+^]?[A-Z][A-Za-z ]{0,11}:\s*)?"?[0-9]{9,20}F?"?'
                            r'|\+CNUM: "[^"]{0,32}","\+?[0-9]{3,20}",1[0-9]{2}(?:,\d{1,3}){0,2}'
                            r'|(?:Manufacturer|Model|Revision|\+GCAP): [A-Za-z0-9 ._+,-]{1,60}')
#: A text-mode message header (27.005 3.4.2/3.4.3/3.4.1): fields only; its message text is the next line.
_HEADER_LINE = re.compile(r'\+CMG[LR]: (?:\d{1,3},)?"[A-Z ]{8,10}","\+?[0-9A-Za-z ]{0,20}",(?:"[^"]{0,20}")?,'
                          r'"\d\d/\d\d/\d\d,\d\d:\d\d:\d\d[+-]\d\d"(?:,\d{1,3})*(?:,"\+?\d{0,20}",\d{1,3},\d{1,3})?')


def holds_no_message(command: str, line: str) -> bool:
    """The line is, by its command and its shape, one that carries no message text: it may be logged as it
    is (an IMEI, an ICCID, a sender's number stay readable). Anything else is masked by the usual rules."""
    command = command.upper()
    if command.startswith(IDENTITY_COMMANDS) and _IDENTITY_LINE.fullmatch(line):
        return True
    return command.startswith(("AT+CMGL", "AT+CMGR")) and _HEADER_LINE.fullmatch(line) is not None


class ModemLink:
    """Reads the port in a thread; the caller sends with ``start`` and waits on ``cond`` for ``Exchange.done``."""

    def __init__(self, port: serial.SerialBase, log: SerialLog, name: str) -> None:
        self.port = port
        self.log = log
        self.cond = threading.Condition()
        self.exchange: Exchange | None = None
        self.urcs: deque[str] = deque(maxlen=KEEP_URCS)
        self.delivered: deque[Delivery] = deque(maxlen=KEEP_DELIVERED)
        self.urc_count = 0
        self.unfinished = b""   # the start of a line still without its end (for errors)
        self.unfinished_size = 0
        self.dead: Exception | None = None
        self.extra_urcs: tuple[str, ...] = ()    # the vendor's own unsolicited lines (harness.modem.quirks)
        self.extra_errors: tuple[str, ...] = ()  # the vendor's own words for ERROR
        self.restart_lines: tuple[str, ...] = ("RDY", "+CFUN: 1", "+CPIN: READY")
        self.restarts = 0                        # restart announcements seen (RDY, ^SYSSTART, ...)
        self._cmt_header: str | None = None
        self._buf = bytearray()
        self._cut = 0  # bytes of the current line thrown away past MAX_LINE
        self._reader = PortReader(lambda: self.port, self._take, self._lost, name, MAX_LINE).start()

    # ------------------------------------------------------------------ reading
    def _lost(self, exc: Exception) -> bool:
        """The port went away: the modem is dead to its waiters (``GsmModem.recover`` opens it again)."""
        with self.cond:
            self.dead = exc
            self.cond.notify_all()
        return False

    def _take(self, chunk: bytes) -> None:
        buf = self._buf
        buf += chunk
        start, notify = 0, False
        with self.cond:
            while True:
                end = buf.find(b"\n", start)
                if end < 0:
                    break
                notify |= self._route_locked(bytes(buf[start:end]).rstrip(b"\r").decode("latin-1"), self._cut)
                start, self._cut = end + 1, 0
            if notify:
                self.cond.notify_all()
        del buf[:start]
        self.log.flush()
        if len(buf) > MAX_LINE:  # a line with no end in sight: keep its start, count the rest
            self._cut += len(buf) - MAX_LINE
            del buf[MAX_LINE:]
        self.unfinished, self.unfinished_size = bytes(buf[:160]), len(buf) + self._cut

    def _log(self, *parts: str, plain: bool = False) -> None:
        self.log.write(*parts, flush=False, plain=plain)  # the read loop flushes once per chunk

    def _log_body(self, line: str) -> None:
        """A message's text or PDU is never logged, only its size: it holds the code."""
        if is_pdu(line):
            self._log("<< message", pdu_note(line))
        else:
            self._log("<< message text:", f"[{len(line)} chars]")

    def _route_locked(self, line: str, cut: int) -> bool:
        """File one line where it belongs; True when a waiter may care (an answer ended, a URC or text came)."""
        ex = self.exchange
        if self._cmt_header is not None:  # the text line of a +CMT delivery
            header, self._cmt_header = self._cmt_header, None
            self._log_body(line)
            self.delivered.append(Delivery(header, line))
            self.urc_count += 1
            return True
        if ex is not None and not ex.done and ex.expect_body:
            ex.expect_body = False
            self._log_body(line)
            self._add(ex, line, cut, text=True)
            return False
        if not line.strip():
            return False
        logged = f"{line} ... (+{cut} more bytes cut)" if cut else line
        if line.startswith("+CMT:") and not (ex and ex.command.upper().startswith("AT+CMT")):
            self._log("<< urc", logged)
            self._cmt_header = line
            return False
        pending = ex.command if ex is not None and not ex.done else None
        if is_urc(line, pending) or (line.startswith(self.extra_urcs) and not (
                pending and pending.upper().startswith("AT" + line.split(":")[0]))):
            self._log("<< urc", logged)
            if line.strip() in self.restart_lines:
                self.restarts += 1
            self.urcs.append(line)
            self.urc_count += 1
            return True
        if ex is None or ex.done:
            self._log("<< stray", logged)
            return False
        self._log("<<", logged, plain=not cut and holds_no_message(ex.command, line))
        if line == ex.command:  # echo (ATE1)
            return False
        if is_final(line) or line.startswith(self.extra_errors):
            if line.isprintable():
                ex.final = line
            else:
                ex.garbled = line
            return True
        if damaged_final(line):
            ex.garbled = line
            return True
        if line.startswith(("+CMGL:", "+CMGR:")):
            ex.expect_body = True
        self._add(ex, line, cut)
        return False

    @staticmethod
    def _add(ex: Exchange, line: str, cut: int, text: bool = False) -> None:
        size = len(line) + 2 + cut
        if ex.size + size > ex.max_answer:
            ex.left_out += size
            return
        ex.size += size
        if text:
            ex.texts.add(len(ex.lines))
        ex.lines.append(line)

    # ------------------------------------------------------------------ writing
    def start(self, command: str, max_answer: int = MAX_ANSWER) -> Exchange:
        """Make ``command`` the one in flight and send it (the caller holds no lock)."""
        ex = Exchange(command, max_answer)
        with self.cond:
            self.exchange = ex
        self.log.write(">>", command)
        self.port.write(command.encode("latin-1") + b"\r")
        return ex

    def close(self) -> None:
        self._reader.stop()
