"""AT command responses of 3GPP TS 27.005/27.007 in text mode: final results, URCs, +CMGL/+CMGR.

Pure functions over decoded lines, so the reader thread and the tests share
them. Anything unexpected becomes a typed error, never a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from harness.errors import HarnessError, HarnessTimeout, quote_seen

#: Prefixes of unsolicited result codes: routed to their own queue, never into a command's response.
URC_PREFIXES = ("+CMTI:", "+CMT:", "+CDSI:", "+CDS:", "^RSSI:", "^BOOT:", "^MODE:", "^SRVST:", "RING", "+CRING:",
                "+CLIP:", "NO CARRIER", "+CREG:", "+CGREG:", "+CEREG:", "RDY", "SMS Ready", "Call Ready",
                "+CPIN: READY", "+QIND:", "+CUSD:", "+CFUN: 1", "^SYSSTART")
FINAL_OK = "OK"
FINAL_ERRORS = ("ERROR", "+CME ERROR:", "+CMS ERROR:", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")


class ModemError(HarnessError):
    """The modem answered ERROR (or broke the protocol)."""


class ModemTimeout(HarnessTimeout):
    """The modem did not answer a command in time."""


class ModemGarbled(ModemError):
    """The answer came, but damaged on the line (noise, a lost byte): worth sending the command again."""


class CmeError(ModemError):
    """+CME ERROR: <code> (mobile equipment error, 27.007 9.2)."""

    def __init__(self, code: str, command: str) -> None:
        self.code = code
        super().__init__(f"{command}: +CME ERROR: {code}")


class CmsError(ModemError):
    """+CMS ERROR: <code> (message service error, 27.005 3.2.5)."""

    def __init__(self, code: str, command: str) -> None:
        self.code = code
        super().__init__(f"{command}: +CMS ERROR: {code}")


@dataclass(frozen=True)
class Sms:
    """One text message as a person reads it: a multipart message is one ``Sms`` made of its parts."""

    index: int
    status: str
    sender: str
    timestamp: datetime | None
    body: str
    indexes: tuple[int, ...] = ()      # where its parts are stored (empty: delivered by +CMT, never stored)
    sources: tuple[object, ...] = ()   # the +CMT deliveries it was made of
    parts: int = 1
    missing: tuple[int, ...] = ()      # numbers of parts that never came (after their deadline)
    coding: str = "text"               # text (text mode), gsm7, 8bit, ucs2

    @property
    def stored(self) -> tuple[int, ...]:
        """Every storage index to read again or delete."""
        return self.indexes or ((self.index,) if self.index >= 0 else ())


@dataclass(eq=False)
class Delivery:
    """A message delivered straight to us (+CMT, 27.005 3.4.1): its header line and the line after it, raw."""

    header: str
    body: str


def is_final(line: str) -> bool:
    return line == FINAL_OK or line.startswith(FINAL_ERRORS)


def _drops_one(longer: str, shorter: str) -> bool:
    """``shorter`` is ``longer`` with exactly one character taken out."""
    return len(longer) == len(shorter) + 1 and any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def damaged_final(line: str) -> bool:
    """A line that is not a final result but is one with a byte slipped in or lost (``OK\\x07``, ``OzK``, ``EROR``).

    Line noise hits the short final results as it hits any line; telling a
    damaged final from an answer line lets the caller retry at once instead
    of waiting for a final result that already came.
    """
    if len(line) > 24 or is_final(line):  # OK and ERROR with a few bytes slipped in are short
        return False
    clean = "".join(ch for ch in line if ch.isprintable()).strip()
    if clean != line and is_final(clean):
        return True
    return any(_drops_one(clean, final) or _drops_one(final, clean) for final in (FINAL_OK, "ERROR"))


def is_urc(line: str, pending: str | None = None) -> bool:
    """A line that belongs to no command; ``pending`` keeps +CREG? and friends' own answers as responses."""
    if not line.startswith(URC_PREFIXES):
        return False
    for prefix in URC_PREFIXES:
        if line.startswith(prefix):
            if pending and prefix.endswith(":") and pending.upper().startswith("AT" + prefix[:-1]):
                return False  # the answer to AT+CREG? looks like the URC +CREG:
            if pending and prefix == "+CPIN: READY" and pending.upper().startswith("AT+CPIN"):
                return False
            return True
    return False


def raise_for_final(line: str, command: str) -> None:
    if line == FINAL_OK:
        return
    if line.startswith("+CME ERROR:"):
        raise CmeError(quote_seen(line.split(":", 1)[1].strip(), 40), command)
    if line.startswith("+CMS ERROR:"):
        raise CmsError(quote_seen(line.split(":", 1)[1].strip(), 40), command)
    raise ModemError(f"{command}: expected OK, saw {quote_seen(line, 120)}")


def split_fields(text: str) -> list[str]:
    """Comma-separated fields with quotes honoured ("a,b",1 -> [a,b, 1]); quotes removed, spaces around fields
    too (only spaces: in the GSM character set 0x1C is a letter, which str.strip would take for white space)."""
    fields, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            fields.append("".join(cur).strip(" "))
            cur = []
        else:
            cur.append(ch)
    fields.append("".join(cur).strip(" "))
    return fields


_SCTS = re.compile(r"^(\d{2})/(\d{2})/(\d{2}),(\d{2}):(\d{2}):(\d{2})([+-])(\d{1,2})$")


