"""How the emulated account service hands its mail on: to a real mail server over LMTP.

A real account service does not write into anyone's mailbox; it hands each
message to the recipient's mail server. ``harness emulate --mail-to
lmtp://HOST:PORT`` does the same (Dovecot's LMTP listener in the tests), so
the harness reads the code where a lab reads it: in the inbox, over IMAP.
Mail that arrives later for a Microsoft account (the control socket's
``mail_deliver``, what the phone's Outlook app syncs) is handed to the server
too, to the account's own address.
Without it the service writes into a local Maildir folder (``--mail-dir``).

Delivery happens on a thread of its own, as an outgoing mail queue does: the
handset's screens never wait for a mail server, and a message the server
refuses (an unknown recipient, a server that is down) is logged, not raised
into the sign-in.
"""

from __future__ import annotations

import queue
import smtplib
import threading
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Callable
from urllib.parse import urlsplit

#: Seconds one delivery may take (connect, LHLO, MAIL, RCPT, DATA).
DELIVERY_TIMEOUT = 15.0


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """One plain-text e-mail, as the service hands it on."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body + "\n")
    return message


def parse_mail_to(text: str) -> tuple[str, int]:
    """``lmtp://HOST:PORT`` -> (host, port); a ValueError names what is wrong."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if parts.scheme.lower() != "lmtp":
        raise ValueError(f"{text!r}: expected lmtp://HOST:PORT (a mail server's LMTP listener)")
    if not parts.hostname or port is None:
        raise ValueError(f"{text!r}: expected lmtp://HOST:PORT, with both")
    if parts.username or parts.password or parts.path.strip("/") or parts.query:
        raise ValueError(f"{text!r}: only lmtp://HOST:PORT (LMTP takes no login, folder or options)")
    return parts.hostname, port


class LmtpSender:
    """Hands messages to an LMTP server, one after another, on a thread of its own."""

    def __init__(self, url: str, log: Callable[[str], None] | None = None, timeout: float = DELIVERY_TIMEOUT) -> None:
        self.host, self.port = parse_mail_to(url)
        self.url = url
        self.log = log or (lambda line: None)
        self.timeout = timeout
        self._queue: queue.Queue[tuple[str, EmailMessage] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mail-out", daemon=True)
        self._thread.start()

    def __call__(self, to: str, message: EmailMessage) -> None:
        """Queue ``message`` for ``to`` (returns at once)."""
        self._queue.put((to, message))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            to, message = item
            try:
                with smtplib.LMTP(self.host, self.port, timeout=self.timeout) as server:
                    server.sendmail(parseaddr(str(message["From"] or ""))[1], [to], message.as_bytes())
                self.log(f"mail: delivered {message['Subject']!r} to {to} at {self.url}")
            except smtplib.SMTPRecipientsRefused as exc:
                code, said = next(iter(exc.recipients.values()))
                self.log(f"mail: {self.url} refused {to}: {code} {said.decode(errors='replace')}")
            except (OSError, smtplib.SMTPException) as exc:
                self.log(f"mail: not delivered to {to} at {self.url}: {exc}")

    def close(self, timeout: float = DELIVERY_TIMEOUT) -> None:
        """Deliver what is queued (each within its timeout), then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)
