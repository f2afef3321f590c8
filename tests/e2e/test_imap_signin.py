"""Two-step sign-in with the e-mail code read over IMAP: the emulated account service hands the code mail to a real
Dovecot over LMTP, and the harness reads it from the inbox on file (imaps, IDLE), as on a lab.

Once through the flow API on an emulated handset this test opens, and once as a user types it (`harness signin
--inbox imaps://...`, the inbox password in the environment). The code is never in the output or the artifacts.
"""

from __future__ import annotations

import imaplib
import os
import random
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from harness.accounts import Credentials, load_secrets_file
from harness.artifacts import Artifacts
from harness.flows import FlowRunner, sign_in_during_setup
from harness.flows.imap_codes import ImapCodeSource
from harness.handsets import open_handset
from harness.lab.mailserver import MailServer, dovecot_binary
from harness.vision import ScreenLibrary

pytestmark = pytest.mark.skipif(dovecot_binary() is None,
                                reason="dovecot is not installed: scripts/setup or apt-get install dovecot-imapd")

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_secrets_file(ROOT / "harness" / "emulator" / "demo_secrets.toml")
ALICE = next(c for c in DEMO.values() if c.address == "alice@outlook.com")
INBOX_USER = "alice.backup@example.com"  # alice's e-mail on file (harness/emulator/demo_accounts.toml)
INBOX_PASSWORD = "inbox-" + "".join(random.Random(1616).choices("abcdefghjkmnpqrstuvwxyz23456789", k=14))
FAST = "animation_ms=0&signin_delay=0.2&boot_time=0.5"


@pytest.fixture
def mail_server():
    with MailServer({INBOX_USER: INBOX_PASSWORD}) as server:
        yield server


def inbox_count(server: MailServer) -> int:
    """Messages in the inbox, read with the standard library's imaplib (not the code under test)."""
    box = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ssl.create_default_context(cafile=server.ca_file),
                            timeout=30)
    try:
        box.login(INBOX_USER, INBOX_PASSWORD)
        typ, data = box.select("INBOX", readonly=True)
        assert typ == "OK", data
        return int(data[0])
    finally:
        box.logout()


def texts_of(folder: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in folder.rglob("*") if p.is_file()]


def test_sign_in_during_setup_with_the_email_code_read_over_imap(mail_server, tmp_path) -> None:
    uri = f"emulator://lumia-520?{FAST}&mail_to={mail_server.lmtp_url}"
    artifacts = Artifacts(tmp_path / "artifacts", "imap-signin")
    opened = open_handset(uri, log_dir=artifacts.dir)
    try:
        run = FlowRunner(opened.handset, ScreenLibrary.load_default(), artifacts, timeout=60,
                         scale=opened.profile.scale if opened.profile else None)
        codes = ImapCodeSource(mail_server.inbox_url(INBOX_USER), INBOX_PASSWORD, ca_file=mail_server.ca_file)
        result = sign_in_during_setup(run, Credentials.of(ALICE.address, ALICE.password.reveal()), codes)
    finally:
        opened.close()
    assert result.final_screen == "start" and result.two_step
    assert "two_step_code" in [s.screen for s in run.steps]
    assert codes.waited_by in ("idle", None)  # None: the code was there at the first look
    assert inbox_count(mail_server) == 0, "the code's message was not deleted after use"
    for path, data in texts_of(artifacts.dir):
        assert ALICE.password.reveal().encode() not in data and INBOX_PASSWORD.encode() not in data, path


def harness_signin(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "signin", *args, "--artifacts", str(tmp_path / "artifacts")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "PW_ALICE": ALICE.password.reveal(), **env})


