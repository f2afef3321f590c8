"""Access codes over IMAP from a real Dovecot (started here, without root): IDLE, polling, age, delete/keep, failures.

The messages are put in and checked with the standard library's smtplib (LMTP) and imaplib, not with the
code under test; the codes are the test's own (seeded).
"""

from __future__ import annotations

import imaplib
import logging
import random
import smtplib
import ssl
import threading
import time
from email.message import EmailMessage

import pytest

from harness.errors import HarnessTimeout
from harness.flows.imap_codes import ImapCodeSource, InboxError, InboxLoginFailed, InboxUnavailable, parse_inbox_url
from harness.lab.mailserver import MailServer, dovecot_binary

pytestmark = pytest.mark.skipif(dovecot_binary() is None,
                                reason="dovecot is not installed: scripts/setup or apt-get install dovecot-imapd")

USER = "alice.backup@example.com"
PASSWORD = "inbox-" + "".join(random.Random(16).choices("abcdefghjkmnpqrstuvwxyz23456789", k=12))
CODES = ["".join(random.Random(seed).choices("0123456789", k=7)) for seed in range(8)]


def _message(code: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Microsoft account team <account-security-noreply@accountprotection.microsoft.com>"
    msg["To"] = USER
    msg["Subject"] = "Microsoft account security code"
    msg.set_content(f"Use {code} as Microsoft account security code\n")
    return msg.as_bytes()


def deliver(server: MailServer, code: str) -> None:
    """Hand a code mail to the server as a mail service does (LMTP); returns once the server saved it."""
    with smtplib.LMTP("127.0.0.1", server.lmtp_port, timeout=30) as lmtp:
        lmtp.sendmail("account-security-noreply@accountprotection.microsoft.com", [USER], _message(code))


def _imap(server: MailServer) -> imaplib.IMAP4_SSL:
    box = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ssl.create_default_context(cafile=server.ca_file),
                            timeout=30)
    box.login(USER, PASSWORD)
    return box


def append_arrived(server: MailServer, code: str, when: float) -> None:
    """A code mail that reached the inbox at ``when`` (APPEND sets its arrival time, INTERNALDATE)."""
    box = _imap(server)
    try:
        typ, _ = box.append("INBOX", "", imaplib.Time2Internaldate(when), _message(code))
        assert typ == "OK"
    finally:
        box.logout()


def codes_in_inbox(server: MailServer) -> list[str]:
    box = _imap(server)
    try:
        box.select("INBOX", readonly=True)
        _, data = box.search(None, "ALL")
        found = []
        for num in data[0].split():
            _, parts = box.fetch(num, "(BODY.PEEK[TEXT])")
            found.append(parts[0][1].decode().split()[1])
        return found
    finally:
        box.logout()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def server():
    with MailServer({USER: PASSWORD}) as running:
        yield running


def source(server: MailServer, tls: bool = True, **kw) -> ImapCodeSource:
    return ImapCodeSource(server.inbox_url(USER, tls=tls), PASSWORD, ca_file=server.ca_file if tls else None, **kw)


