"""An SMS-DELIVER encoder written for the tests from 3GPP TS 23.040/23.038 alone; it imports nothing from harness.

The driver's decoder is checked against it: what this encodes, the driver
must read back field for field. It is written the other way round from the
decoder (characters to codes, a bit stream rather than an integer), so a
misreading of the specification shows up as a disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# 23.038 6.2.1, row by row: (first code of the row, its characters).
_ROWS = [
    (0x00, "@£$¥èéùìòÇ\nØø\rÅå"), (0x10, "Δ_ΦΓΛΩΠΨΣΘΞ"), (0x1C, "ÆæßÉ"), (0x20, " !\"#¤%&'()*+,-./"),
    (0x30, "0123456789:;<=>?"), (0x40, "¡"), (0x41, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), (0x5B, "ÄÖÑÜ§¿"),
    (0x61, "abcdefghijklmnopqrstuvwxyz"), (0x7B, "äöñüà"),
]
BASIC: dict[str, int] = {}
for start, chars in _ROWS:
    for offset, ch in enumerate(chars):
        BASIC[ch] = start + offset
# 23.038 6.2.1.1: reached by the escape 0x1B.
EXTENDED = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40,
            "€": 0x65}
GSM_CHARS = "".join(BASIC) + "".join(EXTENDED)


def gsm_septets(text: str) -> list[int]:
    out: list[int] = []
    for ch in text:
        if ch in BASIC:
            out.append(BASIC[ch])
        else:
            out += [0x1B, EXTENDED[ch]]
    return out


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Septets into octets, least significant bit first, after ``fill_bits`` zero bits."""
    bits = [0] * fill_bits
    for s in septets:
        bits += [(s >> i) & 1 for i in range(7)]
    while len(bits) % 8:
        bits.append(0)
    return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


def swapped_bcd(digits: str) -> bytes:
    nibble = {str(d): d for d in range(10)} | {"*": 0xA, "#": 0xB, "a": 0xC, "b": 0xD, "c": 0xE}
    if len(digits) % 2:
        digits += "F"
    return bytes(nibble.get(digits[i], 0xF) | nibble.get(digits[i + 1], 0xF) << 4 for i in range(0, len(digits), 2))


def address(text: str, ton: int, npi: int = 1) -> bytes:
    """TP-OA: for ton 5 (alphanumeric) the name packed as septets, its length in semi-octets used."""
    toa = 0x80 | ton << 4 | npi
    if ton == 5:
        septets = gsm_septets(text)
        packed = pack(septets)
        return bytes([(len(septets) * 7 + 3) // 4, toa]) + packed
    return bytes([len(text), toa]) + swapped_bcd(text)


def smsc(number: str | None) -> bytes:
    if not number:
        return b"\x00"
    body = bytes([0x91]) + swapped_bcd(number)
    return bytes([len(body)]) + body


def scts(when: datetime) -> bytes:
    offset = when.utcoffset() or timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    octets = [when.year % 100, when.month, when.day, when.hour, when.minute, when.second]
    out = bytes((v % 10) << 4 | v // 10 for v in octets)
    zone = (quarters % 10) << 4 | quarters // 10 | (0x08 if offset < timedelta(0) else 0)
    return out + bytes([zone])


@dataclass
class Message:
    sender: str
    ton: int
    when: datetime
    alphabet: str                 # gsm7, 8bit, ucs2
    dcs: int
    text: str = ""                # gsm7 and ucs2
    data: bytes = b""             # 8bit
    pid: int = 0
    smsc: str | None = "15550000000"
    ies: list[tuple[int, bytes]] = field(default_factory=list)
    reply_path: bool = False
    status_report: bool = False
    more: bool = False


def encode(m: Message) -> tuple[str, int]:
    """The hex PDU as a modem gives it (SC address first) and the TPDU length for the header line."""
    header = b"".join(bytes([iei, len(d)]) + d for iei, d in m.ies)
    udh = bytes([len(header)]) + header if m.ies else b""
    first = 0x00 | (0 if m.more else 0x04) | (0x20 if m.status_report else 0) | (0x40 if m.ies else 0) \
        | (0x80 if m.reply_path else 0)
    if m.alphabet == "gsm7":
        septets = gsm_septets(m.text)
        header_septets = (len(udh) * 8 + 6) // 7
        fill = header_septets * 7 - len(udh) * 8
        ud = udh + pack(septets, fill)
        udl = header_septets + len(septets)
    else:
        body = m.text.encode("utf-16-be", "surrogatepass") if m.alphabet == "ucs2" else m.data
        ud = udh + body
        udl = len(ud)
    tpdu = bytes([first]) + address(m.sender, m.ton) + bytes([m.pid, m.dcs]) + scts(m.when) + bytes([udl]) + ud
    return (smsc(m.smsc) + tpdu).hex().upper(), len(tpdu)


def concat_ie(ref: int, total: int, seq: int, bits: int) -> tuple[int, bytes]:
    if bits == 8:
        return 0x00, bytes([ref & 0xFF, total, seq])
    return 0x08, ref.to_bytes(2, "big") + bytes([total, seq])


def split(text: str, alphabet: str, per_part: int) -> list[str]:
    """A long text cut into parts of ``per_part`` units (septets or UTF-16 code units), as a sender does.

    UCS2 is cut by code units, so a surrogate pair can land in two parts (real senders do that).
    """
    if alphabet == "ucs2":
        units = text.encode("utf-16-be")
        chunks = [units[i:i + 2 * per_part] for i in range(0, len(units), 2 * per_part)]
        return [c.decode("utf-16-be", "surrogatepass") for c in chunks]
    parts, cur, size = [], "", 0
    for ch in text:
        cost = 2 if ch in EXTENDED else 1
        if size + cost > per_part:  # an escape and its code stay together
            parts.append(cur)
            cur, size = "", 0
        cur += ch
        size += cost
    return parts + [cur]
