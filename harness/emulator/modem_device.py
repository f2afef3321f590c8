"""An emulated GSM modem on a pty: its own SIM number, SM storage, text-mode AT commands, +CMTI.

It registers its number with the emulated mobile network, so the access codes
that the emulated account service sends to that number arrive here.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from harness.emulator.pty_port import FAULT_USAGE, PtyPort, apply_fault
from harness.emulator.service import CommandHandler, takes
from harness.emulator.sms import TextMessage

CAPACITY = 30
#: The longest command line the modem takes (27.007 asks for at least 80 characters); longer input is refused.
MAX_COMMAND = 4096


@dataclass
class Stored:
    index: int
    status: str  # REC UNREAD / REC READ
    sender: str
    received: float
    body: str


def scts(ts: float) -> str:
    t = time.gmtime(ts)
    return time.strftime("%y/%m/%d,%H:%M:%S", t) + "+00"


class EmulatedModem:
    """Speaks the AT commands the harness's modem driver (and typical modem libraries) use."""

    def __init__(self, number: str, network: Any, boot_lines: bool = True) -> None:
        self.number = number
        self.network = network
        self.port = PtyPort(f"modem {number}", self._on_data)
        self.echo = True
        self.cmee = 0
        self.text_mode = False
        self.csdh = 0
        self.cnmi_mt = 0
        self.messages: dict[int, Stored] = {}
        self._buf = b""
        self._lock = threading.Lock()
        self.boot_lines = boot_lines
        self.slow = 0.0
        self._commands: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._answer_loop, name=f"modem {number} AT", daemon=True)

    def start(self) -> dict[str, Any]:
        path = self.port.start()
        self._worker.start()
        self.network.register(self.number, self.receive)
        if self.boot_lines:
            self.port.write(b"\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n")
        return {"modem": path, "modem_number": self.number}

    def stop(self) -> None:
        self.network.unregister(self.number)
        self._stopping.set()
        self._commands.put(None)
        self._worker.join(timeout=2)
        self.port.stop()

    # ------------------------------------------------------------------ the network side
    def receive(self, message: TextMessage) -> None:
        with self._lock:
            if self.cnmi_mt == 2:  # routed to the TE directly (27.005 3.4.1 <mt>=2), not stored
                self.port.write(f'\r\n+CMT: "{message.sender}",,"{scts(message.sent_at)}"{self._header_extra()}\r\n'
                                f'{message.body}\r\n'.encode("latin-1", "replace"))
                return
            free = next((i for i in range(1, CAPACITY + 1) if i not in self.messages), None)
            if free is None:
                return  # storage full: the network keeps it (as a real SMSC would retry)
            self.messages[free] = Stored(free, "REC UNREAD", message.sender, message.sent_at, message.body)
            notify = self.cnmi_mt in (1, 3)
        if notify:
            self.port.write(f'\r\n+CMTI: "SM",{free}\r\n'.encode())

    # ------------------------------------------------------------------ the AT side
    def _on_data(self, data: bytes) -> None:
        """Echo at once, as a modem does character by character; answer from the AT thread, in order."""
        self._buf += data
        while b"\r" in self._buf:
            raw, self._buf = self._buf.split(b"\r", 1)
            line = raw.decode("latin-1").strip().lstrip("\n")
            if not line:
                continue
            if self.echo:
                self.port.write(raw + b"\r\n")
            self._commands.put(line)
        if len(self._buf) > MAX_COMMAND:  # no end of line in sight: refuse it, as a modem's line buffer overflows
            self._buf = b""
            self._commands.put("")

    def _answer_loop(self) -> None:
        while True:
            line = self._commands.get()
            if line is None:
                return
            if self.slow:
                self._stopping.wait(self.slow)  # only this thread waits: the port keeps reading and writing
            self.port.write(self._answer(line).encode("latin-1", "replace") if line else b"\r\nERROR\r\n")

    def _error(self, code: int, sms: bool = False) -> str:
        if sms:
            return f"\r\n+CMS ERROR: {code}\r\n"
        return f"\r\n+CME ERROR: {code}\r\n" if self.cmee else "\r\nERROR\r\n"

    def _answer(self, line: str) -> str:
        up = line.upper()
        if not up.startswith("AT"):
            return "\r\nERROR\r\n"
        cmd = up[2:]
        ok = "\r\nOK\r\n"
        if cmd == "":
            return ok
        if cmd in ("E0", "E1"):
            self.echo = cmd == "E1"
            return ok
        m = re.fullmatch(r"\+CMEE=([012])", cmd)
        if m:
            self.cmee = int(m.group(1))
            return ok
        if cmd == "+CPIN?":
            return "\r\n+CPIN: READY\r\n" + ok
        if cmd in ("+CMGF=0", "+CMGF=1"):
            self.text_mode = cmd.endswith("1")
            return ok
        if cmd == "+CMGF?":
            return f"\r\n+CMGF: {int(self.text_mode)}\r\n" + ok
        if cmd.startswith("+CSCS="):
            return ok if cmd[6:].strip('"') in ("GSM", "IRA", "UCS2") else self._error(4)
        if cmd in ("+CSDH=0", "+CSDH=1"):
            self.csdh = int(cmd[-1])
            return ok
        if cmd == "+CPMS=?":
            return '\r\n+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")\r\n' + ok
        if cmd.startswith("+CPMS="):
            if any(s not in ('"SM"', '"ME"') for s in cmd[6:].split(",")):
                return self._error(302, sms=True)
            used = len(self.messages)
            return f"\r\n+CPMS: {used},{CAPACITY},{used},{CAPACITY},{used},{CAPACITY}\r\n" + ok
        if cmd == "+CNMI=?":
            return "\r\n+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)\r\n" + ok
        m = re.fullmatch(r"\+CNMI=(\d)(?:,(\d))?(?:,(\d))?(?:,(\d))?(?:,(\d))?", cmd)
        if m:
            self.cnmi_mt = int(m.group(2) or 0)
            return ok
        if cmd == "+CNUM":
            return f'\r\n+CNUM: "","{self.number}",145\r\n' + ok
        if cmd.startswith("+CMGL") or cmd.startswith("+CMGR") or cmd.startswith("+CMGD"):
            if not self.text_mode:
                return self._error(302, sms=True)
            return self._messages(line[2:])
        return self._error(4) if self.cmee else "\r\nERROR\r\n"

    def _header_extra(self) -> str:
        return ",145,4" if self.csdh else ""

    def _messages(self, cmd: str) -> str:
        ok = "\r\nOK\r\n"
        up = cmd.upper()
        with self._lock:
            m = re.fullmatch(r'\+CMGL(?:="([A-Z ]+)")?', up)
            if m:
                wanted = m.group(1) or "REC UNREAD"
                if wanted not in ("ALL", "REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"):
                    return "\r\n+CMS ERROR: 302\r\n"
                out = ""
                for index in sorted(self.messages):
                    sms = self.messages[index]
                    if wanted in ("ALL", sms.status):
                        out += f'\r\n+CMGL: {index},"{sms.status}","{sms.sender}",,"{scts(sms.received)}"{self._header_extra()}\r\n{sms.body}'
                        sms.status = "REC READ"
                return out + ("\r\n" if out else "") + ok
            m = re.fullmatch(r"\+CMGR=(\d+)", up)
            if m:
                sms = self.messages.get(int(m.group(1)))
                if sms is None:
                    return "\r\n+CMS ERROR: 321\r\n"
                out = f'\r\n+CMGR: "{sms.status}","{sms.sender}",,"{scts(sms.received)}"{self._header_extra()}\r\n{sms.body}\r\n'
                sms.status = "REC READ"
                return out + ok
            m = re.fullmatch(r"\+CMGD=(\d+)(?:,(\d))?", up)
            if m:
                index, flag = int(m.group(1)), int(m.group(2) or 0)
                if flag == 4:
                    self.messages.clear()
                elif flag == 1:
                    self.messages = {i: s for i, s in self.messages.items() if s.status != "REC READ"}
                elif index in self.messages:
                    del self.messages[index]
                elif flag == 0:
                    return "\r\n+CMS ERROR: 321\r\n"
                return ok
        return "\r\n+CMS ERROR: 302\r\n"

    def commands(self) -> dict[str, CommandHandler]:
        def inbox(req: dict[str, Any]) -> dict[str, Any]:
            with self._lock:
                return {"messages": [{"index": s.index, "status": s.status, "sender": s.sender} for s in self.messages.values()]}

        def slow(req: dict[str, Any]) -> dict[str, Any]:
            self.slow = float(req.get("seconds", 0))
            return {"slow": self.slow}
        return {"modem_inbox": takes("")(inbox), "modem_slow": takes("seconds")(slow),
                "modem_fault": takes(FAULT_USAGE)(lambda req: apply_fault(self.port, req))}


def modem_service(phone: Any, options: dict[str, Any]) -> EmulatedModem:
    """Factory for the emulator host: the modem whose SIM holds ``options['modem_number']``."""
    return EmulatedModem(options.get("modem_number") or "+15550100", phone.sms)
