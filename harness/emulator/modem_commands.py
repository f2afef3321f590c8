"""The emulated modem's commands: V.250 basics, 27.007 identification and network, 27.005 messages.

Each handler takes the port's settings and the command and returns its
information text, or raises ``AtError`` (ERROR, +CME ERROR or +CMS ERROR, as
27.007 9.2 and 27.005 3.2.5 number them). The modem (``modem_device``) owns
the state they read and change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from harness.emulator.modem_line import Command, Settings
from harness.emulator.modem_sms import (STATUS_TEXT, SMSC, pdu_listing, pdu_read, te_string, text_listing,
                                         text_read)

if TYPE_CHECKING:
    from harness.emulator.modem_device import EmulatedModem

CME_TEXT = {3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
            21: "invalid index", 50: "incorrect parameters"}
CHARSETS = ("GSM", "IRA", "8859-1", "UCS2")
Handler = Callable[[int, Settings, Command], str]


class Prompt(Exception):
    """+CMGS: the modem prompts for the message (27.005 3.5.1); ``argument`` is <length> or <da>."""

    def __init__(self, argument: str) -> None:
        super().__init__(argument)
        self.argument = argument


class AtError(Exception):
    """A command's failure: ``unknown`` (not a command of this modem), a +CME or a +CMS error number."""

    def __init__(self, cme: int | None = None, cms: int | None = None, unknown: bool = False) -> None:
        super().__init__(cme, cms, unknown)
        self.cme, self.cms, self.unknown = cme, cms, unknown


def _int(text: str, allowed: range) -> int:
    if not text.isdigit() or int(text) not in allowed:
        raise AtError(cme=50)
    return int(text)


