"""The first hour at the command line: mistakes get one-line errors, help says what a command does.

Every case runs ``harness`` as a user would (a subprocess) and checks what
the terminal shows: the exit code, one line on stderr naming the option or
field at fault, and no traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def harness(*args: str, cwd: Path | None = None, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, **kw)


def one_line_error(run: subprocess.CompletedProcess, *words: str) -> str:
    assert run.returncode == 2, f"rc {run.returncode}; stderr {run.stderr!r}"
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    for word in words:
        assert word in lines[0], f"expected {word!r} in {lines[0]!r}"
    return lines[0]


@pytest.fixture
def nowhere() -> str:
    """A handset URI nobody answers on: a command that reaches for it fails with 'refused'."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"adb-tcp://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("output, words", [
    ("missing-dir/x.png", ("-o missing-dir/x.png", "folder missing-dir does not exist")),
    ("x.jpgx", ("-o x.jpgx", "unknown image type '.jpgx'", ".png")),
    ("noext", ("-o noext", "no file type")),
    (".", ("-o .", "no file type")),
])
def test_screenshot_output_is_checked_before_the_handset_is_reached(tmp_path: Path, nowhere: str, output: str,
                                                                    words: tuple[str, ...]) -> None:
    run = harness("screenshot", "--handset", nowhere, "-o", output, cwd=tmp_path)
    line = one_line_error(run, "harness screenshot:", *words)
    assert "connecting" not in run.stderr and "refused" not in line  # nothing was taken, then thrown away
    assert sorted(os.listdir(tmp_path)) == []


def test_signin_into_an_artifacts_folder_that_cannot_be_made(nowhere: str) -> None:
    run = harness("signin", "--handset", nowhere, "--account", "a@example.com", "--artifacts", "/proc/nope",
                  env={**os.environ, "HARNESS_PASSWORD": "x"})
    one_line_error(run, "harness signin:", "/proc/nope", "cannot create the artifacts folder")


@pytest.mark.parametrize("uri, problem", [
    ("adb-tcp://[::1", "Invalid IPv6 URL"),
    ("adb-tcp://127.0.0.1:99999", "out of range"),
    ("adb-tcp://127.0.0.1:55x", "55x"),
])
def test_a_malformed_handset_uri_is_one_line(uri: str, problem: str) -> None:
    run = harness("tap", "--handset", uri, "1", "1")
    one_line_error(run, "harness tap:", repr(uri), problem)


