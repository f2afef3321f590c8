"""SMS-DELIVER in PDU mode (3GPP TS 23.040 9.2.2.1, data coding 23.038 4, PDU framing 27.005 3.1): a decoder.

Codes arrive on many modems and networks in PDU mode only: as hex, with the
service centre's address first, the sender (a number, or an alphanumeric
name 7-bit packed into the address field), the data coding scheme (GSM
7-bit with its extension table, 8-bit, or UCS2 with surrogate pairs), the
service centre time stamp with its time zone, and a user data header that
may say "part 2 of 3 of message 0x1234". Parts are joined by
``harness.modem.concat``.

Anything a modem sends is bounded and checked: a malformed PDU is a
``PduError`` naming the octet and the field, never an exception from deep
inside, and never quoting the message itself (it may hold a code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from harness.modem import gsm7
from harness.modem.at import ModemError

#: The longest PDU accepted: a 12-octet service centre address and a 164-octet TPDU, with room to spare.
MAX_PDU_OCTETS = 200
TON_INTERNATIONAL = 1
TON_ALPHANUMERIC = 5
#: Semi-octet values past 9 in an address (24.008 10.5.4.7): *, #, a, b, c.
_BCD_EXTRA = {0xA: "*", 0xB: "#", 0xC: "a", 0xD: "b", 0xE: "c"}


class PduError(ModemError):
    """A PDU that is not a well-formed SMS-DELIVER; says at which octet and in which field, not what it held."""

    def __init__(self, offset: int, field: str, problem: str) -> None:
        self.offset, self.field = offset, field
        super().__init__(f"malformed SMS-DELIVER PDU at octet {offset} ({field}): {problem}")


@dataclass(frozen=True)
class Address:
    """A sender or service centre: its text (digits, or the name of an alphanumeric sender) and its type."""

    text: str
    ton: int = TON_INTERNATIONAL
    npi: int = 1

    def __str__(self) -> str:
        if self.ton == TON_INTERNATIONAL and self.text and not self.text.startswith("+"):
            return "+" + self.text
        return self.text


@dataclass(frozen=True)
class DataCoding:
    """TP-DCS as 23.038 4 reads it: which alphabet, which message class, which coding group."""

    value: int
    alphabet: str              # "gsm7", "8bit" or "ucs2"
    message_class: int | None  # 0 (flash) .. 3, or None when the scheme gives none
    compressed: bool
    group: str                 # general, auto-delete, reserved, mwi-discard, mwi-store, data-class


def data_coding(value: int) -> DataCoding:
    """Read one TP-DCS octet (23.038 4); reserved codings are the GSM 7-bit alphabet, as 23.038 says."""
    high = value >> 4
    if high < 8:  # 00xx general data coding, 01xx the same marked for automatic deletion
        alphabet = ("gsm7", "8bit", "ucs2", "gsm7")[(value >> 2) & 3]
        klass = value & 3 if value & 0x10 else None
        return DataCoding(value, alphabet, klass, bool(value & 0x20), "general" if high < 4 else "auto-delete")
    if high == 0xF:
        return DataCoding(value, "8bit" if value & 4 else "gsm7", value & 3, False, "data-class")
    if high in (0xC, 0xD, 0xE):  # message waiting indication: discard / store (GSM 7-bit), store (UCS2)
        group = "mwi-discard" if high == 0xC else "mwi-store"
        return DataCoding(value, "ucs2" if high == 0xE else "gsm7", None, False, group)
    return DataCoding(value, "gsm7", None, False, "reserved")


@dataclass(frozen=True)
class Concat:
    """A concatenation header (23.040 9.2.3.24.1 and .8): part ``sequence`` of ``total`` of message ``reference``."""

    reference: int
    total: int
    sequence: int
    ref_bits: int  # 8 (IEI 0x00) or 16 (IEI 0x08)


@dataclass(frozen=True)
class Deliver:
    """One decoded SMS-DELIVER."""

    smsc: Address | None
    sender: Address
    protocol_id: int
    coding: DataCoding
    timestamp: datetime | None  # None only from a text-mode header without one
    header: tuple[tuple[int, bytes], ...]  # the user data header's information elements (IEI, data)
    payload: bytes   # the user data after the header: septet codes (GSM 7-bit) or octets (8-bit, UCS2)
    more_messages: bool
    reply_path: bool
    status_report: bool

    @property
    def text(self) -> str:
        return payload_text(self.coding.alphabet, self.payload)

    @property
    def concat(self) -> Concat | None:
        """The concatenation element, if any and well-formed (23.040: a malformed one is ignored)."""
        for iei, data in self.header:
            if iei == 0x00 and len(data) == 3:
                ref, total, seq, bits = data[0], data[1], data[2], 8
            elif iei == 0x08 and len(data) == 4:
                ref, total, seq, bits = int.from_bytes(data[:2], "big"), data[2], data[3], 16
            else:
                continue
            if total >= 1 and 1 <= seq <= total:
                return Concat(ref, total, seq, bits)
        return None


def payload_text(alphabet: str, payload: bytes) -> str:
    """Text of a payload (or of the payloads of every part, joined, so a character split between parts survives)."""
    if alphabet == "gsm7":
        return gsm7.decode(list(payload))
    if alphabet == "ucs2":
        return payload[: len(payload) // 2 * 2].decode("utf-16-be", "replace")  # surrogate pairs included
    return payload.decode("latin-1")


class _Reader:
    """Octets with a position; running short is a ``PduError`` naming the field."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, count: int, field: str) -> bytes:
        if self.pos + count > len(self.data):
            raise PduError(self.pos, field, f"needs {count} octet(s), {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + count]
        self.pos += count
        return out

    def octet(self, field: str) -> int:
        return self.take(1, field)[0]


def _digits(data: bytes, count: int | None) -> str:
    out = []
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            if nibble == 0xF:
                continue
            out.append(str(nibble) if nibble < 10 else _BCD_EXTRA[nibble])
    return "".join(out)[:count] if count is not None else "".join(out)


def _address(r: _Reader, field: str) -> Address:
    """TP-OA (23.040 9.1.2.5): semi-octet count, type of address, then the digits or the packed name."""
    start = r.pos
    count = r.octet(f"{field} length")
    if count > 20:
        raise PduError(start, field, f"length {count} semi-octets is over 20")
    toa = r.octet(f"{field} type")
    ton, npi = (toa >> 4) & 7, toa & 0xF
    data = r.take((count + 1) // 2, field)
    if ton == TON_ALPHANUMERIC:
        return Address(gsm7.decode(gsm7.unpack_septets(data, count * 4 // 7)), ton, npi)
    return Address(_digits(data, count), ton, npi)


def _smsc(r: _Reader) -> Address | None:
    """The service centre address (24.011 8.2.5.2): octet count (type included), type, digits."""
    start = r.pos
    size = r.octet("SMSC length")
    if size == 0:
        return None
    if size > 12:
        raise PduError(start, "SMSC", f"length {size} octets is over 12")
    toa = r.octet("SMSC type")
    return Address(_digits(r.take(size - 1, "SMSC"), None), (toa >> 4) & 7, toa & 0xF)


def _bcd(byte: int, offset: int, field: str) -> int:
    low, high = byte & 0xF, byte >> 4
    if low > 9 or high > 9:
        raise PduError(offset, field, f"0x{byte:02X} is not two decimal digits")
    return low * 10 + high


def _timestamp(r: _Reader) -> datetime:
    """TP-SCTS (23.040 9.2.3.11): yy MM dd hh mm ss, each semi-octet swapped, then the zone in quarter hours."""
    start = r.pos
    raw = r.take(7, "TP-SCTS")
    fields = [_bcd(b, start + i, "TP-SCTS") for i, b in enumerate(raw[:6])]
    zone = raw[6]
    quarters = (zone & 0x07) * 10 + (zone >> 4)
    if (zone >> 4) > 9 or quarters > 79:
        raise PduError(start + 6, "TP-SCTS zone", f"0x{zone:02X} is not a time zone")
    offset = timedelta(minutes=15 * quarters) * (-1 if zone & 0x08 else 1)
    yy, mo, dd, hh, mi, ss = fields
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=timezone(offset))
    except ValueError as exc:
        raise PduError(start, "TP-SCTS", str(exc)) from None


def _header(data: bytes, offset: int) -> tuple[tuple[int, bytes], ...]:
    """The information elements of a user data header (23.040 9.2.3.24), the length octet excluded."""
    out, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise PduError(offset + pos, "TP-UDH", "an information element without its length")
        iei, size = data[pos], data[pos + 1]
        if pos + 2 + size > len(data):
            raise PduError(offset + pos, "TP-UDH", f"element 0x{iei:02X} of {size} octets runs past the header")
        out.append((iei, bytes(data[pos + 2:pos + 2 + size])))
        pos += 2 + size
    return tuple(out)


def user_data(first: int, coding: DataCoding, udl: int, ud: bytes, ud_at: int = 0
              ) -> tuple[tuple[tuple[int, bytes], ...], bytes]:
    """TP-UD split into the header's elements and the payload (23.040 9.2.3.24), as PDU and text mode give it.

    ``first`` is the first octet (its TP-UDHI bit says a header leads), ``udl`` the TP-UDL (septets for
    GSM 7-bit, else octets), ``ud_at`` where ``ud`` starts (for errors).
    """
    header: tuple[tuple[int, bytes], ...] = ()
    used = 0  # octets of the header, its length octet included
    if first & 0x40:
        if not ud:
            raise PduError(ud_at, "TP-UDHL", "header indicated but no user data")
        used = ud[0] + 1
        if used > len(ud):
            raise PduError(ud_at, "TP-UDHL", f"header of {ud[0]} octets is longer than the user data")
        header = _header(ud[1:used], ud_at + 1)
    if coding.alphabet == "gsm7":
        skip = (used * 8 + 6) // 7  # the header padded to a septet boundary
        if skip > udl:
            raise PduError(ud_at, "TP-UDHL", f"header of {used} octets is longer than {udl} septets")
        return header, bytes(gsm7.unpack_septets(ud, udl)[skip:])
    return header, ud[used:]


def decode_deliver(pdu: str, length: int | None = None) -> Deliver:
    """One SMS-DELIVER from its hex form as +CMGR/+CMGL/+CMT give it (27.005 3.1: SC address, then the TPDU).

    ``length`` is the <length> field of the header line: the TPDU's octets. When it is given and the
    hex is exactly that long, the modem left the service centre address out (some do).
    """
    text = pdu.strip()
    if len(text) > 2 * MAX_PDU_OCTETS:
        raise PduError(0, "PDU", f"{len(text) // 2} octets is over the {MAX_PDU_OCTETS}-octet limit")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        bad = next((i for i, ch in enumerate(text) if ch not in "0123456789abcdefABCDEF"), len(text) - 1)
        raise PduError(bad // 2, "PDU", f"not hex (character {bad + 1} of {len(text)})") from None
    r = _Reader(data)
    smsc = None if length is not None and length == len(data) else _smsc(r)
    if length is not None and len(data) - r.pos != length:
        raise PduError(r.pos, "<length>", f"header says {length} TPDU octets, the PDU holds {len(data) - r.pos}")
    first = r.octet("first octet")
    if first & 3 != 0:
        raise PduError(r.pos - 1, "TP-MTI", f"type {first & 3} is not SMS-DELIVER (0)")
    sender = _address(r, "TP-OA")
    pid = r.octet("TP-PID")
    coding = data_coding(r.octet("TP-DCS"))
    stamp = _timestamp(r)
    udl_at = r.pos
    udl = r.octet("TP-UDL")
    if coding.compressed:
        raise PduError(udl_at - 8, "TP-DCS", f"0x{coding.value:02X}: compressed text (23.042) is not supported")
    septets = coding.alphabet == "gsm7"
    if udl > (160 if septets else 140):
        raise PduError(udl_at, "TP-UDL", f"{udl} {'septets' if septets else 'octets'} is over the limit")
    ud_at = r.pos
    ud = r.take((udl * 7 + 7) // 8 if septets else udl, "TP-UD")
    header, payload = user_data(first, coding, udl, ud, ud_at)
    return Deliver(smsc, sender, pid, coding, stamp, header, payload, more_messages=not first & 0x04,
                   reply_path=bool(first & 0x80), status_report=bool(first & 0x20))