class Commands:
    """The command table of one modem; ``run`` answers one command."""

    def __init__(self, modem: "EmulatedModem") -> None:
        self.m = modem
        v = modem.vendor
        self.identity = {"+CGMI": v.manufacturer, "+GMI": v.manufacturer, "+CGMM": v.model, "+GMM": v.model,
                         "+CGMR": v.revision, "+GMR": v.revision, "+CGSN": v.imei, "+GSN": v.imei,
                         "+CIMI": modem.imsi, "+GCAP": "+GCAP: +CGSM"}
        self.table: dict[str, Handler] = {
            "+CMEE": self._cmee, "+CPIN": self._cpin, "+CFUN": self._cfun, "+CSQ": self._csq, "+CREG": self._creg,
            "+CGREG": self._creg, "+CEREG": self._creg, "+COPS": self._cops, "+CNUM": self._cnum,
            "+CSCS": self._cscs, "+CMGF": self._cmgf, "+CSDH": self._csdh, "+CSMP": self._csmp, "+CSCA": self._csca,
            "+CSMS": self._csms, "+CPMS": self._cpms, "+CNMI": self._cnmi, "+CMGL": self._cmgl, "+CMGR": self._cmgr,
            "+CMGD": self._cmgd, "+CLAC": self._clac, "+CMGS": self._cmgs,
        }
        for name in ("+CLIP", "+CRC", "+CVHU", "+COLP", "+CLIR", "+CSSN", "+CMER", "+CNMA"):
            self.table[name] = self._accept
        if v.urc_port:
            self.table["+QURCCFG"] = self._qurccfg
        if v.caret_reports:
            self.table["^CURC"] = self._curc

    # ------------------------------------------------------------------ dispatch
    def run(self, port: int, s: Settings, cmd: Command) -> str:
        name = cmd.name
        if name in self.identity:
            if cmd.kind == "test":
                return ""
            if cmd.kind != "action":
                raise AtError(cme=4)
            return s.info(self.identity[name])
        if name in self.table:
            return self.table[name](port, s, cmd)
        if not name.startswith(("+", "^", "$", "#", "%", "*", "!")):
            return self._basic(port, s, cmd)
        raise AtError(unknown=True)

    def supported(self) -> list[str]:
        basic = ["&F", "&W", "A", "D", "E", "H", "I", "Q", "S0", "S3", "S4", "S5", "V", "Z"]
        return basic + sorted(set(self.identity) | set(self.table))

    def _basic(self, port: int, s: Settings, cmd: Command) -> str:
        name, value = cmd.name, cmd.args
        if name.startswith("S") and name[1:].isdigit():
            reg = int(name[1:])
            if reg not in s.sregs:
                raise AtError(unknown=True)
            if cmd.kind == "read":
                return s.info("%03d" % s.sregs[reg])
            s.sregs[reg] = _int(value, range(256))
            return ""
        if name == "Z":
            self.m.settings[port] = self.m.saved[port].copy()
            return ""
        if name == "&F":
            self.m.settings[port] = Settings()
            return ""
        if name == "&W":
            self.m.saved[port] = s.copy()
            return ""
        if name == "I":
            return s.info(*self.m.vendor.ati)
        flags = {"E": "echo", "V": "verbose", "Q": "quiet"}
        if name in flags:
            setattr(s, flags[name], bool(_int(value, range(2))))
            return ""
        if name in ("&C", "&D", "&K", "X", "L", "M", "&S", "H"):
            return ""
        if name in ("A", "D"):
            raise AtError(cme=4)
        raise AtError(unknown=True)

    # ------------------------------------------------------------------ 27.007
    def _accept(self, port: int, s: Settings, cmd: Command) -> str:
        return ""

    def _cmee(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "set":
            s.cmee = _int((cmd.values() or ["0"])[0], range(3))
            return ""
        return s.info("+CMEE: (0-2)" if cmd.kind == "test" else f"+CMEE: {s.cmee}")

    def _cpin(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "read":
            return s.info("+CPIN: READY")
        if cmd.kind == "set":
            raise AtError(cme=3)  # no PIN is asked for
        return ""

    def _cfun(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "read":
            return s.info(f"+CFUN: {self.m.cfun}")
        if cmd.kind == "test":
            return s.info("+CFUN: (0,1,4),(0,1)")
        values = cmd.values() + ["", ""]
        fun = _int(values[0] or "1", range(0, 5))
        if values[1] == "1":
            self.m.restart_later()
            return ""
        self.m.cfun = fun
        return ""

    def _csq(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "test":
            return s.info("+CSQ: (0-31,99),(0-7,99)")
        return s.info(f"+CSQ: {self.m.rssi},99")

    def _creg(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "set":
            self.m.creg[cmd.name] = _int((cmd.values() or ["0"])[0], range(3))
            return ""
        if cmd.kind == "test":
            return s.info(f"{cmd.name}: (0-2)")
        stat = 1 if self.m.cfun == 1 else 0
        return s.info(f"{cmd.name}: {self.m.creg.get(cmd.name, 0)},{stat}")

    def _cops(self, port: int, s: Settings, cmd: Command) -> str:
        name = self.m.vendor.operator
        if cmd.kind == "test":
            return s.info(f'+COPS: (2,"{name}","HARNESS","00101",7),,(0-4),(0-2)')
        if cmd.kind == "set":
            values = cmd.values()
            mode = _int(values[0] or "0", range(5))
            if mode == 3 and len(values) > 1:
                self.m.cops_format = _int(values[1], range(3))
            return ""
        if self.m.cfun != 1:
            return s.info("+COPS: 0")
        oper = {0: name, 1: "HARNESS", 2: "00101"}[self.m.cops_format]
        return s.info(f'+COPS: 0,{self.m.cops_format},"{oper}",7')

    def _cnum(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "test":
            return ""
        toa = 145 if self.m.number.startswith("+") else 129
        return s.info(f'+CNUM: "","{te_string(self.m.number, s.cscs)}",{toa}')

    # ------------------------------------------------------------------ 27.005 settings
    def _cscs(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "test":
            return s.info("+CSCS: (" + ",".join(f'"{c}"' for c in CHARSETS) + ")")
        if cmd.kind == "read":
            return s.info(f'+CSCS: "{s.cscs}"')
        charset = (cmd.values() or [""])[0].upper()
        if charset not in CHARSETS:
            raise AtError(cme=4)
        s.cscs = charset
        return ""

    def _flag(self, s: Settings, cmd: Command, attr: str) -> str:
        if cmd.kind == "test":
            return s.info(f"{cmd.name}: (0,1)")
        if cmd.kind == "read":
            return s.info(f"{cmd.name}: {getattr(s, attr)}")
        setattr(s, attr, _int((cmd.values() or ["0"])[0] or "0", range(2)))
        return ""

    def _cmgf(self, port: int, s: Settings, cmd: Command) -> str:
        return self._flag(s, cmd, "cmgf")

    def _csdh(self, port: int, s: Settings, cmd: Command) -> str:
        return self._flag(s, cmd, "csdh")

    def _csmp(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "read":
            return s.info("+CSMP: " + ",".join(map(str, s.csmp)))
        if cmd.kind == "set":
            values = [v or str(d) for v, d in zip(cmd.values() + [""] * 4, s.csmp)]
            s.csmp = tuple(_int(v, range(256)) for v in values[:4])  # type: ignore[assignment]
        return ""

    def _csca(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "read":
            return s.info(f'+CSCA: "{SMSC}",145')
        return ""

    def _csms(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "read":
            return s.info("+CSMS: 0,1,1,1")
        if cmd.kind == "test":
            return s.info("+CSMS: (0,1)")
        _int((cmd.values() or ["0"])[0], range(2))
        return s.info("+CSMS: 1,1,1")

    def _cpms(self, port: int, s: Settings, cmd: Command) -> str:
        m, offered = self.m, self.m.vendor.memories
        if cmd.kind == "test":
            return s.info("+CPMS: " + ",".join("(" + ",".join(f'"{n}"' for n in mems) + ")" for mems in offered))
        if cmd.kind == "read":
            return s.info("+CPMS: " + ",".join(f'"{mem}",{m.store.used(mem)},{m.store.capacity}' for mem in m.cpms))
        wanted = [v.upper() for v in cmd.values()]
        if not 1 <= len(wanted) <= 3 or any(mem not in offered[i] for i, mem in enumerate(wanted) if mem):
            raise AtError(cms=302)
        m.cpms = [wanted[i] if i < len(wanted) and wanted[i] else m.cpms[i] for i in range(3)]
        return s.info("+CPMS: " + ",".join(f"{m.store.used(mem)},{m.store.capacity}" for mem in m.cpms))

    def _cnmi(self, port: int, s: Settings, cmd: Command) -> str:
        ranges = self.m.vendor.cnmi_ranges
        if cmd.kind == "test":
            return s.info("+CNMI: " + ",".join(ranges))
        if cmd.kind == "read":
            return s.info("+CNMI: " + ",".join(map(str, self.m.cnmi)))
        values = cmd.values()
        if len(values) > len(ranges):
            raise AtError(cms=303)  # Cinterion's four: a 5th parameter is refused
        new = list(self.m.cnmi)
        for i, text in enumerate(values):
            if text == "":
                continue
            allowed = _range_values(ranges[i])
            if not text.isdigit() or int(text) not in allowed:
                raise AtError(cms=303)
            new[i] = int(text)
        self.m.set_cnmi(tuple(new))
        return ""

    # ------------------------------------------------------------------ 27.005 messages
    def _cmgl(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "test":
            return s.info("+CMGL: (0-4)" if s.cmgf == 0 else
                          "+CMGL: (" + ",".join(f'"{t}"' for t in STATUS_TEXT) + ")")
        wanted = (cmd.values() or [""])[0]
        if s.cmgf == 0:
            if not re.fullmatch(r"[0-4]?", wanted) or '"' in cmd.args:
                raise AtError(cms=304)
            stat = int(wanted or 0)
        else:
            if wanted.upper() not in STATUS_TEXT and wanted != "":
                raise AtError(cms=305)
            stat = STATUS_TEXT.index(wanted.upper() or "REC UNREAD")
        lines: list[str] = []
        slots = self.m.store.slots[self.m.cpms[0]]
        for index in sorted(slots):
            stored = slots[index]
            if stat != 4 and stored.status != stat:
                continue
            head, body = pdu_listing(index, stored) if s.cmgf == 0 else text_listing(index, stored, s.cscs, s.csdh)
            lines += [head, body] if body or s.cmgf == 0 else [head]
            if stored.status == 0:
                stored.status = 1
        return _message_lines(s, lines)

    def _cmgr(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "test":
            return ""
        index = (cmd.values() or [""])[0]
        if not index.isdigit():
            raise AtError(cms=321)
        stored = self.m.store.slots[self.m.cpms[0]].get(int(index))
        if stored is None:
            raise AtError(cms=321)
        head, body = pdu_read(stored) if s.cmgf == 0 else text_read(stored, s.cscs, s.csdh)
        if stored.status == 0:
            stored.status = 1
        return _message_lines(s, [head] + ([body] if body is not None else []))

    def _cmgd(self, port: int, s: Settings, cmd: Command) -> str:
        slots = self.m.store.slots[self.m.cpms[0]]
        if cmd.kind == "test":
            return s.info("+CMGD: (" + ",".join(map(str, sorted(slots))) + "),(0-4)")
        values = cmd.values() + ["", ""]
        flag = _int(values[1] or "0", range(5))
        doomed = {0: (), 1: (1,), 2: (1, 3), 3: (1, 2, 3), 4: (0, 1, 2, 3)}[flag]
        if flag == 0:
            if not values[0].isdigit() or int(values[0]) not in slots:
                raise AtError(cms=321)
            del slots[int(values[0])]
        for index in [i for i, st in slots.items() if st.status in doomed]:
            del slots[index]
        return ""

    def _cmgs(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "test":
            return ""
        if cmd.kind != "set" or self.m.cfun != 1:
            raise AtError(cms=302 if self.m.cfun == 1 else 331)
        values = cmd.values()
        if s.cmgf == 0 and not (values and values[0].isdigit() and 7 <= int(values[0]) <= 164):
            raise AtError(cms=304)
        if s.cmgf == 1 and not (values and values[0]):
            raise AtError(cms=305)
        raise Prompt(values[0])

    def _clac(self, port: int, s: Settings, cmd: Command) -> str:
        return "" if cmd.kind == "test" else s.info(*self.supported())

    # ------------------------------------------------------------------ vendors' own
    def _qurccfg(self, port: int, s: Settings, cmd: Command) -> str:
        values = [v.lower() for v in cmd.values()]
        if cmd.kind == "test":
            return s.info('+QURCCFG: "urcport",("usbat","usbmodem","uart1")')
        if not values or values[0] != "urcport":
            raise AtError(cme=50)
        if len(values) == 1:
            return s.info(f'+QURCCFG: "urcport","{self.m.urc_port_name}"')
        if values[1] not in ("usbat", "usbmodem", "uart1"):
            raise AtError(cme=50)
        self.m.urc_port_name = values[1]
        return ""

    def _curc(self, port: int, s: Settings, cmd: Command) -> str:
        if cmd.kind == "read":
            return s.info(f"^CURC: {int(self.m.curc)}")
        if cmd.kind == "set":
            self.m.curc = bool(_int((cmd.values() or ["0"])[0], range(3)))
        return ""


def _range_values(spec: str) -> set[int]:
    out: set[int] = set()
    for item in spec.strip("()").split(","):
        lo, _, hi = item.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _message_lines(s: Settings, lines: list[str]) -> str:
    """Listing lines: each header and PDU/text on its own line, framed like information text."""
    return s.info(*lines) if s.verbose else "".join(line + s.eol for line in lines)