def parse_scts(text: str) -> datetime | None:
    """``yy/MM/dd,hh:mm:ss±zz`` (zz in quarter hours) -> an aware datetime, None when malformed."""
    m = _SCTS.match(text.strip().strip('"'))
    if not m:
        return None
    yy, mo, dd, hh, mi, ss, sign, zz = m.groups()
    try:
        offset = timedelta(minutes=15 * int(zz)) * (-1 if sign == "-" else 1)
        return datetime(2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), tzinfo=timezone(offset))
    except ValueError:
        return None


def parse_message_header(line: str, with_index: bool) -> tuple[int, str, str, datetime | None]:
    """+CMGL: <index>,<stat>,<oa>,[<alpha>],[<scts>][,...] or +CMGR: <stat>,<oa>,[<alpha>],[<scts>][,...]."""
    _, _, rest = line.partition(":")
    fields = split_fields(rest)
    try:
        if with_index:
            index, fields = int(fields[0]), fields[1:]
        else:
            index = -1
        status, sender = fields[0], fields[1]
    except (IndexError, ValueError):
        raise ModemError(f"malformed message header {quote_seen(repr(line), 160)}") from None
    timestamp = parse_scts(f"{fields[3]}") if len(fields) > 3 else None
    if timestamp is None and len(fields) > 4:  # an unquoted scts splits in two on its comma
        timestamp = parse_scts(f"{fields[3]},{fields[4]}")
    return index, status, sender, timestamp


def parse_cmt_header(line: str) -> tuple[str, datetime | None]:
    """+CMT: <oa>,[<alpha>],<scts>[,<tooa>,...] (27.005 3.4.1, text mode) -> the sender and the time stamp."""
    fields = split_fields(line.partition(":")[2])
    if len(fields) < 3 or not fields[0]:
        raise ModemError(f"malformed +CMT header {quote_seen(repr(line), 160)}")
    timestamp = parse_scts(fields[2])
    if timestamp is None and len(fields) > 3:  # an unquoted scts splits in two on its comma
        timestamp = parse_scts(f"{fields[2]},{fields[3]}")
    return fields[0], timestamp


#: <stat> in PDU mode (27.005 3.1) and its text-mode name.
PDU_STATUS = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT"}


def parse_pdu_header(line: str, with_index: bool) -> tuple[int, str, int]:
    """+CMGL: <index>,<stat>,[<alpha>],<length> / +CMGR: <stat>,[<alpha>],<length> (27.005 3.4.2, 3.4.3, PDU mode)."""
    fields = split_fields(line.partition(":")[2])
    try:
        index = int(fields.pop(0)) if with_index else -1
        status = PDU_STATUS.get(int(fields[0]), fields[0])
        length = int(fields[-1])
    except (IndexError, ValueError):
        raise ModemError(f"malformed PDU-mode header {quote_seen(repr(line), 160)}") from None
    if len(fields) < 2 or not 0 <= length <= 255:
        raise ModemError(f"malformed PDU-mode header {quote_seen(repr(line), 160)}")
    return index, status, length


def cmt_pdu_length(header: str) -> int | None:
    """The <length> of a PDU-mode +CMT header (``+CMT: [<alpha>],<length>``); None for a text-mode one."""
    fields = split_fields(header.partition(":")[2])
    if len(fields) == 2 and fields[1].isdigit() and '"' not in header.partition(",")[2]:
        return int(fields[1])
    return None


def parse_pdu_listing(lines: list[str], prefix: str = "+CMGL:") -> list[tuple[int, str, int, str]]:
    """(index, status, length, hex PDU) per message of an AT+CMGL=<stat> or AT+CMGR answer in PDU mode.

    A header damaged on the line gives status "DAMAGED" (and index -1 when even that is unreadable), so
    one bad line does not cost the rest of the listing.
    """
    out = []
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            try:
                index, status, length = parse_pdu_header(line, with_index=prefix == "+CMGL:")
            except ModemError:
                head = split_fields(line.partition(":")[2])[0]
                index, status, length = int(head) if head.isdigit() and prefix == "+CMGL:" else -1, "DAMAGED", -1
            pdu = lines[i + 1] if i + 1 < len(lines) and not lines[i + 1].startswith(prefix) else ""
            out.append((index, status, length, pdu))
    return out


def parse_cnum(lines: list[str]) -> list[str]:
    """The numbers in AT+CNUM's answer (27.007 7.1): ``+CNUM: [<alpha>],<number>,<type>[,...]`` per line.

    A number of type 145 (international) is given its leading ``+`` when the modem left it out.
    """
    numbers: list[str] = []
    for line in lines:
        if not line.startswith("+CNUM:"):
            continue
        fields = split_fields(line.partition(":")[2])
        if len(fields) < 2 or not fields[1]:
            continue
        number = fields[1]
        if len(fields) > 2 and fields[2] == "145" and not number.startswith("+"):
            number = "+" + number
        numbers.append(number)
    return numbers


def parse_cmgl(lines: list[str]) -> list[Sms]:
    """The response lines of AT+CMGL: a header line, then the body line, per message."""
    out: list[Sms] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("+CMGL:"):
            index, status, sender, ts = parse_message_header(line, with_index=True)
            body = lines[i + 1] if i + 1 < len(lines) and not lines[i + 1].startswith("+CMGL:") else ""
            i += 2 if body or (i + 1 < len(lines) and lines[i + 1] == "") else 1
            out.append(Sms(index, status, sender, ts, body))
        else:
            i += 1
    return out
