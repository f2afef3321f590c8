"""The documented flows as a user runs them: `harness signin --flow ...` and `harness run-flow`, through the CLI.

Each test starts `harness` as a subprocess on an emulated handset and checks what a user sees: the exit code,
the one line on stderr, the step log in the artifacts, and that no password or code is in any of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.accounts import load_secrets_file

FAST = "animation_ms=0&signin_delay=0.2&boot_time=0.5"
DEMO = load_secrets_file(Path(__file__).resolve().parents[2] / "harness" / "emulator" / "demo_secrets.toml")
PASSWORDS = {c.address: c.password.reveal() for c in DEMO.values()}
README = Path(__file__).resolve().parents[2] / "README.md"


#: The `harness` command as a user types it: the console script installed next to this Python.
SCRIPT = [str(Path(sys.executable).with_name("harness"))]


def harness(tmp_path: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 240, command: list[str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **PASSWORDS_ENV, **(env or {})}
    return subprocess.run([*(command or [sys.executable, "-m", "harness"]), *args, "--artifacts",
                           str(tmp_path / "artifacts")],
                          capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd or tmp_path)


#: Each demo account's password in a variable of its own, as a lab would export them.
PASSWORDS_ENV = {f"PW_{address.split('@')[0].upper()}": pw for address, pw in PASSWORDS.items()}


def signin(tmp_path: Path, account: str, *args: str, uri_query: str = "", **kw: object) -> subprocess.CompletedProcess:
    uri = f"emulator://lumia-520?{FAST}{uri_query}"
    return harness(tmp_path, "signin", "--handset", uri, "--account", account,
                   "--password-env", f"PW_{account.split('@')[0].upper()}", *args, **kw)  # type: ignore[arg-type]


def steps(tmp_path: Path) -> list[dict]:
    (log,) = (tmp_path / "artifacts").glob("*/steps.jsonl")
    return [json.loads(line) for line in log.read_text().splitlines()]


def screens(tmp_path: Path) -> list[str]:
    return [s["screen"] for s in steps(tmp_path) if s["kind"] == "step"]


def assert_no_secret(tmp_path: Path, done: subprocess.CompletedProcess) -> None:
    """No password anywhere the run wrote: its output and every text file of its artifacts."""
    texts = [done.stdout, done.stderr] + [p.read_text(errors="replace") for p in (tmp_path / "artifacts").rglob("*")
                                          if p.is_file() and p.suffix in (".jsonl", ".log", ".txt")]
    for text in texts:
        for password in PASSWORDS.values():
            assert password not in text


def test_settings_path_on_a_fresh_phone_finishes_setup_without_an_account_first(tmp_path: Path) -> None:
    done = signin(tmp_path, "bob@outlook.com", "--path", "settings")
    assert done.returncode == 0, done.stderr[-1500:]
    assert "signed in as bob@outlook.com" in done.stdout
    assert "sign in later" in done.stdout  # said on the terminal ...
    notes = [s["text"] for s in steps(tmp_path) if s["kind"] == "note"]
    assert any("set-up is not finished" in n and "sign in later" in n for n in notes)  # ... and in the step log
    seen = screens(tmp_path)
    assert seen.index("setup_done") < seen.index("settings") < seen.index("account_email")
    assert seen[-1] == "account_settings"
    assert_no_secret(tmp_path, done)


def test_a_code_sent_to_a_number_the_modem_does_not_hold_fails_at_once(tmp_path: Path) -> None:
    # carol's number on file is +15550142; this emulated modem's SIM holds +15550100.
    started = time.monotonic()
    done = signin(tmp_path, "carol@hotmail.com", "--timeout", "90", uri_query="&modem_number=%2B15550100")
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-1500:]
    error = [line for line in done.stderr.splitlines() if line.startswith("harness signin:")]
    assert len(error) == 1 and "+15550142" in error[0] and "+15550100" in error[0], done.stderr
    assert "carol@hotmail.com" in error[0], error  # the account is named; only secrets are masked
    assert elapsed < 60, f"took {elapsed:.0f}s: it waited for a code that could not come"
    assert "two_step_code" not in screens(tmp_path)  # it stopped before asking for the code
    assert_no_secret(tmp_path, done)


def test_an_emulated_handset_gets_the_accounts_number_in_its_modem(tmp_path: Path) -> None:
    done = signin(tmp_path, "carol@hotmail.com")
    assert done.returncode == 0, done.stderr[-1500:]
    assert "signed in as carol@hotmail.com" in done.stdout and "two-step code" in done.stdout
    assert "modem_number=+15550142" in done.stdout
    assert_no_secret(tmp_path, done)


def test_code_by_email_on_an_emulated_handset_lands_in_the_given_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "mail"
    done = signin(tmp_path, "alice@outlook.com", "--code", "email", "--inbox", str(inbox))
    assert done.returncode == 0, done.stderr[-1500:]
    assert "(access code by email)" in done.stdout and "two-step code" in done.stdout
    assert [s["method"] for s in steps(tmp_path) if s["kind"] == "choose"] == ["email"]
    delivered = inbox / "alice.backup@example.com"  # alice's e-mail on file: the emulator delivered there
    assert (delivered / "cur").is_dir() or (delivered / "new").is_dir()
    assert_no_secret(tmp_path, done)


def test_code_by_email_on_a_handset_reached_over_adb_tcp_reads_the_given_maildir(tmp_path: Path) -> None:
    """A handset that is not emulator://: the lab gives the Maildir the code e-mails arrive in (here the emulator's)."""
    from harness.emulator.process import EmulatorProcess

    mail = tmp_path / "mailroot"
    phone = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--signin-delay", "0.2", "--mail-dir", str(mail)],
                            log_path=tmp_path / "phone.log")
    endpoints = phone.start()
    try:
        done = harness(tmp_path, "signin", "--handset", f"adb-tcp://{endpoints['adb']}", "--account",
                       "carol@hotmail.com", "--password-env", "PW_CAROL", "--code", "email",
                       "--inbox", str(mail / "carol.recovery@example.com"))
    finally:
        phone.stop()
    assert done.returncode == 0, done.stderr[-1500:]
    assert "signed in as carol@hotmail.com" in done.stdout and "(access code by email)" in done.stdout
    assert [s["method"] for s in steps(tmp_path) if s["kind"] == "choose"] == ["email"]
    assert_no_secret(tmp_path, done)


