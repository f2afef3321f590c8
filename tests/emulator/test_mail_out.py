"""The emulated account service hands its mail to a real mail server over LMTP (harness emulate --mail-to)."""

from __future__ import annotations

import email
import imaplib
import re
import ssl
import subprocess
import sys
import threading
import time

import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.mail_out import LmtpSender, parse_mail_to
from harness.emulator.sms import SmsNetwork
from harness.lab.mailserver import MailServer, dovecot_binary

INBOX = "alice.backup@example.com"  # alice's e-mail on file in the demo accounts
PASSWORD = "pw-mail-out-4711"


def _inbox_bodies(server: MailServer, user: str = INBOX, password: str = PASSWORD) -> list[str]:
    return [m.get_payload(decode=True).decode() for m in _inbox(server, user, password)]


def _inbox(server: MailServer, user: str = INBOX, password: str = PASSWORD) -> list[email.message.Message]:
    box = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ssl.create_default_context(cafile=server.ca_file),
                            timeout=30)
    try:
        box.login(user, password)
        box.select("INBOX", readonly=True)
        _, data = box.search(None, "ALL")
        bodies = []
        for num in data[0].split():
            _, parts = box.fetch(num, "(RFC822)")
            bodies.append(email.message_from_bytes(parts[0][1]))
        return bodies
    finally:
        box.logout()


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


@pytest.mark.skipif(dovecot_binary() is None, reason="dovecot is not installed: apt-get install dovecot-imapd")
def test_codes_by_email_reach_the_inbox_on_file_and_a_refused_recipient_is_logged() -> None:
    lines: list[str] = []
    logged = threading.Lock()

    def log(line: str) -> None:
        with logged:
            lines.append(line)

    with MailServer({INBOX: PASSWORD}) as server:
        sender = LmtpSender(server.lmtp_url, log=log)
        service = AccountService(load_accounts(DEMO_ACCOUNTS), SmsNetwork(), mail_to=sender)
        try:
            assert service.send_code("alice@outlook.com", "email").endswith("@example.com")
            service.send_code("carol@hotmail.com", "email")  # carol.recovery@example.com has no mailbox there
            _wait_until(lambda: len(lines) >= 2, 60, "both deliveries to be logged")
        finally:
            sender.close()
        bodies = _inbox_bodies(server)
    assert len(bodies) == 1, bodies
    code = re.search(r"\b(\d{7})\b", bodies[0]).group(1)
    assert service.verify_code("alice@outlook.com", code), "the code in the inbox is not the one the service accepts"
    assert any("delivered" in line and INBOX in line for line in lines), lines
    assert any("refused carol.recovery@example.com: 550" in line for line in lines), lines
    assert all(code not in line for line in lines), "a delivery log line shows the code"


@pytest.mark.skipif(dovecot_binary() is None, reason="dovecot is not installed: apt-get install dovecot-imapd")
def test_mail_that_arrives_for_an_account_reaches_its_mailbox_on_the_server() -> None:
    lines: list[str] = []
    with MailServer({"bob@outlook.com": PASSWORD}) as server:
        sender = LmtpSender(server.lmtp_url, log=lines.append)
        service = AccountService(load_accounts(DEMO_ACCOUNTS), SmsNetwork(), mail_to=sender)
        try:
            service.receive_mail("bob@outlook.com", "Dana <dana@example.com>", "Lunch on Friday?", "At noon.")
            _wait_until(lambda: lines, 60, "the delivery to be logged")
        finally:
            sender.close()
        (message,) = _inbox(server, "bob@outlook.com")
    assert (message["From"], message["Subject"]) == ("Dana <dana@example.com>", "Lunch on Friday?")
    assert message.get_payload(decode=True).decode().strip() == "At noon."
    assert service.mail_for("bob@outlook.com")[0].subject == "Lunch on Friday?"  # and the phone still syncs it


@pytest.mark.parametrize("url, says", [
    ("smtp://127.0.0.1:25", "expected lmtp://HOST:PORT"),
    ("lmtp://127.0.0.1", "with both"),
    ("lmtp://user:pw@127.0.0.1:24/INBOX", "only lmtp://HOST:PORT"),
])
def test_a_bad_mail_to_is_one_line(url, says) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_mail_to(url)
    done = subprocess.run([sys.executable, "-m", "harness", "emulate", "--mail-to", url], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and says in done.stderr.splitlines()[-1], done.stderr
