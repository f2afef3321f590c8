"""Access codes from a Maildir: newest matching message after the sign-in, removed once read."""

from __future__ import annotations

import mailbox
import os
import time
from email.message import EmailMessage

import pytest

from harness.errors import HarnessTimeout
from harness.flows import MaildirCodeSource


def _deliver(path, body: str, age: float = 0.0) -> None:
    """Deliver a message; ``age`` seconds makes it one that arrived that long ago (its file's mtime)."""
    msg = EmailMessage()
    msg["From"] = "account-security-noreply@accountprotection.microsoft.com"
    msg["Subject"] = "Microsoft account security code"
    msg.set_content(body)
    box = mailbox.Maildir(path, create=True)
    key = box.add(mailbox.MaildirMessage(msg))
    if age:
        then = time.time() - age
        os.utime(path / "new" / key, (then, then))


def _bodies(path) -> list[str]:
    return sorted(m.get_payload().strip() for m in mailbox.Maildir(path, create=False))


def test_reads_the_newest_code_since_and_deletes_it(tmp_path) -> None:
    box = tmp_path / "inbox"
    _deliver(box, "Use 1111111 as Microsoft account security code", age=3600)
    since = time.time()
    _deliver(box, "Use 2222222 as Microsoft account security code")
    _deliver(box, "Use 3333333 as Microsoft account security code", age=60)
    code = MaildirCodeSource(box).wait_for_code(since=since, timeout=2)
    assert code.reveal() == "2222222"
    assert _bodies(box) == ["Use 1111111 as Microsoft account security code",
                            "Use 3333333 as Microsoft account security code"]


def test_a_code_from_before_the_sign_in_is_never_used(tmp_path) -> None:
    """Yesterday's code still in the inbox is not the code of this sign-in: wait for a new one, then time out."""
    box = tmp_path / "inbox"
    _deliver(box, "Use 4444444 as Microsoft account security code", age=3600)
    with pytest.raises(HarnessTimeout) as info:
        MaildirCodeSource(box, poll=0.05).wait_for_code(since=time.time(), timeout=0.5)
    assert "1 message(s)" in str(info.value) and "4444444" not in str(info.value)
    assert _bodies(box) == ["Use 4444444 as Microsoft account security code"]


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
