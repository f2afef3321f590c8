"""What a client sends with AT+CMGS, taken apart (27.005 3.5.1; SMS-SUBMIT from 3GPP TS 23.040 9.2.2.2).

PDU mode: ``AT+CMGS=<length>``, the prompt, then the hex PDU (service centre
address first, <length> counting the TPDU only) and Ctrl-Z. Text mode:
``AT+CMGS=<da>``, the prompt, the text in the TE character set and Ctrl-Z;
the report request comes from the <fo> of +CSMP. ESC cancels either.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.emulator import gsm7
from harness.emulator.sms_pdu import alphabet_of

CTRL_Z, ESC = 0x1A, 0x1B


class SubmitError(ValueError):
    """A submission the modem refuses; ``cms`` is the +CMS ERROR number (27.005 3.2.5)."""

    def __init__(self, cms: int, why: str) -> None:
        super().__init__(why)
        self.cms = cms


@dataclass(frozen=True)
class Submit:
    destination: str
    text: str
    report: bool        # TP-SRR: a status report was requested


def _digits(octets: bytes, count: int) -> str:
    out = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in octets)
    return out[:count]


def decode_pdu(hex_pdu: str, length: int) -> Submit:
    """The SMS-SUBMIT in a PDU-mode submission; SubmitError naming the field that is wrong."""
    try:
        data = bytes.fromhex(hex_pdu.strip())
    except ValueError:
        raise SubmitError(304, "not hexadecimal") from None
    if not data or len(data) - 1 - data[0] != length:
        raise SubmitError(304, f"TPDU length {len(data) - 1 - (data[0] if data else 0)}, announced {length}")
    tpdu = data[1 + data[0]:]
    try:
        fo, _mr, da_len, da_toa = tpdu[0], tpdu[1], tpdu[2], tpdu[3]
        if fo & 0x03 != 0x01:
            raise SubmitError(304, f"TP-MTI {fo & 3}: not an SMS-SUBMIT")
        at = 4 + (da_len + 1) // 2
        digits = _digits(tpdu[4:at], da_len)
        destination = ("+" if da_toa & 0x70 == 0x10 else "") + digits
        dcs = tpdu[at + 1]
        vpf = (fo >> 3) & 3
        at += 2 + {0: 0, 2: 1}.get(vpf, 7)
        udl, ud = tpdu[at], tpdu[at + 1:]
    except IndexError:
        raise SubmitError(304, "TPDU shorter than its fields") from None
    header = ud[0] + 1 if fo & 0x40 and ud else 0
    alphabet = alphabet_of(dcs)
    if alphabet == "gsm7":
        fill = (7 - header * 8 % 7) % 7
        skip = (header * 8 + fill) // 7
        text = gsm7.from_septets(gsm7.unpack(ud[header:], udl - skip, fill))
    elif alphabet == "ucs2":
        text = ud[header:udl].decode("utf-16-be", "replace")
    else:
        text = ud[header:udl].decode("utf-8", "replace")
    return Submit(destination, text, bool(fo & 0x20))


def decode_text(payload: bytes, destination: str, cscs: str, csmp_fo: int) -> Submit:
    """A text-mode submission: the text in the TE character set (27.007 5.5)."""
    raw = payload.decode("latin-1")
    try:
        if cscs == "UCS2":
            text, destination = bytes.fromhex(raw).decode("utf-16-be"), bytes.fromhex(destination).decode("utf-16-be")
        elif cscs == "GSM":
            text = gsm7.from_septets([ord(ch) & 0x7F for ch in raw])
        else:
            text = raw
    except ValueError:
        raise SubmitError(305, f"text not in the {cscs} character set") from None
    return Submit(destination, text, bool(csmp_fo & 0x20))
