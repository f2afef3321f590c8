"""An emulated GSM modem on a pty, as lab modems behave: V.250 command lines, 27.007/27.005 SMS in PDU and text mode.

It registers its SIM's number with the emulated mobile network, so the access
codes the emulated account service sends to that number arrive here, as
SMS-DELIVER parts stored in the receiving memory (+CMTI) or routed straight
to the terminal (+CMT), as the client's +CNMI says. ``--modem-vendor`` picks
the vendor whose habits it has (``modem_vendors``); a restart (``AT+CFUN=1,1``
or the control socket's ``modem_restart``) prints the boot lines and forgets
the client's settings, as a real modem does.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any

from harness.emulator.modem_commands import CME_TEXT, AtError, Commands, Prompt
from harness.emulator.modem_line import LineError, Settings, parse
from harness.emulator.modem_sms import SCA, Memories, StatusReport, pdu_direct, text_direct
from harness.emulator.modem_submit import CTRL_Z, ESC, SubmitError, decode_pdu, decode_text
from harness.emulator.modem_vendors import vendor as vendor_profile
from harness.emulator.modem_usb import UsbPorts
from harness.emulator.pty_port import PtyPort
from harness.emulator.transport_service import CommandHandler
from harness.emulator.sms import TextMessage
from harness.emulator.sms_pdu import DeliverPart, encode_deliver, encode_scts

#: The longest command line the modem takes (27.007 asks for at least 80 characters); longer input is refused.
MAX_COMMAND = 4096
#: How long the network takes to carry a message this modem sent (its +CMGS answer comes first).
NETWORK_DELAY = 0.2
#: How long a Huawei ^RSSI/^HCSQ report waits to ride inside the next answer before it goes out on its own.
CARET_HOLD = 1.0


class EmulatedModem:
    """One modem: its ports (two for Quectel: "usbmodem" and "usbat"), its SIM and its memories."""

    def __init__(self, number: str, network: Any, boot_lines: bool = True, vendor: str = "generic",
                 reenumerate: bool = False, delivery: str = "vendor") -> None:
        """``reenumerate``: every restart takes the ports away and back (a USB modem); ``delivery`` "cmti" or
        "cmt": the +CNMI it powers up with (a saved profile), "vendor": the vendor's own."""
        if delivery not in ("vendor", "cmti", "cmt"):
            raise ValueError(f"modem delivery {delivery!r}: expected vendor, cmti or cmt")
        self.number = number
        self.reenumerate = reenumerate
        self.delivery = delivery
        self.network = network
        self.vendor = vendor_profile(vendor)
        self.imsi = "00101" + "".join(ch for ch in number if ch.isdigit())[-10:].rjust(10, "0")
        names = ["usbmodem", "usbat"] if self.vendor.urc_port else ["usbmodem"]
        self.port_names = names
        self.usb = UsbPorts(f"modem {number}", names, [self._reader(i) for i in range(len(names))])
        self._bufs = [b""] * len(names)
        first = 0 if self.vendor.name in ("quectel", "simcom") else 1
        mems = {m for group in self.vendor.memories for m in group} | {"SR"}
        self.store = Memories(mems, self.vendor.capacity, first)
        self.cmds = Commands(self)
        self.boot_lines = boot_lines
        self.slow = 0.0
        self.rssi = 21
        self.booting = False
        self._lock = threading.RLock()
        self._refs = itertools.count(1)
        self._pending: list[TextMessage] = []     # arrived while the modem was down
        self._carets: list[str] = []
        self._commands: queue.Queue[tuple[int, str | bytes] | None] = queue.Queue()
        self._composing: list[tuple[int, str] | None] = [None for _ in names]  # +CMGS: (mode, <length>/<da>)
        self._last_prompt: list[tuple[int, str]] = [(0, "") for _ in names]
        self._mr = 0
        self._stopping = threading.Event()
        self._last_line = ["" for _ in names]
        self._power_up()
        self._worker = threading.Thread(target=self._answer_loop, name=f"modem {number} AT", daemon=True)

    def _power_up(self) -> None:
        """What a modem holds after power-up: factory settings on every port, the vendor's storages and +CNMI."""
        self.settings = [Settings() for _ in self.port_names]
        self.saved = [Settings() for _ in self.port_names]
        self.cpms = list(self.vendor.default_memories)
        self.cnmi: tuple[int, ...] = self.vendor.cnmi_default
        if self.delivery != "vendor":  # indications at once (<mode> 2), stored (+CMTI) or routed (+CMT)
            self.cnmi = ((2, 1 if self.delivery == "cmti" else 2) + (0,) * 3)[:len(self.vendor.cnmi_default)]
        self.urc_port_name = "usbat"
        self.curc = True
        self.cfun = 1
        self.creg: dict[str, int] = {}
        self.cops_format = 0
        self._held: list[tuple[str, ...]] = []

    def start(self) -> dict[str, Any]:
        paths = self.usb.plug()
        self._worker.start()
        self.network.register(self.number, self.receive)
        if self.boot_lines:
            self._boot_lines()
        out = {"modem": paths[0], "modem_number": self.number, "modem_vendor": self.vendor.name}
        if len(paths) > 1:
            out["modem_usbat"] = paths[1]
        return out

    def stop(self) -> None:
        self.network.unregister(self.number)
        self._stopping.set()
        self._commands.put(None)
        self._worker.join(timeout=2)
        self.usb.stop()

    # ------------------------------------------------------------------ power
    def _boot_lines(self) -> None:
        for i, port in enumerate(self.ports):
            port.write(self.settings[i].info(*self.vendor.boot).encode("latin-1"))
        if self.vendor.caret_reports:
            self._caret(f"^RSSI: {self.rssi}", self._hcsq(), "^MODE: 7,17")

    @property
    def ports(self) -> list[PtyPort]:
        return self.usb.ports

    def restart(self, down: float = 0.5, reenumerate: bool | None = None) -> None:
        """Go down for ``down`` seconds (commands unanswered, messages held by the network), then boot afresh;
        ``reenumerate`` (default: the modem's own): the ports go away meanwhile and come back, as on USB."""
        with self._lock:
            self.booting = True
            self._power_up()
        again = self.reenumerate if reenumerate is None else reenumerate
        if again:
            self.usb.unplug()
        threading.Thread(target=self._come_back, args=(down, again), name="modem restart", daemon=True).start()

    def restart_later(self) -> None:
        """AT+CFUN=1,1: the OK goes out first, then the modem resets."""
        self._commands.put((-1, "restart"))

    def _come_back(self, down: float, plug: bool) -> None:
        if self._stopping.wait(down):
            return
        with self._lock:
            if plug:
                self.usb.plug()
            self._bufs = [b""] * len(self.ports)
            self._boot_lines()
            self.booting = False
            pending, self._pending = self._pending, []
        for message in pending:
            self.receive(message)

    # ------------------------------------------------------------------ the network side
    def receive(self, message: TextMessage) -> None:
        """A message for this SIM: its parts stored (+CMTI) or routed to the terminal (+CMT)."""
        parts = encode_deliver(message.sender, message.body, message.sent_at, message.tz_quarters,
                               message.encoding, message.reference or next(self._refs), message.ref16,
                               message.message_class)
        with self._lock:
            if self.booting or self.cfun != 1:
                self._pending.append(message)
                return
            for part in parts:
                self._deliver(part)

    def _deliver(self, part: DeliverPart) -> None:
        mt = self.cnmi[1] if len(self.cnmi) > 1 else 0
        klass = part.dcs & 3 if part.dcs & 0xD0 == 0x10 else None
        port = self._urc_port()
        if (mt == 2 and klass != 2 or mt == 3 and klass == 3) and port is not None:
            s = self.settings[port]
            self._indicate(*(pdu_direct(part) if s.cmgf == 0 else text_direct(part, s.cscs, s.csdh)))
            return
        memory = "SM" if klass == 2 else self.cpms[2]
        index = self.store.store(memory, part)
        if index is not None and mt in (1, 2, 3):
            self._indicate(f'+CMTI: "{memory}",{index}')

    def _urc_port(self) -> int | None:
        if not self.vendor.urc_port:
            return 0
        return {"usbmodem": 0, "usbat": 1}.get(self.urc_port_name)  # "uart1": nobody listens there

    def _indicate(self, *lines: str) -> None:
        """A message indication: held in the TA under +CNMI mode 0, else sent to the URC port."""
        if self.cnmi[0] == 0:
            self._held.append(lines)
            return
        self._urc(*lines)

    def _urc(self, *lines: str) -> None:
        port = self._urc_port()
        if port is not None:
            self.ports[port].write(self.settings[port].info(*lines).encode("latin-1", "replace"))

    def set_cnmi(self, cnmi: tuple[int, ...]) -> None:
        """+CNMI set: a mode other than 0 flushes what the TA held (<bfr> 0) or drops it (<bfr> 1)."""
        self.cnmi = cnmi
        if cnmi[0] != 0 and self._held:
            held, self._held = self._held, []
            if len(cnmi) < 5 or cnmi[4] == 0:
                for lines in held:
                    self._urc(*lines)

    # ------------------------------------------------------------------ Huawei's ^ reports
    def _hcsq(self) -> str:
        return f'^HCSQ: "LTE",{min(97, self.rssi * 2 + 30)},{min(97, self.rssi * 2)},{min(251, self.rssi * 6)},30'

    def _caret(self, *lines: str) -> None:
        """Queue ^ reports to ride inside the next answer; alone after CARET_HOLD if no command comes."""
        if not (self.vendor.caret_reports and self.curc):
            return
        with self._lock:
            self._carets.extend(lines)
        timer = threading.Timer(CARET_HOLD, self._flush_carets)
        timer.daemon = True
        timer.start()

    def _flush_carets(self) -> None:
        with self._lock:
            lines, self._carets = self._carets, []
            if lines and not self.booting and not self._stopping.is_set():
                self._urc(*lines)

    def set_signal(self, rssi: int) -> None:
        self.rssi = rssi
        self._caret(f"^RSSI: {rssi}", self._hcsq())

    # ------------------------------------------------------------------ the AT side
    def _reader(self, port: int) -> Any:
        def on_data(data: bytes) -> None:
            """Echo at once, as a modem does; answer from the AT thread, in order."""
            if self.booting:
                return
            self._bufs[port] += data
            if self._composing[port] is not None:
                data = self._bufs[port]
                end = next((i for i, b in enumerate(data) if b in (CTRL_Z, ESC)), -1)
                if self.settings[port].echo:
                    self.ports[port].write(data if end < 0 else data[:end])
                if end < 0:
                    return
                self._composing[port], payload = None, data[:end + 1]
                self._bufs[port] = data[end + 1:]
                self._commands.put((port, payload))
                return
            while b"\r" in self._bufs[port]:
                raw, self._bufs[port] = self._bufs[port].split(b"\r", 1)
                line = raw.decode("latin-1").strip().lstrip("\n")
                if self.settings[port].echo:
                    self.ports[port].write(raw.lstrip(b"\n") + b"\r")
                if line:
                    self._commands.put((port, line))
            if len(self._bufs[port]) > MAX_COMMAND:  # no end of line in sight: refused, as a modem's buffer overflows
                self._bufs[port] = b""
                self._commands.put((port, ""))
        return on_data

    def _answer_loop(self) -> None:
        while True:
            item = self._commands.get()
            if item is None:
                return
            port, line = item
            if port < 0:
                self.restart()
                continue
            if self.slow:
                self._stopping.wait(self.slow)  # only this thread waits: the port keeps reading and writing
            with self._lock:
                if self.booting:
                    continue
                out = self._submit(port, line) if isinstance(line, bytes) else self._answer(port, line)
                self.ports[port].write(out.encode("latin-1", "replace"))

    def _answer(self, port: int, line: str) -> str:
        s = self.settings[port]
        if line.upper() == "A/":  # repeat the last command line (V.250 5.2.4)
            line = self._last_line[port]
        start = line.upper().find("AT")
        if not line or start < 0:
            return s.result("ERROR") if not line else ""
        self._last_line[port] = line
        carets, self._carets = self._carets, []
        out = "".join(s.info(c) for c in carets)
        try:
            commands = parse(line[start + 2:])
        except LineError:
            return out + s.result("ERROR")
        for cmd in commands:
            try:
                out += self.cmds.run(port, self.settings[port], cmd)
            except AtError as exc:
                return out + self._error(port, exc)
            except Prompt as prompt:
                self._composing[port] = self._last_prompt[port] = (self.settings[port].cmgf, prompt.argument)
                return out + "\r\n> "
        return out + self.settings[port].result("OK")

    # ------------------------------------------------------------------ sending (+CMGS) and status reports
    def _submit(self, port: int, payload: bytes) -> str:
        """The message after a +CMGS prompt: sent (Ctrl-Z) or cancelled (ESC)."""
        s, (mode, argument) = self.settings[port], self._last_prompt[port]
        if payload[-1] == ESC:
            return s.result("OK")
        try:
            sub = (decode_pdu(payload[:-1].decode("latin-1"), int(argument)) if mode == 0
                   else decode_text(payload[:-1], argument, s.cscs, s.csmp[0]))
        except SubmitError as exc:
            return s.result(f"+CMS ERROR: {exc.cms}")
        self._mr = (self._mr + 1) % 256
        mr, sent_at = self._mr, time.time()

        def report(delivered: bool) -> None:
            with self._lock:
                self._report(StatusReport(mr, sub.destination, encode_scts(sent_at), encode_scts(time.time()),
                                          0 if delivered else 0x41))

        def carry() -> None:  # the message reaches its recipient; the report comes back a moment later
            delivered = self.network.send(sub.destination, self.number, sub.text)
            if sub.report:
                self._later(report, delivered)
        self._later(carry)
        return s.info(f"+CMGS: {mr}") + s.result("OK")

    def _later(self, what: Any, *args: Any) -> None:
        timer = threading.Timer(NETWORK_DELAY, what, args)
        timer.daemon = True
        timer.start()

    def _report(self, report: StatusReport) -> None:
        """A status report, as +CNMI <ds> says: +CDS (1) or stored in "SR" and announced by +CDSI (2)."""
        ds = self.cnmi[3] if len(self.cnmi) > 3 else 0
        port = self._urc_port()
        if ds == 1 and port is not None:
            s = self.settings[port]
            if s.cmgf == 0:
                self._indicate(f"+CDS: {len(report.tpdu)}", (SCA + report.tpdu).hex().upper())
            else:
                self._indicate(f'+CDS: {report.fo},{report.reference},"{report.recipient}",145,'
                               f'"{report.sent[1]}","{report.done[1]}",{report.status}')
        elif ds == 2:
            index = self.store.store("SR", report)
            if index is not None:  # Quectel announces it in "SM" while keeping it in "SR"
                self._indicate(f'+CDSI: "{self.vendor.report_announced_in or "SR"}",{index}')

    def _error(self, port: int, exc: AtError) -> str:
        s = self.settings[port]
        if exc.cms is not None:
            return s.result(f"+CMS ERROR: {exc.cms}")
        if exc.unknown:
            return s.result(self.vendor.unknown)
        if s.cmee == 1:
            return s.result(f"+CME ERROR: {exc.cme}")
        if s.cmee == 2:
            return s.result(f"+CME ERROR: {CME_TEXT.get(exc.cme or 0, 'unknown')}")
        return s.result("ERROR")

    # ------------------------------------------------------------------ control socket
    def commands(self) -> dict[str, CommandHandler]:
        from harness.emulator.modem_control import control_commands

        return control_commands(self)


def modem_service(phone: Any, options: dict[str, Any]) -> EmulatedModem:
    """Factory for the emulator host: the modem whose SIM holds ``options['modem_number']``."""
    return EmulatedModem(options.get("modem_number") or "+15550100", phone.sms,
                         vendor=options.get("modem_vendor") or "generic",
                         reenumerate=bool(options.get("modem_reenumerate")),
                         delivery=options.get("modem_delivery") or "vendor")