def test_a_reader_that_stops_early_ends_the_listing_quietly() -> None:
    """`harness emulate --list-screens | head -1`: the reader leaves; no BrokenPipeError traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is already gone when the listing is printed
    try:
        proc = subprocess.run([sys.executable, "-m", "harness", "emulate", "--list-screens"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr == "" and proc.returncode == 141, (proc.returncode, proc.stderr)


def test_rack_with_an_unknown_profile_says_which() -> None:
    run = harness("emulate", "--rack", "2", "--rack-profiles", "lumia-930,lumia-9300")
    line = one_line_error(run, "harness emulate:", "--rack-profiles", "no profile 'lumia-9300'", "lumia-930")
    assert "exited" not in line


@pytest.mark.parametrize("count", ["0", "-3"])
def test_a_rack_of_no_handsets_is_refused(count: str) -> None:
    run = harness("emulate", "--rack", count, timeout=30)
    assert run.returncode == 2 and run.stdout == "", run
    assert f"argument --rack: must be at least 1, got {int(count)}" in run.stderr


@pytest.mark.parametrize("args, said", [
    (["--rack", "2", "--modem-number", "+15550100"], "--modem-number '+15550100': a rack of 2 handsets needs 2 "
                                                     "numbers, one per SIM (got 1)"),
    (["--rack", "2", "--modem-number", "+15550100,+15550100"], "--modem-number: +15550100 given twice; two SIMs "
                                                               "never share a number"),
    (["--rack", "2", "--modem-number", "+15550100,call-me"], "--modem-number: 'call-me' is not a phone number"),
    (["--modem-number", "+15550100,+15550142"], "--modem-number '+15550100,+15550142': one handset has one SIM "
                                                "number (a list is for --rack N)"),
])
def test_a_racks_sim_numbers_are_one_per_handset_and_different(args: list[str], said: str) -> None:
    run = harness("emulate", *args, timeout=30)
    assert run.returncode == 2 and run.stdout == "", run  # refused before any handset starts
    one_line_error(run, "harness emulate:", said)


def test_key_help_lists_every_key() -> None:
    text = harness("key", "--help").stdout
    description = text.split("\n\n")[1]  # after the usage line, which argparse fills in by itself
    for key in ("back", "start", "search", "power", "enter", "delete"):
        assert key in description, f"{key} missing from: {description!r}"


def test_demo_help_says_what_it_does() -> None:
    text = " ".join(harness("demo", "--help").stdout.split())
    assert "emulated handset" in text and "during setup" in text and "access code" in text
    assert "artifacts" in text.lower()


def test_match_takes_device_like_every_desk_command(tmp_path: Path) -> None:
    for command in ("match", "screenshot", "tap"):
        text = harness(command, "--help").stdout
        assert "--device NAME" in text and "--no-wait" in text, f"{command}: {text}"
    run = harness("match", "--device", "lumia-930-01", env={k: v for k, v in os.environ.items()
                                                            if k != "HARNESS_INVENTORY"})
    one_line_error(run, "harness match:", "--device needs --inventory")


def test_emulator_uri_on_a_desk_command_says_it_is_throwaway_once(tmp_path: Path) -> None:
    run = harness("screenshot", "--handset", "emulator://lumia-520?animation_ms=0", "-o", "now.png", cwd=tmp_path,
                  timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("throwaway") == 1 and "harness emulate --profile lumia-520" in run.stderr, run.stderr
    assert (tmp_path / "now.png").stat().st_size > 0 and "now.png (480x800)" in run.stdout


@pytest.mark.parametrize("tables, field, problem", [
    ('[[account]]\naddress = "x@outlook.com"\npassword = "p"\n\n[[account]]\naddress = "y@outlook.com"\n',
     "account[2].password", "missing"),
    ('[[account]]\naddress = "x@outlook.com"\npassword = "p"\n\n[[account]]\naddress = "X@outlook.com"\npassword = "q"\n',
     "account[2].address", "duplicate address 'X@outlook.com' (also account[1])"),
    ('[[account]]\naddress = "nobody"\npassword = "p"\n', "account[1].address", "not an e-mail address"),
])
def test_account_file_errors_count_from_one_like_the_inventory(tmp_path: Path, tables: str, field: str,
                                                               problem: str) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(tables)
    run = harness("emulate", "--accounts", str(accounts), timeout=60)
    one_line_error(run, "harness emulate:", f"{accounts}: {field}: {problem}")


def test_an_adb_key_that_cannot_be_made_is_one_line(nowhere: str) -> None:
    """A home folder nobody can write (a lab service account): say which key and how to point elsewhere."""
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_ADB_KEY"}
    run = harness("tap", "--handset", nowhere, "1", "1", env={**env, "HOME": "/proc/nope"})
    run.stderr = "".join(line for line in run.stderr.splitlines(True) if not line.startswith("connecting to "))
    one_line_error(run, "harness tap:", "/proc/nope/.android/adbkey", "HARNESS_ADB_KEY")


def test_python_dash_m_harness_cli_runs_the_command_too() -> None:
    # it worked while the command line was one module (harness/cli.py); the package keeps it
    run = subprocess.run([sys.executable, "-m", "harness.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("harness "), run.stderr


@pytest.mark.parametrize("args, line", [
    (["tap", "1", "1"], "harness tap: say which handset: --handset URI, --device NAME or --place NAME"),
    (["tap", "1", "1", "--handset", "adb-tcp://127.0.0.1:5555", "--device", "lumia-930-01"],
     "harness tap: give one of --handset URI, --device NAME and --place NAME"),
    (["console", "--handset", "adb-tcp://127.0.0.1:5555"],
     "harness console: no console port: give --port URL (or use --device NAME with an inventory that lists one)"),
    (["sms", "--handset", "adb-tcp://127.0.0.1:5555"],
     "harness sms: no modem port: give --port URL (or use --device NAME with an inventory that lists one)"),
])
def test_the_command_line_words_a_missing_choice_with_its_own_options(args: list[str], line: str) -> None:
    run = harness(*args, env={k: v for k, v in os.environ.items() if k != "HARNESS_INVENTORY"})
    assert one_line_error(run) == line


def test_the_library_says_what_is_missing_and_leaves_the_flags_to_the_front_doors() -> None:
    # a lab's own script calls these without any command line: the error carries the facts, names no flag
    from harness.accounts import Credentials
    from harness.cli.wording import worded
    from harness.flows.codes import CodesByAccount, EmailOnFileUnknown
    from harness.flows.library import AccountNeeded, FlowContext
    from harness.lab.chosen import ChosenHandset, HandsetChoiceError, PortUnknown
    from harness.secrets import Secret

    with pytest.raises(HandsetChoiceError) as choice:
        ChosenHandset().require_uri()
    with pytest.raises(PortUnknown) as port:
        ChosenHandset("adb-tcp://127.0.0.1:5555").port("modem", None)
    with pytest.raises(AccountNeeded) as account:
        FlowContext().need_account()
    with pytest.raises(EmailOnFileUnknown) as email:
        CodesByAccount("email")(Credentials("x@outlook.com", Secret("pw")))
    assert (choice.value.problem, port.value.field, account.value.role, email.value.account) == (
        HandsetChoiceError.NONE, "modem", "account", "x@outlook.com")
    for error in (choice.value, port.value, account.value, email.value):
        assert " --" not in str(error) and not str(error).startswith("--"), error
    # ... and the command line, which has the flags, names them
    assert worded(account.value) == "this flow signs an account in: give --account ADDRESS"
    assert worded(email.value) == ("the access code of x@outlook.com goes by e-mail, but no e-mail address on "
                                   "file is known: give --email-on-file")


@pytest.mark.parametrize("left, shown", [(4.99999, "5s"), (0.25, "0.25s"), (12.3456, "12.3s"), (119.9, "120s")])
def test_a_timeout_shows_what_was_left_of_its_deadline_as_a_person_reads_it(left: float, shown: str) -> None:
    from harness.errors import HarnessTimeout

    said = str(HarnessTimeout("the welcome screen", "the lock screen", left))
    assert said.startswith(f"timed out after {shown} waiting for the welcome screen"), said
