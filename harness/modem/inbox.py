"""Reading, re-reading and deleting messages in the modem's mode: PDU (27.005 3.1) or text (27.005 4.1).

In PDU mode each stored or delivered PDU is decoded (``harness.modem.pdu``);
in text mode each header and its data (hex for UCS2, 8-bit and multipart
parts, ``harness.modem.textmode``). Multipart messages are joined
(``harness.modem.concat``) in both modes. A message that does not decode is
kept aside as a one-line note (index and problem, never its content) so one
damaged message does not hide the code in another.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from harness.errors import HarnessTimeout, quote_seen
from harness.modem.at import Delivery, ModemError, Sms, cmt_pdu_length, parse_pdu_listing
from harness.modem.concat import Part, assemble
from harness.modem.pdu import PduError, decode_deliver
from harness.modem.textmode import TextHeader, could_be_hex, parse_text_header, parse_text_listing, text_deliver

if TYPE_CHECKING:
    from harness.modem.modem import GsmModem

#: How long the parts of a multipart message are waited for after the first one was seen.
PART_TIMEOUT = 60.0
#: Undecodable messages remembered for the error that ends a wait.
KEEP_NOTES = 16
#: A message damaged on the line is read again by itself this many times, for this many messages a listing.
REREAD_TRIES = 8
REREAD_MESSAGES = 8
_HEX = frozenset("0123456789abcdefABCDEF")
_TEXT_STATUS = {"ALL": "4", "REC UNREAD": "0", "REC READ": "1", "STO UNSENT": "2", "STO SENT": "3"}


def _hex_only(line: str) -> str:
    """A PDU line without the bytes line noise slipped in that cannot be hex.

    Safe because nothing is guessed: a PDU missing a digit, or with a hex digit slipped in, no longer
    matches the <length> of its header and fails to decode, and a code is only used when a second
    read gives it again.
    """
    return "".join(ch for ch in line if ch in _HEX)


def _text_message(header: TextHeader, index: int, data: str, final: bool,
                  source: Delivery | None = None) -> Part | Sms | None:
    """One text-mode message: a decoded part; its data as it stands when the modem gives nothing to check
    it by (+CSDH=0); or None when only AT+CMGR can say whether its data is hex (not ``final``)."""
    if header.fo is None or header.dcs is None:
        if could_be_hex(header, data) and not final:
            return None
        if could_be_hex(header, data) or header.length is None:
            return Sms(index, header.status, header.sender, header.timestamp, data,
                       sources=(source,) if source else ())
    deliver = text_deliver(header, data)  # <fo>/<dcs> known, or data that cannot be hex: never None here
    return Part(deliver, index, header.status, source) if deliver is not None else None


class Inbox:
    """The messages of one modem as a person reads them: decoded, joined, with where each part lives."""

    def __init__(self, modem: GsmModem, part_timeout: float = PART_TIMEOUT) -> None:
        self.modem = modem
        self.part_timeout = part_timeout
        self.first_seen: dict[tuple, float] = {}
        self.notes: list[str] = []   # PDUs that did not decode, one line each
        self.pending = 0             # multipart messages still waiting for a part

    def _note(self, where: str, exc: Exception) -> None:
        note = f"{where}: {exc}"
        if note not in self.notes:
            self.notes = (self.notes + [note])[-KEEP_NOTES:]
            self.modem.log.write("!!", note)

    def _parts(self, rows: list[tuple[int, str, int, str]]) -> tuple[list[Part], list[int]]:
        """The decoded parts, and the indexes of messages damaged on the line (worth reading again)."""
        parts, damaged = [], []
        for index, status, length, pdu in rows:
            if status == "DAMAGED":
                damaged += [index] if index >= 0 else []
                continue
            if status not in ("REC UNREAD", "REC READ"):
                continue  # a stored SMS-SUBMIT (sent or unsent), not a message to us
            try:
                parts.append(Part(decode_deliver(_hex_only(pdu), length), index, status))
            except PduError as exc:
                self._note(f"message {index}", exc)
                damaged.append(index)
        return parts, damaged

    def _text_parts(self, rows: list[tuple[TextHeader | None, int, str]], final: bool
                    ) -> tuple[list[Part], list[Sms], list[int]]:
        """Text-mode rows decoded; and the indexes to read again by AT+CMGR: damaged, or hex without <fo>/<dcs>.

        ``final``: the rows are AT+CMGR's own, so data still without <fo>/<dcs> is taken as text.
        """
        parts: list[Part] = []
        texts: list[Sms] = []
        again: list[int] = []
        for header, index, data in rows:
            if header is None:
                again += [index] if index >= 0 else []
                continue
            if header.report or header.status not in ("REC UNREAD", "REC READ"):
                continue  # a status report or a stored SMS-SUBMIT, not a message to us
            try:
                got = _text_message(header, index, data, final)
            except ModemError as exc:
                self._note(f"message {index}", exc)
                again.append(index)
                continue
            if isinstance(got, Part):
                parts.append(got)
            elif got is not None:
                texts.append(got)
            else:
                again.append(index)
        return parts, texts, again

    def _read_again(self, damaged: list[int], deadline: float, limit: int = REREAD_MESSAGES,
                    per_read: float | None = None) -> tuple[list[Part], list[Sms]]:
        """Messages read one by one (AT+CMGR: a short answer, with <fo>/<dcs> in text mode), a few tries each."""
        parts: list[Part] = []
        texts: list[Sms] = []
        for index in damaged[:limit]:
            for _ in range(REREAD_TRIES):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return parts, texts
                try:
                    lines = self.modem.command(f"AT+CMGR={index}", timeout=min(per_read or self.modem.timeout, remaining))
                except (ModemError, HarnessTimeout):
                    continue
                if self.modem.mode == "pdu":
                    rows = [(index, status, length, pdu) for _, status, length, pdu
                            in parse_pdu_listing(lines, prefix="+CMGR:")]
                    got, bad = self._parts(rows)
                    more: list[Sms] = []
                else:
                    rows_t = [(h, index, data) for h, _, data in parse_text_listing(lines, prefix="+CMGR:")]
                    got, more, bad = self._text_parts(rows_t, final=True)
                if (got or more) and not bad:
                    parts += got
                    texts += more
                    break
        return parts, texts

    def _delivered_parts(self, deliveries: list[Delivery]) -> tuple[list[Part], list[Sms]]:
        parts, texts = [], []
        for d in deliveries:  # delivered once: no second read, the message must decode as it came
            length = cmt_pdu_length(d.header)
            try:
                if length is None:
                    got = _text_message(parse_text_header(d.header), -1, d.body, final=True, source=d)
                    if isinstance(got, Part):
                        parts.append(got)
                    elif got is not None:
                        texts.append(got)
                else:
                    parts.append(Part(decode_deliver(d.body, length), source=d))
            except ModemError as exc:
                self._note("a message delivered by +CMT", exc)
        return parts, texts

    def messages(self, status: str = "ALL", timeout: float | None = None,
                 delivered: list[Delivery] | None = None) -> list[Sms]:
        """The stored messages with ``status`` and the ``delivered`` ones, multipart ones joined."""
        budget = timeout or max(self.modem.timeout, 10)
        deadline = time.monotonic() + budget
        texts: list[Sms] = []
        if self.modem.mode == "pdu":
            rows = parse_pdu_listing(self.modem.command(f"AT+CMGL={_TEXT_STATUS.get(status, status)}", budget))
            parts, damaged = self._parts(rows)
        else:
            listing = parse_text_listing(self.modem.command(f'AT+CMGL="{status}"', timeout=budget))
            parts, texts, damaged = self._text_parts(listing, final=False)
        limit = REREAD_MESSAGES if self.modem.mode == "pdu" else len(damaged)  # text mode: hex rows are read again
        got, more = self._read_again(damaged, deadline, limit=limit)
        more_parts, more_texts = self._delivered_parts(delivered or [])
        joined, self.pending = assemble(parts + got + more_parts, self.first_seen, time.monotonic(), self.part_timeout)
        return texts + more + more_texts + joined

    def reread(self, sms: Sms, regex: re.Pattern[str], timeout: float) -> str | None:
        """The code in a second, independent read of a stored message (every part again by AT+CMGR)."""
        deadline = time.monotonic() + timeout
        parts, texts = self._read_again(list(sms.stored), deadline, limit=len(sms.stored), per_read=timeout)
        if sms.coding == "text":
            body = texts[0].body if len(texts) == 1 and not parts else ""
        else:
            joined, _ = assemble(parts, {}, 0.0, 0.0)
            whole = [m for m in joined if not m.missing and m.parts == sms.parts]
            body = whole[0].body if len(whole) == 1 else ""
        found = regex.search(body)
        return (found.group(1) if found.groups() else found.group(0)) if found else None

    def problems(self) -> str:
        """What the error that ends a wait should add: undecodable messages, parts still missing."""
        out = ""
        if self.pending:
            out += f"; {self.pending} multipart message(s) still missing parts"
        if self.notes:
            out += f"; {len(self.notes)} message(s) not decoded, last: {quote_seen(self.notes[-1], 160)}"
        return out