def in_background(call) -> tuple[threading.Thread, dict]:
    """Run ``call`` on a thread; its result or exception and how long it took land in the returned dict."""
    out: dict = {}

    def run() -> None:
        started = time.monotonic()
        try:
            out["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            out["error"] = exc
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


@pytest.mark.parametrize("tls", [True, False], ids=["imaps", "imap"])
def test_a_code_that_arrives_during_the_wait_is_read_as_idle_announces_it(server, tls) -> None:
    # Polling only every 120 s: within the 60 s deadline only IDLE can bring the code.
    codes = source(server, tls=tls, poll=120)
    since = time.time()
    thread, out = in_background(lambda: codes.wait_for_code(since=since, timeout=60))
    wait_until(lambda: codes.waited_by == "idle" or not thread.is_alive(), 30, "the wait to start IDLE")
    deliver(server, CODES[0])
    thread.join(90)
    assert "error" not in out, out.get("error")
    assert out["result"].reveal() == CODES[0] and codes.waited_by == "idle"
    assert out["seconds"] < 45
    assert codes_in_inbox(server) == [], "the code's message was not deleted after use"


def test_a_code_already_there_is_read_and_kept_when_asked(server) -> None:
    since = time.time()
    deliver(server, CODES[1])
    assert source(server, keep=True).wait_for_code(since=since, timeout=30).reveal() == CODES[1]
    assert codes_in_inbox(server) == [CODES[1]]
    assert source(server).wait_for_code(since=since, timeout=30).reveal() == CODES[1]
    assert codes_in_inbox(server) == []


def test_codes_that_arrived_before_the_request_are_ignored(server) -> None:
    since = time.time()
    append_arrived(server, CODES[2], since - 3600)  # yesterday's sign-in
    append_arrived(server, CODES[3], since - 30)    # half a minute before this one asked
    with pytest.raises(HarnessTimeout) as caught:
        source(server).wait_for_code(since=since, timeout=10)  # room to connect and log in on a loaded machine
    message = str(caught.value)
    assert "2 older than the request" in message and "\n" not in message, message
    assert CODES[2] not in message and CODES[3] not in message
    append_arrived(server, CODES[4], since + 1)  # after the request: this one counts, the newest of all
    assert source(server).wait_for_code(since=since, timeout=30).reveal() == CODES[4]
    assert sorted(codes_in_inbox(server)) == sorted([CODES[2], CODES[3]]), "only the used message goes"


def test_a_wrong_password_is_a_typed_one_line_error_without_the_password(server, caplog) -> None:
    wrong = "not-" + PASSWORD
    caplog.set_level(logging.DEBUG)  # imapclient/imaplib trace the wire at DEBUG: the LOGIN must not be in it
    started = time.monotonic()
    with pytest.raises(InboxLoginFailed) as caught:
        ImapCodeSource(server.inbox_url(USER), wrong, ca_file=server.ca_file).wait_for_code(since=0, timeout=60)
    message = str(caught.value)
    assert "refused the login of " + USER in message and "AUTHENTICATIONFAILED" in message, message
    assert wrong not in message and PASSWORD not in message and "\n" not in message
    assert time.monotonic() - started < 30, "a refused login waited for the deadline"
    assert caplog.records, "no DEBUG log was captured: the test cannot see a leak"
    assert wrong not in caplog.text and PASSWORD not in caplog.text
    # and a right one logs in with that trace on, still without showing it
    deliver(server, CODES[5])
    assert source(server).wait_for_code(since=0, timeout=30).reveal() == CODES[5]
    assert PASSWORD not in caplog.text and CODES[5] not in caplog.text


def test_a_server_that_goes_away_mid_wait_is_a_typed_error_before_the_deadline(server) -> None:
    codes = source(server, poll=120)
    thread, out = in_background(lambda: codes.wait_for_code(since=time.time(), timeout=120))
    wait_until(lambda: codes.waited_by == "idle" or not thread.is_alive(), 30, "the wait to start IDLE")
    server.stop()
    thread.join(150)
    assert isinstance(out.get("error"), InboxUnavailable), out
    message = str(out["error"])
    assert "went away" in message or "cannot connect" in message, message
    assert "\n" not in message and PASSWORD not in message
    assert out["seconds"] < 60, f"took {out['seconds']:.0f}s of a 120 s deadline"


def test_a_server_down_from_the_start_is_a_typed_error_at_once() -> None:
    with MailServer({USER: PASSWORD}) as gone:
        url = gone.inbox_url(USER, tls=False)
    started = time.monotonic()
    with pytest.raises(InboxUnavailable, match="cannot connect"):
        ImapCodeSource(url, PASSWORD).wait_for_code(since=0, timeout=60)
    assert time.monotonic() - started < 30


def test_without_idle_the_inbox_is_polled() -> None:
    with MailServer({USER: PASSWORD}, idle=False) as server:
        box = _imap(server)
        try:
            _, caps = box.capability()
            assert b"IDLE" not in caps[0].split(), caps  # the server really lacks it after login
        finally:
            box.logout()
        codes = source(server, poll=0.3)
        since = time.time()
        thread, out = in_background(lambda: codes.wait_for_code(since=since, timeout=60))
        wait_until(lambda: codes.waited_by == "poll" or not thread.is_alive(), 30, "the wait to poll")
        deliver(server, CODES[6])
        thread.join(90)
        assert "error" not in out, out.get("error")
        assert out["result"].reveal() == CODES[6] and codes.waited_by == "poll"


def test_an_untrusted_certificate_is_refused_naming_the_option(server) -> None:
    with pytest.raises(InboxError, match=r"not trusted.*the CA that signed it \(ca_file\)"):
        ImapCodeSource(server.inbox_url(USER), PASSWORD).wait_for_code(since=0, timeout=30)


@pytest.mark.parametrize("url, says", [
    ("imaps://alice:hunter2-secret@mail.example.com/INBOX", "a password in the URL is refused"),
    ("imaps://mail.example.com/INBOX", "expected imap[s]://USER@HOST"),
    ("pop3://alice@mail.example.com/", "expected imap:// or imaps://"),
    ("imap://alice@mail.example.com:99999/INBOX", "not an imap:// or imaps:// URL"),
])
def test_bad_inbox_urls_are_one_line_errors(url, says) -> None:
    with pytest.raises(InboxError) as caught:
        parse_inbox_url(url)
    assert says in str(caught.value) and "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_inbox_urls_name_user_host_port_and_folder() -> None:
    url = parse_inbox_url("imaps://alice.backup%40example.com@127.0.0.1/Codes/2fa")
    assert (url.tls, url.user, url.host, url.port, url.folder) == (True, USER, "127.0.0.1", 993, "Codes/2fa")
    assert parse_inbox_url("imap://bob@mail").port == 143 and parse_inbox_url("imap://bob@mail").folder == "INBOX"


def test_a_server_that_never_greets_ends_in_a_timeout_at_the_deadline() -> None:
    """Something listens but never speaks (a hung server): the wait still ends at its deadline, saying so."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # connections wait in the backlog; nobody ever accepts or greets
        started = time.monotonic()
        with pytest.raises(HarnessTimeout) as caught:
            ImapCodeSource(f"imap://{USER.replace('@', '%40')}@127.0.0.1:{silent.getsockname()[1]}/INBOX",
                           PASSWORD).wait_for_code(since=time.time(), timeout=4)
        elapsed = time.monotonic() - started
    assert "no greeting from the server" in str(caught.value) and PASSWORD not in str(caught.value)
    assert 3.5 <= elapsed < 20, elapsed
