"""Access codes from a Maildir: newest matching message after the sign-in, removed once read."""

from __future__ import annotations

import mailbox
import time
from email.message import EmailMessage

import pytest

from harness.errors import HarnessTimeout
from harness.flows import MaildirCodeSource


def _deliver(path, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = "account-security-noreply@accountprotection.microsoft.com"
    msg["Subject"] = "Microsoft account security code"
    msg.set_content(body)
    mailbox.Maildir(path, create=True).add(mailbox.MaildirMessage(msg))


def test_reads_the_newest_code_since_and_deletes_it(tmp_path) -> None:
    box = tmp_path / "inbox"
    _deliver(box, "Use 1111111 as Microsoft account security code")
    time.sleep(1.2)
    since = time.time()
    _deliver(box, "Use 2222222 as Microsoft account security code")
    code = MaildirCodeSource(box).wait_for_code(since=since + 0.5, timeout=2)
    assert code.reveal() == "2222222"
    assert len(mailbox.Maildir(box, create=False)) == 1


def test_times_out_with_what_it_saw(tmp_path) -> None:
    box = tmp_path / "inbox"
    _deliver(box, "no code in here")
    with pytest.raises(HarnessTimeout) as info:
        MaildirCodeSource(box, poll=0.05).wait_for_code(since=0, timeout=0.3)
    assert "1 message(s)" in str(info.value) and str(box) in str(info.value)


def test_a_pattern_without_a_group_gives_the_whole_match(tmp_path) -> None:
    box = tmp_path / "inbox"
    _deliver(box, "Security code: A-4711")
    assert MaildirCodeSource(box, pattern=r"A-\d{4}").wait_for_code(since=0, timeout=2).reveal() == "A-4711"
