"""A small modem on a pty that stores and delivers messages in PDU mode, written for the tests (no harness imports).

Its PDUs come from ``sms_encoder``; its answers follow 27.005 (+CMGL/+CMGR
headers with <length>, +CMTI, +CMT with the PDU on the next line). It can
be told to refuse PDU mode, to add a vendor's unsolicited lines and error
words, to restart (``RDY``, ``+CFUN: 1``, ``+CPIN: READY``) and to lose its
port and come back (the test's URL is a symlink that is re-pointed).
"""

from __future__ import annotations

import os
import select
import threading
import tty
from pathlib import Path

import sms_encoder as enc


class PduModem:
    def __init__(self, link: Path, pdu: bool = True, maker: str = "Generic Modems Inc.") -> None:
        self.link = link
        self.pdu = pdu
        self.maker = maker
        self.text_mode = True
        self.stored: dict[int, tuple[str, int]] = {}   # index -> (hex PDU, TPDU length)
        self.status: dict[int, int] = {}
        self.commands: list[str] = []
        self.extra_lines: list[str] = []   # vendor URCs sent before every answer (Huawei ^RSSI ...)
        self.error_word = "ERROR"
        self.refuse: set[str] = set()     # commands (upper case, exact) answered with the error word
        self.cmt = False                  # deliver by +CMT instead of storing with +CMTI
        self.setup_done = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._open()
        self._thread = threading.Thread(target=self._loop, name="pdu modem", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.link)

    # ------------------------------------------------------------------ the test's side
    def store(self, m: enc.Message) -> int:
        with self._lock:
            index = max(self.stored, default=0) + 1
            self.stored[index] = enc.encode(m)
            self.status[index] = 0
        self.send(f'\r\n+CMTI: "SM",{index}\r\n')
        return index

    def deliver(self, m: enc.Message) -> None:
        hex_pdu, length = enc.encode(m)
        self.send(f"\r\n+CMT: ,{length}\r\n{hex_pdu}\r\n")

    def restart(self, lines: tuple[str, ...] = ("RDY", "+CFUN: 1", "+CPIN: READY", "SMS DONE")) -> None:
        """Announce a restart, then answer as a modem just powered on (text mode, nothing set up)."""
        self.setup_done.clear()
        self.send("".join(f"\r\n{line}\r\n" for line in lines))
        self.text_mode = True

    def lose_port(self) -> None:
        """The USB serial goes away (the driver's reads fail); ``come_back`` makes a new one at the same path."""
        with self._lock:
            for fd in (self.master, self._slave):
                os.close(fd)
            self.master = -1
        self.link.unlink()

    def come_back(self) -> None:
        with self._lock:
            self.text_mode = True
            self.setup_done.clear()
            self._open()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            if self.master >= 0:
                for fd in (self.master, self._slave):
                    os.close(fd)
                self.master = -1

    # ------------------------------------------------------------------ the wire
    def send(self, text: str) -> None:
        data = memoryview(text.encode("latin-1"))
        while data and not self._stop.is_set():
            with self._lock:
                if self.master < 0:
                    return
                if not select.select([], [self.master], [], 0.05)[1]:
                    continue
                n = os.write(self.master, data)
            data = data[n:]

    def _loop(self) -> None:
        buf = b""
        while not self._stop.is_set():
            with self._lock:
                fd = self.master
            if fd < 0:
                self._stop.wait(0.02)
                continue
            try:
                ready = select.select([fd], [], [], 0.05)[0]
                chunk = os.read(fd, 4096) if ready else b""
            except OSError:
                continue
            buf += chunk
            while b"\r" in buf:
                raw, buf = buf.split(b"\r", 1)
                line = raw.strip().decode("latin-1")
                if line:
                    self.commands.append(line)
                    self.send("".join(f"\r\n{x}\r\n" for x in self.extra_lines) + self.answer(line))

    def answer(self, line: str) -> str:
        up = line.upper()
        ok, err = "\r\nOK\r\n", f"\r\n{self.error_word}\r\n"
        if up in self.refuse:
            return err
        if up in ("AT", "ATE0", "AT+CMEE=1", 'AT+CSCS="GSM"', "AT+CSDH=0") or up.startswith("AT+CNMI="):
            if up.startswith("AT+CNMI="):
                self.setup_done.set()
            return ok
        if up == "AT+CGMI":
            return f"\r\n{self.maker}\r\n" + ok
        if up == "AT+CPIN?":
            return "\r\n+CPIN: READY\r\n" + ok
        if up == "AT+CMGF=?":
            return ("\r\n+CMGF: (0,1)\r\n" if self.pdu else "\r\n+CMGF: (1)\r\n") + ok
        if up in ("AT+CMGF=0", "AT+CMGF=1"):
            if up.endswith("0") and not self.pdu:
                return err
            self.text_mode = up.endswith("1")
            return ok
        if up == "AT+CPMS=?":
            return '\r\n+CPMS: ("SM","ME"),("SM","ME"),("SM")\r\n' + ok
        if up.startswith("AT+CPMS="):
            return f"\r\n+CPMS: {len(self.stored)},30,{len(self.stored)},30,{len(self.stored)},30\r\n" + ok
        if up == "AT+CNMI=?":
            return "\r\n+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)\r\n" + ok
        if up == "AT+CMGL=?":
            return ("\r\n+CMGL: (0-4)\r\n" + ok) if not self.text_mode else err
        if self.text_mode and up.startswith(("AT+CMGL", "AT+CMGR")):
            return "\r\n+CMS ERROR: 302\r\n"
        with self._lock:
            if up.startswith("AT+CMGL="):
                out = ""
                for index, (hex_pdu, length) in sorted(self.stored.items()):
                    out += f"\r\n+CMGL: {index},{self.status[index]},,{length}\r\n{hex_pdu}"
                    self.status[index] = 1
                return out + ("\r\n" if out else "") + ok
            if up.startswith("AT+CMGR="):
                index = int(up[8:] or 0)
                if index not in self.stored:
                    return "\r\n+CMS ERROR: 321\r\n"
                hex_pdu, length = self.stored[index]
                return f"\r\n+CMGR: {self.status[index]},,{length}\r\n{hex_pdu}\r\n" + ok
            if up.startswith("AT+CMGD="):
                index = int(up[8:].split(",")[0] or 0)
                if self.stored.pop(index, None) is None:
                    return "\r\n+CMS ERROR: 321\r\n"
                return ok
        return err
