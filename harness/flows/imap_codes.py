"""Access codes by e-mail, read over IMAP from the inbox on file (``--inbox imaps://user@host:993/INBOX``).

A lab's account has a real mailbox; this reads it as a mail client does. It
waits with IMAP IDLE, so a code is read as soon as the server announces it,
and polls where the server offers no IDLE. Only messages that arrived at the
server after the code was asked for count; the one used is deleted unless
the caller keeps it. The password comes from the environment, never from the
URL or an argument, and is never in a log line or an error: imaplib's DEBUG
wire trace, which would show it and every message body (the code), is off
for the session.
"""

from __future__ import annotations

import datetime
import email
import imaplib
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from harness.errors import DeviceUnavailable, HarnessError, HarnessTimeout, quote_seen
from harness.modem.modem import DEFAULT_CODE_PATTERN
from harness.secrets import Secret, redact

#: Where the inbox password is read from unless told otherwise.
DEFAULT_PASSWORD_ENV = "HARNESS_INBOX_PASSWORD"
#: The most of one message that is read (a partial FETCH): codes are near the top, attachments are not read.
MAX_MESSAGE_BYTES = 64 * 1024
#: The newest messages of the day that are looked at, so a full inbox costs a bounded read.
MAX_CANDIDATES = 50
#: INTERNALDATE has whole seconds: a message from the second the code was asked for still counts.
ARRIVAL_SLACK = 1.0
#: Longest single IDLE before it is renewed (RFC 2177 asks for less than 29 minutes).
IDLE_SLICE = 60.0
#: Seconds a command begun before the deadline may still take to be answered (a loaded machine, a slow server).
COMMAND_GRACE = 2.0
#: Most seconds a connection may take to greet (TCP connect, TLS, the server's "* OK"): a server that accepts
#: and says nothing counts as unavailable, not as a wait for mail.
CONNECT_LIMIT = 20.0
#: Times a dropped connection is opened again within one wait before the server counts as gone.
RECONNECTS = 2


class InboxError(HarnessError):
    """The inbox could not be read: a bad URL, a refused login, an untrusted certificate, a protocol error.

    ``parameter`` names the input at fault (``url``, ``ca_file``), so a front door can name its own option.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class PasswordInUrl(InboxError):
    """The inbox URL (``shown`` without the password) holds a password: it belongs in the environment."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        super().__init__(f"inbox {shown}: a password in the URL is refused; give it in the environment "
                         f"(${DEFAULT_PASSWORD_ENV} by default)", "url")