def test_a_code_that_never_comes_times_out_at_timeout_with_its_own_exit_code(tmp_path: Path) -> None:
    """A modem with the right number on another network never gets the code: exit 4 after --timeout, not 60 s."""
    from harness.emulator.process import EmulatorProcess

    other = EmulatorProcess("lumia-520", ["--modem-number", "+15550100"], log_path=tmp_path / "other.log")
    other.start()
    try:
        done = signin(tmp_path, "alice@outlook.com", "--timeout", "8", "--modem", other.endpoints["modem"])
    finally:
        other.stop()
    assert done.returncode == 4, done.stderr[-1500:]
    error = [line for line in done.stderr.splitlines() if line.startswith("harness signin:")]
    assert len(error) == 1 and "timed out after 8s" in error[0] and "SMS" in error[0], done.stderr
    log = steps(tmp_path)
    asked = next(s["t"] for s in log if s["kind"] == "step" and s["screen"] == "two_step_code")
    ended = next(s["t"] for s in log if s["kind"] == "result")
    assert 7.5 <= ended - asked <= 14, f"waited {ended - asked:.1f}s for the code with --timeout 8"
    assert_no_secret(tmp_path, done)


def test_every_exit_code_is_documented_in_help_and_readme(tmp_path: Path) -> None:
    help_text = harness(tmp_path, "signin", "--help").stdout
    readme = README.read_text()
    for code, words in (("0", "signed in"), ("2", "usage"), ("3", "failure screen"), ("4", "timed out"),
                        ("5", "could not go on"), ("130", "interrupted")):
        assert re.search(rf"^\s+{code}\s+.*{words}", help_text, re.M), (code, help_text)
        assert re.search(rf"^\|?\s*`?{code}`?\s*\|?.*{words}", readme, re.M | re.I), (code, "README")
    for flow in ("setup", "settings", "after-update", "add-outlook", "change-account"):
        assert re.search(rf"^\s+{flow}\s+\S", help_text, re.M), flow


