"""SMS-DELIVER TPDUs as a network hands them to a modem (3GPP TS 23.040 9.2.2.1, alphabets from TS 23.038).

One text becomes one or more TPDUs: GSM 7-bit when every character has a
septet, else UCS2 (UTF-16, so emoji take a surrogate pair), or 8-bit data
when asked; a text too long for one message is cut into parts that carry a
concatenation header (8-bit or 16-bit reference), never inside an escape
pair or a surrogate pair. Senders are numbers (international or not) or
alphanumeric names (7-bit packed in the address field). The emulated modem
stores these parts and shows them in PDU or text mode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from harness.emulator import gsm7

#: Octets of user data in one message (23.040 9.2.3.16: 140 octets, 160 septets).
MAX_UD = 140
DCS_GSM7, DCS_8BIT, DCS_UCS2 = 0x00, 0x04, 0x08
ENCODINGS = ("auto", "gsm7", "ucs2", "8bit")
FO_DELIVER_MMS = 0x04   # TP-MTI SMS-DELIVER (00), TP-MMS set: no more messages waiting
FO_UDHI = 0x40
TOA_INTERNATIONAL, TOA_UNKNOWN, TOA_ALPHANUMERIC = 0x91, 0x81, 0xD0


@dataclass(frozen=True)
class DeliverPart:
    """One SMS-DELIVER as a modem stores it, with what text mode shows of it."""

    tpdu: bytes
    sender: str        # as text mode shows <oa>: "+15550199", "69525", "Microsoft"
    toa: int           # <tooa>
    fo: int
    pid: int
    dcs: int
    scts: str          # text-mode form "yy/MM/dd,hh:mm:ss+zz"
    text: str          # this part's text (without the header)
    ud: bytes          # TP-UD as sent (header included)
    udl: int           # TP-UDL (septets for 7-bit, else octets)

    @property
    def alphabet(self) -> str:
        """"gsm7", "8bit" or "ucs2", from the data coding scheme (23.038 4)."""
        return alphabet_of(self.dcs)

    def hex(self, sca: bytes) -> str:
        return (sca + self.tpdu).hex().upper()


def alphabet_of(dcs: int) -> str:
    """The alphabet a data coding scheme names (general data coding and the 0xF0 group)."""
    if dcs & 0xC0 == 0x00 or dcs & 0xC0 == 0x40:  # general data coding (compressed or not)
        return {0: "gsm7", 1: "8bit", 2: "ucs2"}.get((dcs >> 2) & 3, "gsm7")
    if dcs & 0xF0 == 0xF0:
        return "8bit" if dcs & 0x04 else "gsm7"
    if dcs & 0xF0 == 0xE0:
        return "ucs2"
    return "gsm7"  # message waiting groups 0xC0/0xD0


def swap_digits(digits: str) -> bytes:
    """Semi-octets in swapped order, padded with F (23.040 9.1.2.3)."""
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def encode_address(address: str) -> tuple[bytes, int, str]:
    """TP-OA/TP-DA: (octets, type of address, text-mode form). Letters make an alphanumeric address."""
    digits = address[1:] if address.startswith("+") else address
    if digits.isdigit() and 0 < len(digits) <= 20:
        toa = TOA_INTERNATIONAL if address.startswith("+") else TOA_UNKNOWN
        return bytes([len(digits), toa]) + swap_digits(digits), toa, address
    septets = gsm7.to_septets(address)
    if not septets or len(septets) > 11:
        raise ValueError(f"alphanumeric sender {address!r}: 1 to 11 GSM 7-bit characters")
    packed = gsm7.pack(septets)
    return bytes([(len(septets) * 7 + 3) // 4, TOA_ALPHANUMERIC]) + packed, TOA_ALPHANUMERIC, address


def sca_octets(number: str) -> bytes:
    """The service centre address that precedes a TPDU in PDU mode (27.005 3.1 <pdu>): length in octets."""
    digits = number.lstrip("+")
    body = bytes([TOA_INTERNATIONAL if number.startswith("+") else TOA_UNKNOWN]) + swap_digits(digits)
    return bytes([len(body)]) + body


def _bcd(value: int) -> int:
    return ((value % 10) << 4) | (value // 10)


def encode_scts(sent_at: float, tz_quarters: int = 0) -> tuple[bytes, str]:
    """TP-SCTS (23.040 9.2.3.11): local time of the centre and its offset in quarter hours; and the text form."""
    if not -79 <= tz_quarters <= 79:
        raise ValueError(f"time zone {tz_quarters} quarter hours: expected -79..79")
    t = time.gmtime(sent_at + tz_quarters * 900)
    fields = (t.tm_year % 100, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    tz = _bcd(abs(tz_quarters)) | (0x08 if tz_quarters < 0 else 0)
    text = "%02d/%02d/%02d,%02d:%02d:%02d" % fields + ("-" if tz_quarters < 0 else "+") + "%02d" % abs(tz_quarters)
    return bytes(_bcd(v) for v in fields) + bytes([tz]), text


def _choose(text: str, encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r}: expected one of {', '.join(ENCODINGS)}")
    if encoding == "auto":
        return "gsm7" if gsm7.is_gsm7(text) else "ucs2"
    if encoding == "gsm7":
        gsm7.to_septets(text)  # raises naming the character that has no septet
    return encoding


def _units(text: str, alphabet: str) -> list[tuple[str, int]]:
    """(character, cost) in the unit of the alphabet: septets, UCS2 octets, or 8-bit octets."""
    if alphabet == "gsm7":
        return [(ch, len(gsm7.septets_of(ch))) for ch in text]
    if alphabet == "ucs2":
        return [(ch, len(ch.encode("utf-16-be"))) for ch in text]
    return [(ch, len(ch.encode("utf-8"))) for ch in text]


def _capacity(alphabet: str, header: int) -> int:
    room = MAX_UD - header
    return room * 8 // 7 if alphabet == "gsm7" else room


def split(text: str, alphabet: str, header: int) -> list[str]:
    """``text`` cut into parts that fit beside a ``header`` of that many octets, characters kept whole."""
    limit = _capacity(alphabet, header)
    parts, current, used = [], "", 0
    for ch, cost in _units(text, alphabet):
        if used + cost > limit:
            parts.append(current)
            current, used = "", 0
        current += ch
        used += cost
    parts.append(current)
    return parts


def _dcs(alphabet: str, message_class: int | None) -> int:
    base = {"gsm7": DCS_GSM7, "8bit": DCS_8BIT, "ucs2": DCS_UCS2}[alphabet]
    return base if message_class is None else 0x10 | base | (message_class & 3)


def _user_data(text: str, alphabet: str, udh: bytes) -> tuple[bytes, int]:
    """TP-UD and TP-UDL: septets after fill bits so they start on a septet boundary (23.040 9.2.3.24)."""
    if alphabet == "gsm7":
        fill = (7 - len(udh) * 8 % 7) % 7
        septets = gsm7.to_septets(text)
        header_septets = (len(udh) * 8 + fill) // 7
        return udh + gsm7.pack(septets, fill), header_septets + len(septets)
    data = text.encode("utf-16-be" if alphabet == "ucs2" else "utf-8")
    return udh + data, len(udh) + len(data)


def encode_deliver(sender: str, text: str, sent_at: float, tz_quarters: int = 0, encoding: str = "auto",
                   reference: int = 0, ref16: bool = False, message_class: int | None = None,
                   pid: int = 0) -> list[DeliverPart]:
    """The SMS-DELIVER TPDU(s) that carry ``text`` from ``sender``; more than one when it does not fit."""
    alphabet = _choose(text, encoding)
    oa, toa, shown = encode_address(sender)
    scts, scts_text = encode_scts(sent_at, tz_quarters)
    dcs = _dcs(alphabet, message_class)
    parts = split(text, alphabet, 0)
    if len(parts) > 1:
        parts = split(text, alphabet, 7 if ref16 else 6)
        if len(parts) > 255:
            raise ValueError(f"text of {len(text)} characters needs {len(parts)} parts; at most 255")
    out = []
    for seq, part in enumerate(parts, 1):
        udh = b""
        if len(parts) > 1:
            ie = (bytes([0x08, 4, (reference >> 8) & 0xFF, reference & 0xFF]) if ref16
                  else bytes([0x00, 3, reference & 0xFF]))
            ie += bytes([len(parts), seq])
            udh = bytes([len(ie)]) + ie
        ud, udl = _user_data(part, alphabet, udh)
        fo = FO_DELIVER_MMS | (FO_UDHI if udh else 0)
        tpdu = bytes([fo]) + oa + bytes([pid, dcs]) + scts + bytes([udl]) + ud
        out.append(DeliverPart(tpdu, shown, toa, fo, pid, dcs, scts_text, part, ud, udl))
    return out
