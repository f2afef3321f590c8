"""Fault matrix: every desk command ends within its --timeout against a peer that goes silent.

The ADB commands face a device that completes its handshake and then never
answers an OPEN; ``sms`` and ``power`` face a serial port (a pty) nobody
answers. Each must end by its --timeout (plus the interpreter's start-up) with
one line that says what it waited for.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from adbfaults import HostileDevice, Seen, handshake, hold
from faultlab import FaultLab, assert_one_line_error

ALLOWANCE = 8.0
TIMEOUT = 6.0  # room for importing numpy/OpenCV under load, which the deadline covers too


def silent_after_handshake(sock: socket.socket, seen: Seen) -> None:
    handshake(sock)
    hold(sock)


@pytest.fixture
def silent_pty():
    """A serial port whose far end reads nothing back and answers nothing."""
    master, slave = os.openpty()
    try:
        yield os.ttyname(slave)
    finally:
        os.close(slave)
        os.close(master)


ADB_COMMANDS = [
    (["screenshot", "-o", "{tmp}/shot.png"], []),
    (["tap", "1", "1"], []),
    (["swipe", "1", "2", "3", "4"], []),
    (["text", "hello"], []),
    (["key", "back"], []),
    (["match"], []),
    (["shell"], ["id"]),  # shell takes everything after its options as the command
]


@pytest.mark.parametrize("command, tail", ADB_COMMANDS, ids=[c[0][0] for c in ADB_COMMANDS])
def test_an_adb_desk_command_ends_at_its_timeout(fault: FaultLab, tmp_path: Path, command: list[str],
                                                  tail: list[str]) -> None:
    argv = [a.format(tmp=tmp_path) for a in command]
    with HostileDevice(silent_after_handshake) as device:
        run = fault.run(*argv, "--handset", device.uri, "--timeout", f"{TIMEOUT:g}", *tail, deadline=90,
                        env={"HARNESS_ADB_KEY": str(tmp_path / "adbkey")})
    assert not run.timed_out and run.elapsed <= TIMEOUT + ALLOWANCE and run.rc != 0, run.describe()
    lines = run.stderr.strip().splitlines()
    assert_one_line_error(lines[-1], f"harness {argv[0]}", "timed out after", "OPEN", "saw")


SERIAL_COMMANDS = [
    (["sms", "--port", "{pty}"], ["timed out after"]),
    (["power", "cycle", "--switch", "lcus:{pty}#1", "--off-seconds", "60"], ["timed out after", "switching power"]),
]


@pytest.mark.parametrize("command, words", SERIAL_COMMANDS, ids=[c[0][0] for c in SERIAL_COMMANDS])
def test_a_serial_desk_command_ends_at_its_timeout(fault: FaultLab, silent_pty: str, command: list[str],
                                                    words: list[str]) -> None:
    argv = [a.format(pty=silent_pty) for a in command]
    run = fault.run(*argv, "--timeout", f"{TIMEOUT:g}", deadline=120)
    assert not run.timed_out and run.elapsed <= TIMEOUT + ALLOWANCE and run.rc != 0, run.describe()
    lines = run.stderr.strip().splitlines()
    assert_one_line_error(lines[-1], f"harness {argv[0]}", *words)


def test_timeout_must_be_a_positive_number(fault: FaultLab) -> None:
    run = fault.run("tap", "--handset", "adb-tcp://127.0.0.1:9", "--timeout", "0", "1", "1", deadline=60)
    assert run.rc == 2 and "--timeout" in run.stderr and "positive" in run.stderr, run.describe()


FAILING_TEST = '''
def test_fails_on_a_silent_handset(handset):
    assert False, "the test itself fails at once"
'''


def test_the_failure_hook_spends_seconds_not_minutes_on_a_last_screenshot(fault: FaultLab, tmp_path: Path) -> None:
    """A test fails while its handset has gone silent: the report comes after a few seconds of trying for evidence."""
    import sys

    from faultlab import start_process

    (tmp_path / "test_inner.py").write_text(FAILING_TEST)
    with HostileDevice(silent_after_handshake) as device:
        inner = start_process([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                               str(tmp_path / "test_inner.py"), "--handset", device.uri,
                               "--artifacts", str(tmp_path / "artifacts")], fault.marker,
                              env=fault.env({"HARNESS_ADB_KEY": str(tmp_path / "adbkey")}), cwd=tmp_path).wait(120)
    assert inner.rc == 1 and "the test itself fails at once" in inner.stdout, inner.describe()
    # interpreter and pytest start-up, the handset's connection, then at most a few seconds of evidence: well
    # under the minute a screenshot's own timeout would take (the bound was 15 s; 16.5 s was seen at load 25)
    assert inner.elapsed <= 3 + 2 * ALLOWANCE + 4, f"expected the failure reported within seconds; {inner.describe()}"
