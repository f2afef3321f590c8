"""A modem on a pty written for the fault tests: a well-behaved core whose answers a test can damage.

It speaks just enough 27.005/27.007 for the harness's driver (set-up, +CNUM,
+CMGL/+CMGD, +CMT delivery), and each fault is a switch: ``noise`` (seeded
random bytes slipped in), ``silent`` (no answer), ``garbage`` (random bytes
instead of answers), ``flood_line``/``flood_lines`` (an answer without end,
as one line or many), ``slow`` (each answer late). It imports no harness code.
"""

from __future__ import annotations

import os
import random
import select
import threading
import time
import tty
from dataclasses import dataclass


@dataclass
class Stored:
    index: int
    sender: str
    scts: str
    body: str


class HostileModem:
    """Owns a pty master; ``path`` is the port the driver opens."""

    def __init__(self, seed: int = 1) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)  # the slave stays open here too, so the master never sees a hang-up
        self.rng = random.Random(seed)
        self.number = "+15550100"
        self.stored: dict[int, Stored] = {}
        self.commands: list[str] = []
        self.noise = 0.0
        self.silent = False
        self.garbage = False
        self.slow = 0.0
        self.flood_on: str | None = None  # a command prefix that starts the flood
        self.flood_kind = "line"          # "line": one line without end; "lines": listing lines without end
        self.flood_limit = 1 << 40        # bytes of one flood; then the final OK
        self.replies: dict[str, bytes] = {}  # a command prefix -> the bytes sent instead of the answer
        self.sent = 0
        self._stop = threading.Event()
        self._out_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="hostile modem", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the test's side
    def store(self, sender: str, body: str, scts: str | None = None) -> int:
        index = max(self.stored, default=0) + 1
        stamp = scts or time.strftime("%y/%m/%d,%H:%M:%S+00", time.gmtime())
        self.stored[index] = Stored(index, sender, stamp, body)
        return index

    def deliver(self, sender: str, body: str) -> None:
        """A message routed straight to the terminal (+CMT, 27.005 3.4.1), not stored."""
        stamp = time.strftime("%y/%m/%d,%H:%M:%S+00", time.gmtime())
        self.send(f'\r\n+CMT: "{sender}",,"{stamp}"\r\n{body}\r\n'.encode("latin-1"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    # ------------------------------------------------------------------ the wire
    def send(self, data: bytes) -> None:
        if self.noise:
            out = bytearray()
            for byte in data:
                if self.rng.random() < self.noise:
                    out.append(self.rng.randrange(256))
                out.append(byte)
            data = bytes(out)
        with self._out_lock:
            view = memoryview(data)
            while view and not self._stop.is_set():
                if not select.select([], [self.master], [], 0.1)[1]:
                    continue
                try:
                    n = os.write(self.master, view)
                except OSError:
                    return
                self.sent += n
                view = view[n:]

    def _loop(self) -> None:
        buf = b""
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                buf += os.read(self.master, 4096)
            except OSError:
                continue
            while b"\r" in buf:
                raw, buf = buf.split(b"\r", 1)
                line = raw.strip().decode("latin-1")
                if line:
                    self.commands.append(line)
                    self._handle(line)

    def _handle(self, line: str) -> None:
        if self.silent:
            return
        if self.garbage:
            self.send(bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 200))))
            return
        if self.slow:
            self._stop.wait(self.slow)
        if self.flood_on and line.upper().startswith(self.flood_on):
            self._flood()
            return
        for prefix, reply in self.replies.items():
            if line.upper().startswith(prefix):
                self.send(reply)
                return
        self.send(self.answer(line).encode("latin-1"))

    def _flood(self) -> None:
        if self.flood_kind == "line":
            chunk = b"+CMGL: " + b"9" * 65536
        else:
            chunk = b''.join(b'+CMGL: %d,"REC READ","+15550199",,"26/11/24,21:00:00+00"\r\nflood %d\r\n' % (i, i)
                             for i in range(500))
        sent = 0
        while sent < self.flood_limit and not self._stop.is_set():
            self.send(chunk)
            sent += len(chunk)
        self.send(b"\r\nOK\r\n")

    def answer(self, line: str) -> str:
        up = line.upper()
        ok = "\r\nOK\r\n"
        if up in ("AT", "ATE0", "ATE1", "AT+CMEE=1", "AT+CMGF=1", 'AT+CSCS="GSM"', "AT+CSDH=0") \
                or up.startswith(("AT+CNMI=", 'AT+CPMS="')):
            return ok
        if up == "AT+CPIN?":
            return "\r\n+CPIN: READY\r\n" + ok
        if up == "AT+CPMS=?":
            return '\r\n+CPMS: ("SM"),("SM"),("SM")\r\n' + ok
        if up == "AT+CNMI=?":
            return "\r\n+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)\r\n" + ok
        if up == "AT+CNUM":
            return f'\r\n+CNUM: "","{self.number}",145\r\n' + ok
        if up.startswith("AT+CMGL"):
            out = "".join(f'\r\n+CMGL: {m.index},"REC READ","{m.sender}",,"{m.scts}"\r\n{m.body}'
                          for m in self.stored.values())
            return out + ("\r\n" if out else "") + ok
        if up.startswith("AT+CMGR="):
            m = self.stored.get(int(up[8:] or 0))
            if m is None:
                return "\r\n+CMS ERROR: 321\r\n"
            return f'\r\n+CMGR: "REC READ","{m.sender}",,"{m.scts}"\r\n{m.body}\r\n' + ok
        if up.startswith("AT+CMGD="):
            index = int(up[8:].split(",")[0] or 0)
            if self.stored.pop(index, None) is None:
                return "\r\n+CMS ERROR: 321\r\n"
            return ok
        return "\r\nERROR\r\n"
