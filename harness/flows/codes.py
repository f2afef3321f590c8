"""Where two-step-verification access codes come from: the modem's SMS, a Maildir, or an IMAP inbox (imap_codes)."""

from __future__ import annotations

import mailbox
import re
import time
from email.message import Message
from pathlib import Path
from typing import Protocol

from harness.accounts import Credentials
from harness.errors import HarnessError, HarnessTimeout
from harness.modem.modem import DEFAULT_CODE_PATTERN
from harness.secrets import Secret


class CodeUnreachable(HarnessError):
    """The access code would go somewhere this code source cannot read (another SIM, another inbox)."""


class EmailOnFileUnknown(CodeUnreachable):
    """The code of ``account`` (an address) goes by e-mail, and the address on file it goes to is not known."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"the access code of {account} goes by e-mail, but no e-mail address on file is known")


class CodeSource(Protocol):
    """Something that receives access codes. ``method`` is the choice tapped on the phone.

    A source may also offer ``check_reaches(account)``: flows call it before
    asking for the code, so a code that would go elsewhere fails at once.
    """

    method: str

    def wait_for_code(self, since: float, timeout: float) -> Secret:
        """The code of the newest message that arrived after ``since`` (epoch seconds)."""


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def same_number(a: str, b: str) -> bool:
    """Whether two phone numbers name the same line (+1 555 0100 and 15550100 do; trunk prefixes aside)."""
    da, db = _digits(a), _digits(b)
    if not da or not db:
        return False
    shorter = min(len(da), len(db))
    return da[-shorter:] == db[-shorter:] and shorter >= min(7, max(len(da), len(db)))


class SmsCodeSource:
    """Access codes by text message, read from a GSM modem (``harness.modem``).

    ``number`` is the modem's own number as the lab states it (the
    inventory's ``modem_number``), for SIMs that do not answer AT+CNUM.
    """

    method = "text"

    def __init__(self, modem: object, sender: str | None = None, pattern: str = DEFAULT_CODE_PATTERN,
                 number: str | None = None) -> None:
        self.modem = modem
        self.sender = sender
        self.pattern = pattern
        self.number = number

    def numbers(self) -> list[str]:
        """The numbers this modem receives texts for: what the SIM says (AT+CNUM), else the stated one (may be none)."""
        own = getattr(self.modem, "own_numbers", None)
        held = list(own()) if callable(own) else []
        return held or ([self.number] if self.number else [])

    def check_reaches(self, account: Credentials) -> None:
        """Raise ``CodeUnreachable`` when the account's number on file is not this modem's (when both are known)."""
        if not account.phone:
            return
        held = self.numbers()
        if held and not any(same_number(account.phone, n) for n in held):
            where = getattr(self.modem, "url", "the modem")
            raise CodeUnreachable(f"the access code goes by text to {account.phone} (on file for {account.address}), "
                                  f"but the modem at {where} holds {', '.join(held)}: give the modem of that SIM")

    def wait_for_code(self, since: float, timeout: float) -> Secret:
        code = self.modem.wait_for_access_code(sender=self.sender, pattern=self.pattern,  # type: ignore[attr-defined]
                                               since=since, timeout=timeout)
        return code if isinstance(code, Secret) else Secret(str(code))


def _body(message: Message) -> str:
    if message.is_multipart():
        return "\n".join(_body(part) for part in message.get_payload())  # type: ignore[arg-type]
    payload = message.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode(message.get_content_charset() or "utf-8", "replace")
    return str(message.get_payload())


class MaildirCodeSource:
    """Access codes by e-mail, read from a Maildir the lab gives (fetchmail, offlineimap, the emulator)."""

    method = "email"

    def __init__(self, maildir: str | Path, pattern: str = DEFAULT_CODE_PATTERN, poll: float = 0.2) -> None:
        self.maildir = Path(maildir)
        self.pattern = re.compile(pattern)
        self.poll = poll

    def wait_for_code(self, since: float, timeout: float) -> Secret:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            newest: tuple[float, str, str] | None = None
            seen = 0
            if self.maildir.exists():
                box = mailbox.Maildir(self.maildir, create=False)
                for key in box.keys():
                    message = box.get_message(key)
                    delivered = message.get_date()
                    seen += 1
                    if delivered + 1.0 < since:
                        continue
                    match = self.pattern.search(_body(message))
                    if match and (newest is None or delivered >= newest[0]):
                        newest = (delivered, key, match.group(1) if match.groups() else match.group(0))
                if newest is not None:
                    box.remove(newest[1])
                    return Secret(newest[2])
            if time.monotonic() >= deadline:
                raise HarnessTimeout(f"an access-code e-mail in {self.maildir}",
                                     f"{seen} message(s), none newer than the sign-in with a code", timeout)
            time.sleep(self.poll)


class CodesByAccount:
    """Where each account's access code is read in one run (a flow's ``ctx.codes``).

    By text, one modem serves every account. By e-mail, either one inbox gets
    every code (a Maildir, or ``imap``: an IMAP inbox), or each account's code
    goes to its own Maildir under ``mail_root`` (an emulator delivers mail that
    way), named by its e-mail address on file.
    """

    def __init__(self, method: str, sms: SmsCodeSource | None = None, inbox: Path | None = None,
                 mail_root: Path | None = None, imap: CodeSource | None = None) -> None:
        self.method = method
        self.sms = sms
        self.inbox = inbox
        self.mail_root = mail_root
        self.imap = imap

    def __call__(self, account: Credentials) -> CodeSource | None:
        if self.method == "text":
            return self.sms
        if self.imap is not None:
            return self.imap
        if self.inbox is not None:
            return MaildirCodeSource(self.inbox)
        if not account.email or self.mail_root is None:
            raise EmailOnFileUnknown(account.address)
        return MaildirCodeSource(self.mail_root / account.email)