@pytest.mark.parametrize("flow, args, order, words", [
    ("after-update", ["--additional", "dave@outlook.com", "--additional-password-env", "PW_DAVE"],
     ["two_step_code", "outlook_signin", "phone_update", "sign_in_again", "two_step_code", "outlook_signin"],
     "signed in again: dave@outlook.com"),
    ("change-account", ["--previous", "alice@outlook.com", "--previous-password-env", "PW_ALICE", "--code", "email"],
     ["two_step_code", "backup", "reset_confirm", "setup_welcome", "two_step_code", "setup_done", "start"],
     "signed in as carol@hotmail.com"),
], ids=["after-update", "change-account"])
def test_signin_flow_runs_every_documented_step(tmp_path: Path, flow: str, args: list[str], order: list[str],
                                                words: str) -> None:
    account = "alice@outlook.com" if flow == "after-update" else "carol@hotmail.com"
    done = signin(tmp_path, account, "--flow", flow, *args)
    assert done.returncode == 0, done.stderr[-1500:]
    assert words in done.stdout
    seen, at = screens(tmp_path), 0
    if flow == "change-account":  # the backup is alice's: carol's sign-in is offered nothing of it
        assert "restore_backup" not in seen and "backup restored" not in done.stdout, (seen, done.stdout)
    for screen in order:  # each in this order (other screens between them)
        assert screen in seen[at:], f"{screen} missing after step {at}: {seen}"
        at = seen.index(screen, at) + 1
    assert_no_secret(tmp_path, done)


LAB_FLOW = '''
    """A lab's own flow: add an Outlook.com account from a phone that has finished set-up without one."""
    from harness.flows.signin import finish_setup_without_account


    def add_mail(run, ctx):
        finish_setup_without_account(run)
        run.press("start")
        run.advance("start", "all_apps", ["app_list"])
        run.advance("app_list", "settings", ["settings"])
        run.advance("settings", "email_accounts", ["email_accounts"])
        run.advance("email_accounts", "add_account", ["add_account"])
        rec = run.advance("add_account", "outlook", ["outlook_signin"])
        run.type_into(rec, "field:email", ctx.account.address)
        run.type_into(rec, "field:password", ctx.account.password)
        run.advance("outlook_signin", "sign_in", ["email_accounts"])
        run.note("note from the flow")
        return "added " + ctx.params.get("label", "?")
'''


def test_run_flow_runs_a_labs_own_flow_with_signins_exit_codes_and_artifacts(tmp_path: Path) -> None:
    (tmp_path / "labflows.py").write_text(textwrap.dedent(LAB_FLOW))
    uri = f"emulator://lumia-520?{FAST}"
    ok = harness(tmp_path / "ok", "run-flow", "labflows:add_mail", "--handset", uri, "--account", "dave@outlook.com",
                 "--password-env", "PW_DAVE", "--param", "label=work mail", cwd=tmp_path, command=SCRIPT)
    assert ok.returncode == 0, ok.stderr[-1500:]
    assert "done: 'added work mail'" in ok.stdout and "note: note from the flow" in ok.stdout
    assert screens(tmp_path / "ok")[-2:] == ["outlook_signin", "email_accounts"]
    assert len(list((tmp_path / "ok" / "artifacts").glob("*/*.png"))) == len(screens(tmp_path / "ok"))
    assert_no_secret(tmp_path / "ok", ok)
    bad = harness(tmp_path / "bad", "run-flow", "labflows:add_mail", "--handset", uri, "--account", "dave@outlook.com",
                  "--password-env", "WRONG", env={"WRONG": "not-dave-s-password"}, cwd=tmp_path)
    assert bad.returncode == 3, bad.stderr[-1500:]
    assert "the handset shows wrong_password" in bad.stderr and "not-dave-s-password" not in bad.stdout + bad.stderr
    missing = harness(tmp_path / "missing", "run-flow", "labflows:no_such_flow", "--handset", uri, cwd=tmp_path)
    assert missing.returncode == 2 and "no function 'no_such_flow'" in missing.stderr
