"""Messages in text mode (27.005 3.1, 3.4.1, 4.1) read as what they are: a header, and data that may be hex.

With ``AT+CSDH=1`` a text-mode header carries the first octet <fo> and the
data coding scheme <dcs> (``+CMGR``, ``+CMT``; ``+CMGL`` gives only
<tooa> and <length>). 27.005 3.1 <data>: 7-bit text without a user data
header comes in the TE character set (``AT+CSCS="GSM"``: one character per
septet); 8-bit and UCS2 data, and any data with a user data header, come as
hex octets - the whole TP-UD, the header included. So a UCS2 or multipart
message is decoded here into the same ``Deliver`` as a PDU, and joined with
``harness.modem.concat`` like one.

A listing cannot say which form its data is in; the <length> usually can
(hex is two characters an octet, text one a character), and a row that
could be hex is read again by ``AT+CMGR`` for its <fo> and <dcs>.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.errors import quote_seen
from harness.modem.at import ModemError, parse_scts, split_fields
from harness.modem import gsm7
from harness.modem.pdu import TON_ALPHANUMERIC, TON_INTERNATIONAL, Address, Deliver, PduError, data_coding, user_data

_HEX = frozenset("0123456789abcdefABCDEF")
#: Where <scts> sits in each header's fields (27.005 3.4.1, 3.4.2, 3.4.3, text mode).
_SCTS_AT = {"+CMGL:": 4, "+CMGR:": 3, "+CMT:": 2}
#: A +CMGL row of a status report (<fo>,<mr>,<ra>,<tora>,<scts>,<dt>,<st> after <stat>) has this many fields.
_REPORT_FIELDS = 9


@dataclass(frozen=True)
class TextHeader:
    """The fields of one text-mode header line; those the modem did not give are None."""

    index: int
    status: str
    sender: str
    timestamp: datetime | None
    tooa: int | None = None
    fo: int | None = None
    pid: int | None = None
    dcs: int | None = None
    length: int | None = None
    report: bool = False


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def parse_text_header(line: str) -> TextHeader:
    """A +CMGL, +CMGR or +CMT header line in text mode (with or without the +CSDH=1 fields)."""
    prefix = next((p for p in _SCTS_AT if line.startswith(p)), None)
    if prefix is None:
        raise ModemError(f"not a text-mode message header: {quote_seen(repr(line), 80)}")
    fields = split_fields(line.partition(":")[2])
    index = -1
    if prefix == "+CMGL:":
        index = _int(fields[0]) if fields else None  # type: ignore[assignment]
        if index is None:
            raise ModemError(f"malformed message header {quote_seen(repr(line), 160)}")
    at = _SCTS_AT[prefix]
    if len(fields) <= at - 2 or not fields[at - 2]:
        raise ModemError(f"malformed message header {quote_seen(repr(line), 160)}")
    if prefix == "+CMGL:" and len(fields) >= _REPORT_FIELDS:
        return TextHeader(index, fields[1], "", None, report=True)
    stamp = parse_scts(fields[at]) if len(fields) > at else None
    if stamp is None and len(fields) > at + 1 and parse_scts(f"{fields[at]},{fields[at + 1]}") is not None:
        stamp = parse_scts(f"{fields[at]},{fields[at + 1]}")  # an unquoted <scts> splits on its comma
        fields[at:at + 2] = [f"{fields[at]},{fields[at + 1]}"]
    rest = fields[at + 1:]
    status = fields[1] if prefix == "+CMGL:" else fields[0] if prefix == "+CMGR:" else "REC UNREAD"
    sender = fields[at - 2]
    if prefix == "+CMGL:":  # [,<tooa>,<length>]
        tooa, length = (_int(rest[0]), _int(rest[1])) if len(rest) >= 2 else (None, None)
        return TextHeader(index, status, sender, stamp, tooa, length=length)
    if len(rest) < 7:  # no +CSDH=1 fields
        return TextHeader(index, status, sender, stamp)
    return TextHeader(index, status, sender, stamp, _int(rest[0]), _int(rest[1]), _int(rest[2]), _int(rest[3]),
                      _int(rest[6]))


def could_be_hex(header: TextHeader, data: str) -> bool:
    """Data that may be hex octets rather than text: all hex digits, and not as long as <length> says text is."""
    data = data.strip()
    return bool(data) and len(data) % 2 == 0 and set(data) <= _HEX and header.length != len(data)


def _address(header: TextHeader) -> Address:
    """<oa> and <tooa>; an alphanumeric name comes in the TE character set (+CSCS="GSM": a character a septet)."""
    if header.tooa is not None:
        ton, text = (header.tooa >> 4) & 7, header.sender
        if ton == TON_ALPHANUMERIC and all(ord(ch) < 0x80 for ch in text):
            text = gsm7.decode([ord(ch) for ch in text])
        return Address(text if ton == TON_ALPHANUMERIC else text.lstrip("+"), ton, header.tooa & 0xF)
    if header.sender.startswith("+"):
        return Address(header.sender[1:], TON_INTERNATIONAL)
    return Address(header.sender, 0)


def _septets(length: int | None, ud: bytes, with_header: bool) -> int:
    """TP-UDL of 7-bit user data given as hex: <length> where it counts septets (more than the octets, and
    packing into them), else what the octets hold. Octets with 7 spare bits at the end cannot say whether
    those were a last '@' (code 0) or padding; a zero there is taken for padding, as senders pad with zeros.
    """
    if length is not None and length > len(ud) and (length * 7 + 7) // 8 == len(ud):
        return length
    count = len(ud) * 8 // 7
    header = (((ud[0] + 1) * 8 + 6) // 7) if with_header and ud else 0  # septets a user data header fills
    if count > header and len(ud) * 8 % 7 == 0 and ud[-1] >> 1 == 0:
        count -= 1
    return count


def text_deliver(header: TextHeader, data: str) -> Deliver | None:
    """The message of a header with <fo> and <dcs> (or known to be 7-bit text) and its <data>.

    None when the header lacks <fo>/<dcs> and the data could be hex: only ``AT+CMGR`` can tell.
    Data that does not match its header (not hex where hex is due, a <length> it does not have) is a
    ``ModemError`` saying so, never quoting it.
    """
    fo, dcs = header.fo, header.dcs
    if fo is None or dcs is None:
        if could_be_hex(header, data):
            return None
        fo, dcs = 0, 0
    coding = data_coding(dcs)
    if coding.compressed:
        raise PduError(0, "<dcs>", f"0x{dcs:02X}: compressed text (23.042) is not supported")
    stamp = header.timestamp
    if coding.alphabet != "gsm7" or fo & 0x40:  # 27.005 3.1 <data>: the TP-UD in hex
        text = data.strip()
        if len(text) % 2 or not set(text) <= _HEX or len(text) > 280:
            raise PduError(0, "<data>", f"{len(text)} characters are not the hex octets of a user data field")
        ud = bytes.fromhex(text)
        if coding.alphabet == "gsm7":
            udl = _septets(header.length, ud, bool(fo & 0x40))
        else:
            udl = len(ud)
            if header.length is not None and header.length != udl:
                raise PduError(0, "<length>", f"header says {header.length} octets, the data holds {udl}")
        head, payload = user_data(fo, coding, udl, ud)  # type: ignore[arg-type]
    else:
        if header.length is not None and header.length != len(data):
            raise PduError(0, "<length>", f"header says {header.length} characters, the line holds {len(data)}")
        if any(ord(ch) > 0x7F for ch in data):
            raise PduError(0, "<data>", "a character outside the GSM 7-bit alphabet (+CSCS=\"GSM\")")
        head, payload = (), data.encode("latin-1")
    return Deliver(None, _address(header), header.pid or 0, coding, stamp, head, payload,  # type: ignore[arg-type]
                   more_messages=not fo & 0x04, reply_path=bool(fo & 0x80), status_report=bool(fo & 0x20))


def parse_text_listing(lines: list[str], prefix: str = "+CMGL:") -> list[tuple[TextHeader | None, int, str]]:
    """(header, index, data) per message of a text-mode +CMGL or +CMGR answer; header None when damaged
    (read it again by its index); a +CMGL header without even its index is a ``ModemError``."""
    out: list[tuple[TextHeader | None, int, str]] = []
    for i, line in enumerate(lines):
        if not line.startswith(prefix):
            continue
        data = lines[i + 1] if i + 1 < len(lines) and not lines[i + 1].startswith(prefix) else ""
        try:
            header: TextHeader | None = parse_text_header(line)
            index = header.index  # type: ignore[union-attr]
        except ModemError:
            head = split_fields(line.partition(":")[2])[0]
            if prefix == "+CMGL:" and not head.isdigit():
                raise  # not even its index: nothing to read again, and a listing that says nothing is no listing
            header, index = None, int(head) if head.isdigit() else -1
        out.append((header, index, data))
    return out