def test_harness_signin_reads_the_code_from_the_inbox_given_as_a_url(mail_server, tmp_path) -> None:
    uri = f"emulator://lumia-520?{FAST}&mail_to={mail_server.lmtp_url}"
    inbox = mail_server.inbox_url(INBOX_USER).replace(INBOX_USER, "alice.backup%40example.com")
    done = harness_signin(tmp_path, "--handset", uri, "--account", ALICE.address, "--password-env", "PW_ALICE",
                          "--code", "email", "--inbox", inbox, "--inbox-ca", str(mail_server.ca_file), "--inbox-keep",
                          "--timeout", "60", env={"HARNESS_INBOX_PASSWORD": INBOX_PASSWORD})
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    assert "signed in as alice@outlook.com" in done.stdout and "two-step code" in done.stdout
    assert "access code by email" in done.stdout
    assert inbox_count(mail_server) == 1, "--inbox-keep: the code's message should still be there"
    output = done.stdout + done.stderr
    assert INBOX_PASSWORD not in output and ALICE.password.reveal() not in output
    for path, data in texts_of(tmp_path / "artifacts"):
        assert INBOX_PASSWORD.encode() not in data and ALICE.password.reveal().encode() not in data, path


def test_harness_signin_with_a_wrong_inbox_password_fails_in_one_line_before_the_code_is_asked(mail_server, tmp_path) -> None:
    uri = f"emulator://lumia-520?{FAST}&mail_to={mail_server.lmtp_url}"
    wrong = "wrong-" + INBOX_PASSWORD
    done = harness_signin(tmp_path, "--handset", uri, "--account", ALICE.address, "--password-env", "PW_ALICE",
                          "--inbox", mail_server.inbox_url(INBOX_USER), "--inbox-ca", str(mail_server.ca_file),
                          "--inbox-password-env", "MY_INBOX_PW", "--timeout", "60", env={"MY_INBOX_PW": wrong})
    assert done.returncode == 2, done.stdout[-1500:] + done.stderr[-1500:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("harness signin:")]
    assert len(errors) == 1 and "refused the login of alice.backup@example.com" in errors[0], done.stderr
    assert wrong not in done.stdout + done.stderr and INBOX_PASSWORD not in done.stdout + done.stderr
    assert inbox_count(mail_server) == 0, "the code was sent although the inbox could not be read"


def test_harness_signin_refuses_an_inbox_password_in_the_url(tmp_path) -> None:
    done = harness_signin(tmp_path, "--handset", f"emulator://lumia-520?{FAST}", "--account", ALICE.address,
                          "--inbox", f"imaps://alice:{INBOX_PASSWORD}@127.0.0.1:993/INBOX", env={})
    assert done.returncode == 2
    assert "a password in the URL is refused" in done.stderr and "HARNESS_INBOX_PASSWORD" in done.stderr
    assert INBOX_PASSWORD not in done.stdout + done.stderr
    assert not (tmp_path / "artifacts").exists() or not any((tmp_path / "artifacts").iterdir())


def test_the_pytest_plugin_reads_the_code_from_an_imap_inbox(mail_server, tmp_path) -> None:
    """A lab's pytest run: --inbox imaps://... (its password in the environment), the email_codes fixture."""
    test_file = tmp_path / "test_lab_inbox.py"
    test_file.write_text(
        "from harness.flows import sign_in_during_setup\n\n"
        "def test_email_code(flow, account, email_codes):\n"
        "    assert type(email_codes).__name__ == 'ImapCodeSource'\n"
        "    result = sign_in_during_setup(flow, account, email_codes)\n"
        "    assert result.two_step and result.final_screen == 'start'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env["HARNESS_INBOX_PASSWORD"] = INBOX_PASSWORD
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(test_file),
                           "--handset", "emulator://lumia-520", "--emulator-option=animation_ms=0",
                           "--emulator-option=signin_delay=0.2", f"--emulator-option=mail_to={mail_server.lmtp_url}",
                           f"--inbox={mail_server.inbox_url(INBOX_USER).replace(INBOX_USER, 'alice.backup%40example.com')}",
                           f"--inbox-ca={mail_server.ca_file}", f"--artifacts={tmp_path / 'artifacts'}"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    assert inbox_count(mail_server) == 0
    assert INBOX_PASSWORD not in done.stdout + done.stderr
    for path, data in texts_of(tmp_path / "artifacts"):
        assert INBOX_PASSWORD.encode() not in data, path
