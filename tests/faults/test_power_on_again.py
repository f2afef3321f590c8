"""Fault matrix: an LCUS relay board that misses the "on" frame, which nothing on the wire reports.

One emulated lumia-520 with its emulated relay (a pty); the relay is told to
miss the next valid frame (control verb ``relay_fault``). ``harness power on
--wait`` must notice only by the handset staying silent, send "on" again,
and end with the handset answering, saying that it did so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess
from powered_handset import emulated_handset, wait_refused

ON, OFF = "a0 01 01 a2", "a0 01 00 a1"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with emulated_handset(tmp_path_factory.mktemp("relaymiss")) as proc:
        yield proc


def _power(emulator: EmulatorProcess, leases: Path, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["--switch", f"lcus:{emulator.endpoints['power']}#1", "--handset", f"adb-tcp://{emulator.endpoints['adb']}"]
    return subprocess.run([sys.executable, "-m", "harness", "power", *args, *where],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HARNESS_LEASE_DIR": str(leases)})


def _relay(emulator: EmulatorProcess, verb: str, **req: Any) -> dict[str, Any]:
    with ControlClient.for_endpoints(emulator.endpoints, timeout=10) as control:
        return control.call(verb, **req)


def _off(emulator: EmulatorProcess, leases: Path) -> None:
    assert _power(emulator, leases, "off").returncode == 0
    wait_refused(emulator.endpoints["adb"], 30)


def test_power_on_sends_on_again_when_the_board_missed_it(emulator: EmulatorProcess, tmp_path: Path) -> None:
    _off(emulator, tmp_path)
    before = _relay(emulator, "relay_frames")
    assert _relay(emulator, "relay_fault", kind="lose", count=1)["lose"] == 1
    on = _power(emulator, tmp_path, "on", "--wait", "40")
    assert on.returncode == 0 and "answers after" in on.stderr, on.stderr
    assert "sending 'on' again (the switch cannot confirm it took)" in on.stderr, on.stderr
    after = _relay(emulator, "relay_frames")
    assert after["lost"] == before["lost"] + 1 and after["frames"][len(before["frames"]):] == [ON], after
    from harness.lab import power_journal

    journal = power_journal.journal_path(tmp_path).read_text()  # the host's journal: the first "on" and the second
    assert [line for line in journal.splitlines() if '"action": "on"' in line][-1].endswith('again: no answer yet"}'), \
        journal


def test_a_board_that_took_on_is_not_sent_it_again(emulator: EmulatorProcess, tmp_path: Path) -> None:
    _off(emulator, tmp_path)
    before = _relay(emulator, "relay_frames")
    on = _power(emulator, tmp_path, "on", "--wait", "40")
    assert on.returncode == 0 and "answers after" in on.stderr, on.stderr
    assert "again" not in on.stderr, on.stderr
    assert _relay(emulator, "relay_frames")["frames"][len(before["frames"]):] == [ON]


def test_a_board_that_misses_every_frame_ends_at_the_deadline_saying_so(emulator: EmulatorProcess,
                                                                        tmp_path: Path) -> None:
    _off(emulator, tmp_path)
    _relay(emulator, "relay_fault", kind="lose", count=100)
    try:
        started = time.monotonic()
        on = _power(emulator, tmp_path, "on", "--wait", "12")
        took = time.monotonic() - started
    finally:
        _relay(emulator, "relay_fault", kind="clear")
    assert on.returncode == 2 and "did not answer within 12s of power on" in on.stderr, on.stderr
    assert on.stderr.count("sending 'on' again") == 2, on.stderr  # 5 s after the first "on", then 10 s after it
    assert took < 12 + 20, took
    assert _power(emulator, tmp_path, "on", "--wait", "40").returncode == 0  # the module's handset is on again