class UntrustedServer(InboxError):
    """The certificate of the server at ``url`` is not signed by a CA we trust (``ca_file`` or the system's)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"{url}: the server's certificate is not trusted ({reason}); "
                         "trust the CA that signed it (ca_file)", "ca_file")


class InboxLoginFailed(InboxError):
    """The server refused the user and password (quotes the server's words, never the password)."""


class InboxUnavailable(InboxError, DeviceUnavailable):
    """The mail server cannot be reached, or went away during the wait."""


class _Lost(Exception):
    """The connection dropped; the wait may open it again."""


class _Deadline(Exception):
    """A command was still unanswered when the wait's deadline came."""


@dataclass(frozen=True)
class InboxUrl:
    """``imap[s]://user@host[:port][/folder]``: where the inbox is and who logs in (no password)."""

    tls: bool
    user: str
    host: str
    port: int
    folder: str = "INBOX"

    def __str__(self) -> str:
        return f"{'imaps' if self.tls else 'imap'}://{quote(self.user, safe='')}@{self.host}:{self.port}/{self.folder}"


def is_inbox_url(text: str) -> bool:
    """Whether ``--inbox`` names an IMAP inbox (else it is a Maildir folder)."""
    return text.lower().startswith(("imap://", "imaps://"))


def parse_inbox_url(text: str) -> InboxUrl:
    """Parse an inbox URL; a password in it is refused (it would show in process lists and shell history)."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InboxError(f"inbox: not an imap:// or imaps:// URL ({exc})", "url") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    user = unquote(parts.username or "")
    shown = f"{scheme}://{user}@{host}" + (f":{port}" if port else "") + parts.path
    if scheme not in ("imap", "imaps"):
        raise InboxError(f"inbox {shown}: expected imap:// or imaps://", "url")
    if parts.password is not None:
        raise PasswordInUrl(shown)
    if not user or not host:
        raise InboxError(f"inbox {shown}: expected imap[s]://USER@HOST[:PORT]/FOLDER (the user who logs in, the host)",
                         "url")
    if parts.query or parts.fragment:
        raise InboxError(f"inbox {shown}: a query or fragment means nothing here", "url")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return InboxUrl(scheme == "imaps", user, host, port or (993 if scheme == "imaps" else 143), folder)


def message_text(message: email.message.Message) -> str:
    """The text of a message's parts (what a person reads), decoded by its charset."""
    if message.is_multipart():
        return "\n".join(message_text(part) for part in message.get_payload())  # type: ignore[union-attr]
    payload = message.get_payload(decode=True)
    if isinstance(payload, bytes):
        try:
            return payload.decode(message.get_content_charset() or "utf-8", "replace")
        except LookupError:  # a charset Python does not know
            return payload.decode("utf-8", "replace")
    return str(message.get_payload())


class ImapCodeSource:
    """Access codes by e-mail from an IMAP inbox.

    ``ca_file`` trusts that certificate (a lab's own CA, a test server's
    self-signed one) instead of the system's; verification is never off.
    ``keep=True`` leaves the message in the inbox after use.
    """

    method = "email"

    def __init__(self, url: InboxUrl | str, password: Secret | str, pattern: str = DEFAULT_CODE_PATTERN,
                 keep: bool = False, ca_file: str | Path | None = None, poll: float = 2.0,
                 max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.url = url if isinstance(url, InboxUrl) else parse_inbox_url(url)
        self.password = password if isinstance(password, Secret) else Secret(password)
        self.pattern = re.compile(pattern)
        self.keep = keep
        self.ca_file = Path(ca_file) if ca_file else None
        try:  # read once: a reconnect does not depend on the file still being there
            self._context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise InboxError(f"CA file {self.ca_file}: cannot read a CA certificate from it "
                             f"({getattr(exc, 'strerror', None) or exc})", "ca_file") from None
        self.poll = poll
        self.max_bytes = max_bytes
        #: How the last wait learnt of new mail: "idle" or "poll" (for logs and tests).
        self.waited_by: str | None = None

    def check_reaches(self, account: object = None, timeout: float = 30.0) -> None:
        """Log in once before the code is asked for: a wrong password or a server that is down fails now."""
        try:
            self._close(self._connect(time.monotonic() + timeout))
        except _Deadline as late:
            raise HarnessTimeout(f"a login to {self.url}", str(late), timeout) from None

    # ------------------------------------------------------------------ the wait
    def wait_for_code(self, since: float, timeout: float) -> Secret:
        """The code of the newest message that reached the inbox after ``since`` (epoch seconds)."""
        deadline = time.monotonic() + timeout
        client: Any = None
        after: str | None = None
        reconnects = 0
        seen = "nothing yet"
        try:
            while True:
                try:
                    if client is None:
                        client = self._connect(deadline, after)
                    found, seen = self._scan(client, since, deadline)
                    if found is not None:
                        uid, code = found
                        if not self.keep:
                            self._delete(client, uid, deadline)
                        return Secret(code)
                    if time.monotonic() >= deadline:
                        raise HarnessTimeout(f"an access-code e-mail in {self.url}", seen, timeout)
                    self._wait_for_news(client, deadline)
                except _Deadline as late:
                    raise HarnessTimeout(f"an access-code e-mail in {self.url}", f"{seen} (then {late})", timeout) from None
                except _Lost as lost:
                    self._close(client)
                    client, after = None, str(lost)
                    reconnects += 1
                    if reconnects > RECONNECTS or time.monotonic() >= deadline:
                        raise InboxUnavailable(f"{self.url}: the server went away while waiting for an access code "
                                               f"({lost}); saw {seen}") from None
        finally:
            if client is not None:
                self._close(client)

    def _connect(self, deadline: float, after: str | None = None) -> Any:
        """Connect, log in and select the folder, all within the deadline."""
        from imapclient import IMAPClient
        from imapclient.exceptions import LoginError
        from imapclient.imapclient import SocketTimeout

        budget = max(0.1, deadline - time.monotonic())
        why = f" (after the connection dropped: {after})" if after else ""
        try:
            client = IMAPClient(self.url.host, self.url.port, ssl=self.url.tls, ssl_context=self._context,
                                timeout=SocketTimeout(connect=min(budget, CONNECT_LIMIT), read=budget))
        except ssl.SSLCertVerificationError as exc:
            raise UntrustedServer(str(self.url), str(exc.verify_message)) from None
        except (OSError, imaplib.IMAP4.error) as exc:
            _late(deadline, "no greeting from the server yet")
            raise InboxUnavailable(f"{self.url}: cannot connect{why}: {_reason(exc)}") from None
        client._imap.debug = 0  # imaplib's DEBUG wire trace shows the password and every message body (the code)
        client.normalise_times = False  # INTERNALDATE with its zone, so arrival compares with epoch time
        try:
            client.login(self.url.user, self.password.reveal())
        except LoginError as exc:
            self._close(client)
            said = redact(_unbytes(str(exc))).replace(self.password.reveal(), "[REDACTED]")
            raise InboxLoginFailed(f"{self.url}: the server refused the login of {self.url.user}: "
                                   f"{quote_seen(said, 160)}") from None
        except (OSError, imaplib.IMAP4.abort) as exc:
            self._close(client)
            _late(deadline, "no answer to the login yet")
            raise InboxUnavailable(f"{self.url}: the connection dropped during the login{why}: {_reason(exc)}") from None
        try:
            self._budget(client, deadline)
            client.select_folder(self.url.folder, readonly=self.keep)
        except (OSError, imaplib.IMAP4.abort) as exc:
            self._close(client)
            _late(deadline, f"no answer to opening {self.url.folder} yet")
            raise InboxUnavailable(f"{self.url}: the connection dropped opening {self.url.folder}: {_reason(exc)}") from None
        except imaplib.IMAP4.error as exc:
            self._close(client)
            raise InboxError(f"{self.url}: cannot open folder {self.url.folder!r}: {quote_seen(str(exc), 160)}") from None
        return client

    def _scan(self, client: Any, since: float, deadline: float) -> tuple[tuple[int, str] | None, str]:
        """The newest message after ``since`` holding a code (uid, code), and what was seen, in words."""
        day = datetime.datetime.fromtimestamp(since - 86400).date()  # SEARCH SINCE counts whole days
        with _guard(self, client, deadline):
            uids = sorted(client.search(["NOT", "DELETED", "SINCE", day]))[-MAX_CANDIDATES:]
            meta = client.fetch(uids, ["INTERNALDATE", "RFC822.SIZE"]) if uids else {}
        arrived = {uid: data[b"INTERNALDATE"].timestamp() for uid, data in meta.items() if b"INTERNALDATE" in data}
        fresh = sorted((uid for uid in arrived if arrived[uid] + ARRIVAL_SLACK >= since),
                       key=lambda uid: (arrived[uid], uid), reverse=True)
        for uid in fresh:
            with _guard(self, client, deadline):
                fetched = client.fetch([uid], [f"BODY.PEEK[]<0.{self.max_bytes}>"]).get(uid, {})
            raw = next((v for k, v in fetched.items() if k.startswith(b"BODY[")), None)
            if not isinstance(raw, bytes):
                continue
            match = self.pattern.search(message_text(email.message_from_bytes(raw[: self.max_bytes])))
            if match:
                return (uid, match.group(1) if match.groups() else match.group(0)), ""
        older = len(arrived) - len(fresh)
        return None, (f"{len(arrived)} message(s) in {self.url.folder} since {day}: {older} older than the request, "
                      f"{len(fresh)} newer without a code")

    def _wait_for_news(self, client: Any, deadline: float) -> None:
        """Until the server announces a change (IDLE), or one poll interval (no IDLE), within the deadline."""
        left = max(0.0, deadline - time.monotonic())
        with _guard(self, client, deadline):
            idle = client.has_capability("IDLE")
        if idle:
            self.waited_by = "idle"
            with _guard(self, client, deadline):
                client.idle()
                try:
                    responses = client.idle_check(timeout=min(left, IDLE_SLICE))
                finally:
                    self._budget(client, deadline)
                    client.idle_done()
            if any(r and r[0] == b"BYE" for r in responses):
                raise _Lost("the server said BYE")
        else:
            self.waited_by = "poll"
            time.sleep(min(self.poll, left))
            with _guard(self, client, deadline):
                client.noop()

    def _delete(self, client: Any, uid: int, deadline: float) -> None:
        """Remove the message that was used (UID EXPUNGE where the server has UIDPLUS)."""
        with _guard(self, client, deadline):
            client.delete_messages([uid])
            self._budget(client, deadline)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([uid])
            else:
                client.expunge()

    @staticmethod
    def _budget(client: Any, deadline: float) -> None:
        """The next answer may take the time left, and a little after the deadline (a command started in time ends)."""
        client.socket().settimeout(max(COMMAND_GRACE, deadline - time.monotonic()))

    @staticmethod
    def _close(client: Any) -> None:
        try:
            client.socket().settimeout(2.0)
            client.logout()
        except Exception:
            try:
                client.shutdown()
            except Exception:
                pass


class _guard:
    """Each command within the deadline; a dropped connection becomes ``_Lost``, a timeout at the deadline a timeout."""

    def __init__(self, source: ImapCodeSource, client: Any, deadline: float) -> None:
        self.source, self.client, self.deadline = source, client, deadline

    def __enter__(self) -> None:
        try:
            ImapCodeSource._budget(self.client, self.deadline)
        except (OSError, AttributeError) as exc:  # no socket left: the connection is gone
            raise _Lost(_reason(exc)) from None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        if isinstance(exc, (OSError, imaplib.IMAP4.abort)):
            _late(self.deadline, "no answer from the server")
            raise _Lost(_reason(exc)) from None
        if isinstance(exc, imaplib.IMAP4.error):
            raise InboxError(f"{self.source.url}: the server answered with an error: {quote_seen(str(exc), 160)}") from None
        return False


def _late(deadline: float, what: str) -> None:
    """A failed read past the deadline is the deadline's doing (a timed-out socket): raise ``_Deadline``."""
    if time.monotonic() >= deadline - 0.05:
        raise _Deadline(what)


def _unbytes(text: str) -> str:
    """imapclient quotes the server's words as a bytes repr (b'...'): the words alone."""
    return text[2:-1] if len(text) >= 3 and text[:2] in ("b'", 'b"') and text[-1] == text[1] else text


def _reason(exc: BaseException) -> str:
    """An exception as a few words (no traceback, no secret)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return quote_seen(redact(str(text)), 160)
