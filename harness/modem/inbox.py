"""Reading, re-reading and deleting messages in the modem's mode: PDU (27.005 3.1) or text (27.005 4.1).

In PDU mode each stored or delivered PDU is decoded (``harness.modem.pdu``)
and multipart messages are joined (``harness.modem.concat``); a PDU that
does not decode is kept aside as a one-line note (index and problem, never
its content) so one damaged message does not hide the code in another.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from harness.errors import quote_seen
from harness.modem.at import (Delivery, ModemError, Sms, cmt_pdu_length, parse_cmgl, parse_cmt_header,
                              parse_pdu_listing)
from harness.modem.concat import Part, assemble
from harness.modem.pdu import PduError, decode_deliver

if TYPE_CHECKING:
    from harness.modem.modem import GsmModem

#: How long the parts of a multipart message are waited for after the first one was seen.
PART_TIMEOUT = 60.0
#: Undecodable messages remembered for the error that ends a wait.
KEEP_NOTES = 16
_TEXT_STATUS = {"ALL": "4", "REC UNREAD": "0", "REC READ": "1", "STO UNSENT": "2", "STO SENT": "3"}


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

    def _parts(self, rows: list[tuple[int, str, int, str]]) -> list[Part]:
        parts = []
        for index, status, length, pdu in rows:
            if status not in ("REC UNREAD", "REC READ"):
                continue  # a stored SMS-SUBMIT (sent or unsent), not a message to us
            try:
                parts.append(Part(decode_deliver(pdu, length), index, status))
            except PduError as exc:
                self._note(f"message {index}", exc)
        return parts

    def _delivered_parts(self, deliveries: list[Delivery]) -> tuple[list[Part], list[Sms]]:
        parts, texts = [], []
        for d in deliveries:
            length = cmt_pdu_length(d.header)
            try:
                if length is None:
                    sender, stamp = parse_cmt_header(d.header)
                    texts.append(Sms(-1, "REC UNREAD", sender, stamp, d.body, sources=(d,)))
                else:
                    parts.append(Part(decode_deliver(d.body, length), source=d))
            except ModemError as exc:
                self._note("a message delivered by +CMT", exc)
        return parts, texts

    def messages(self, status: str = "ALL", timeout: float | None = None,
                 delivered: list[Delivery] | None = None) -> list[Sms]:
        """The stored messages with ``status`` and the ``delivered`` ones, multipart ones joined."""
        budget = timeout or max(self.modem.timeout, 10)
        if self.modem.mode == "pdu":
            rows = parse_pdu_listing(self.modem.command(f"AT+CMGL={_TEXT_STATUS.get(status, status)}", budget))
            parts = self._parts(rows)
            texts: list[Sms] = []
        else:
            texts = parse_cmgl(self.modem.command(f'AT+CMGL="{status}"', timeout=budget))
            parts = []
        more_parts, more_texts = self._delivered_parts(delivered or [])
        joined, self.pending = assemble(parts + more_parts, self.first_seen, time.monotonic(), self.part_timeout)
        return texts + more_texts + joined

    def reread(self, sms: Sms, regex: re.Pattern[str], timeout: float) -> str | None:
        """The code in a second, independent read of a stored message (every part again by AT+CMGR)."""
        deadline = time.monotonic() + timeout
        if self.modem.mode != "pdu" or sms.coding == "text":
            lines = self.modem.command(f"AT+CMGR={sms.stored[0]}", timeout=timeout)
            body = lines[1] if len(lines) > 1 and lines[0].startswith("+CMGR:") else ""
        else:
            parts = []
            for index in sms.stored:
                lines = self.modem.command(f"AT+CMGR={index}", timeout=max(0.05, deadline - time.monotonic()))
                rows = [(index, status, length, pdu) for _, status, length, pdu
                        in parse_pdu_listing(lines, prefix="+CMGR:")]
                parts += self._parts(rows)
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
