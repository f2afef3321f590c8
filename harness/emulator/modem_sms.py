"""The emulated modem's message memories and how 27.005 shows a message in PDU and in text mode.

PDU mode (27.005 3.4.2, 4.1): ``+CMGL: <index>,<stat>,[<alpha>],<length>``
then the PDU (service centre address first), <stat> a number. Text mode
(3.4.2, 4.1): ``+CMGL: <index>,<stat>,<oa>,[<alpha>],[<scts>][,<tooa>,<length>]``
then the data, <stat> a string, <oa> and 7-bit text in the TE character set
(+CSCS); 8-bit and UCS2 data, and any data with a user data header, as hex
octets (3.1, <data>). +CSDH=1 adds the header fields.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from harness.emulator import gsm7
from harness.emulator.sms_pdu import DeliverPart, sca_octets, swap_digits

STATUS_TEXT = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL")
SMSC = "+15559999000"
SCA = sca_octets(SMSC)


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT (23.040 9.2.2.3) for a message this modem sent with a report requested."""

    reference: int
    recipient: str
    sent: tuple[bytes, str]       # (TP-SCTS octets, text form)
    done: tuple[bytes, str]       # (TP-DT octets, text form)
    status: int = 0               # TP-ST 0: received by the SME
    fo: int = 0x06                # TP-MTI status report, TP-SRQ 0

    @property
    def tpdu(self) -> bytes:
        digits = self.recipient.lstrip("+")
        ra = bytes([len(digits), 0x91 if self.recipient.startswith("+") else 0x81]) + swap_digits(digits)
        return bytes([self.fo, self.reference & 0xFF]) + ra + self.sent[0] + self.done[0] + bytes([self.status])


@dataclass
class Stored:
    item: DeliverPart | StatusReport
    status: int = 0  # 0 REC UNREAD, 1 REC READ
    received: float = field(default_factory=time.time)


class Memories:
    """Named memories ("SM", "ME", "SR"), each with its own indices (from ``first`` up to ``capacity``)."""

    def __init__(self, names: set[str], capacity: int, first: int = 1) -> None:
        self.slots: dict[str, dict[int, Stored]] = {name: {} for name in names}
        self.capacity = capacity
        self.first = first

    def store(self, memory: str, item: DeliverPart | StatusReport) -> int | None:
        slots = self.slots[memory]
        free = next((i for i in range(self.first, self.first + self.capacity) if i not in slots), None)
        if free is not None:
            slots[free] = Stored(item)
        return free

    def used(self, memory: str) -> int:
        return len(self.slots[memory])


def te_string(text: str, cscs: str) -> str:
    """``text`` in the TE character set (27.007 5.5): GSM default alphabet bytes, IRA, 8859-1 or UCS2 hex."""
    if cscs == "UCS2":
        return text.encode("utf-16-be").hex().upper()
    if cscs == "GSM":
        return "".join(chr(s) for ch in text for s in (gsm7.septets_of(ch) if gsm7.is_gsm7(ch) else [0x3F]))
    if cscs == "8859-1":
        return text.encode("latin-1", "replace").decode("latin-1")
    return text.encode("ascii", "replace").decode("ascii")  # IRA


def _quoted(text: str) -> str:
    return f'"{text}"'


def text_data(part: DeliverPart, cscs: str) -> tuple[str, int]:
    """<data> and <length> of a message in text mode (27.005 3.1)."""
    if part.alphabet == "gsm7" and not part.fo & 0x40:
        return te_string(part.text, cscs), len(gsm7.to_septets(part.text))
    return part.ud.hex().upper(), len(part.ud)


def _text_scts(stamp: str) -> str:
    return _quoted(stamp)


def pdu_listing(index: int, stored: Stored) -> tuple[str, str]:
    """(+CMGL header, PDU) in PDU mode."""
    return f"+CMGL: {index},{stored.status},,{len(stored.item.tpdu)}", (SCA + stored.item.tpdu).hex().upper()


def pdu_read(stored: Stored) -> tuple[str, str]:
    return f"+CMGR: {stored.status},,{len(stored.item.tpdu)}", (SCA + stored.item.tpdu).hex().upper()


def pdu_direct(part: DeliverPart) -> tuple[str, str]:
    """+CMT in PDU mode (27.005 3.4.1): ``+CMT: [<alpha>],<length>`` and the PDU."""
    return f"+CMT: ,{len(part.tpdu)}", (SCA + part.tpdu).hex().upper()


def _sca_fields(cscs: str) -> str:
    return f"{_quoted(te_string(SMSC, cscs))},145"


def text_listing(index: int, stored: Stored, cscs: str, csdh: int) -> tuple[str, str]:
    item, status = stored.item, STATUS_TEXT[stored.status]
    if isinstance(item, StatusReport):
        head = (f'+CMGL: {index},"{status}",{item.fo},{item.reference},{_quoted(te_string(item.recipient, cscs))},'
                f'145,{_text_scts(item.sent[1])},{_text_scts(item.done[1])},{item.status}')
        return head, ""
    data, length = text_data(item, cscs)
    head = f'+CMGL: {index},"{status}",{_quoted(te_string(item.sender, cscs))},,{_text_scts(item.scts)}'
    if csdh:
        head += f",{item.toa},{length}"
    return head, data


def text_read(stored: Stored, cscs: str, csdh: int) -> tuple[str, str | None]:
    item, status = stored.item, STATUS_TEXT[stored.status]
    if isinstance(item, StatusReport):  # +CMGR: <stat>,<fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st>
        return (f'+CMGR: "{status}",{item.fo},{item.reference},{_quoted(te_string(item.recipient, cscs))},145,'
                f'{_text_scts(item.sent[1])},{_text_scts(item.done[1])},{item.status}'), None
    data, length = text_data(item, cscs)
    head = f'+CMGR: "{status}",{_quoted(te_string(item.sender, cscs))},,{_text_scts(item.scts)}'
    if csdh:
        head += f",{item.toa},{item.fo},{item.pid},{item.dcs},{_sca_fields(cscs)},{length}"
    return head, data


def text_direct(part: DeliverPart, cscs: str, csdh: int) -> tuple[str, str]:
    """+CMT in text mode: ``+CMT: <oa>,[<alpha>],<scts>[,<tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length>]``."""
    data, length = text_data(part, cscs)
    head = f"+CMT: {_quoted(te_string(part.sender, cscs))},,{_text_scts(part.scts)}"
    if csdh:
        head += f",{part.toa},{part.fo},{part.pid},{part.dcs},{_sca_fields(cscs)},{length}"
    return head, data
