"""The emulated GRBL 1.1 controller byte for byte over its pty, as GRBL's documentation says it answers.

No driver code here: the test writes lines and real-time bytes with plain
pyserial and reads the answer lines, so the emulator is checked against
the documents, not against our own driver.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest
import serial

from harness.emulator.grbl_device import EmulatedGrbl

DEADLINE = 15.0


class Peer:
    """A raw serial peer: write bytes, read answer lines with a deadline."""

    def __init__(self, path: str) -> None:
        self.port = serial.serial_for_url(path, timeout=0.05)
        self.buffer = b""

    def line(self) -> str:
        end = time.monotonic() + DEADLINE
        while b"\n" not in self.buffer:
            assert time.monotonic() < end, f"no line from the controller; saw {self.buffer!r}"
            self.buffer += self.port.read(256)
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("ascii").strip()

    def lines_until(self, last: str) -> list[str]:
        seen: list[str] = []
        while not seen or not seen[-1].startswith(last):
            seen.append(self.line())
        return [s for s in seen if s]

    def ask(self, text: str) -> list[str]:
        """Send a line; every line up to and including its answer (ok, error:N or ALARM:N)."""
        self.port.write(text.encode("ascii") + b"\n")
        seen: list[str] = []
        while not seen or not (seen[-1] == "ok" or seen[-1].startswith(("error:", "ALARM:"))):
            line = self.line()
            if line:
                seen.append(line)
        return seen

    def status(self) -> str:
        self.port.write(b"?")
        while True:
            line = self.line()
            if line.startswith("<"):
                return line


@pytest.fixture
def fresh() -> Iterator[Peer]:
    """The controller just powered up, its greeting not read yet."""
    device = EmulatedGrbl(start_at=(-75.0, -100.0, -10.0))
    device.start()
    peer = Peer(device.port.path)
    try:
        yield peer
    finally:
        peer.port.close()
        device.stop()


@pytest.fixture
def peer(fresh: Peer) -> Peer:
    """The controller after its greeting."""
    fresh.lines_until("[MSG:")
    return fresh


def test_it_greets_and_starts_locked_until_homed_or_unlocked(fresh: Peer) -> None:
    peer = fresh
    assert peer.lines_until("[MSG:") == ["Grbl 1.1h ['$' for help]", "[MSG:'$H'|'$X' to unlock]"]
    assert peer.status().startswith("<Alarm|MPos:0.000,0.000,0.000|")
    assert peer.ask("G0 X-1") == ["error:9"]
    assert peer.ask("$X") == ["[MSG:Caution: Unlocked]", "ok"]
    assert peer.status().startswith("<Idle|")


def test_homing_leaves_the_machine_at_minus_the_pull_off(peer: Peer) -> None:
    assert peer.ask("$H") == ["ok"]
    assert peer.status().startswith("<Idle|MPos:-1.000,-1.000,-1.000|")


def test_the_settings_report_carries_the_max_travel(peer: Peer) -> None:
    lines = peer.ask("$$")
    assert lines[-1] == "ok"
    assert {"$130=150.000", "$131=200.000", "$132=50.000", "$22=1", "$20=1"} <= set(lines)


@pytest.mark.parametrize("block, code", [("G1 X-10", 22), ("G5 X-1", 20), ("G0 G1 X-1", 21), ("G4", 28),
                                         ("X", 2), ("G0 X-1 X-2", 25), ("1X", 1), ("G0 P1", 36),
                                         ("G1 X-1 F-5", 4), ("$Q", 3), ("G0 X-1 " + "Y-1 " * 30, 11)])
def test_bad_gcode_is_answered_with_grbls_error_code(peer: Peer, block: str, code: int) -> None:
    peer.ask("$H")
    assert peer.ask(block) == [f"error:{code}"]


def test_a_move_runs_at_its_feed_then_is_idle_where_sent(peer: Peer) -> None:
    peer.ask("$H")
    started = time.monotonic()
    assert peer.ask("G1 X-61 F900") == ["ok"]  # answered once planned: 60 mm at 15 mm/s is 4 s of motion
    assert peer.status().startswith("<Run|")
    assert peer.ask("G4 P0") == ["ok"]  # answered once the moves before it are done
    assert time.monotonic() - started >= 3.9
    assert peer.status().startswith("<Idle|MPos:-61.000,-1.000,-1.000|")


def test_a_target_past_the_travel_is_a_soft_limit_alarm_until_reset(peer: Peer) -> None:
    peer.ask("$H")
    assert peer.ask("G0 X-151") == ["ALARM:2"]
    assert peer.line() == "[MSG:Reset to continue]"
    peer.port.write(b"G0 X-10\n")  # ignored: only a reset is heard now
    assert peer.status().startswith("<Alarm|MPos:-1.000,-1.000,-1.000|")
    peer.port.write(b"\x18")
    assert peer.lines_until("[MSG:") == ["Grbl 1.1h ['$' for help]", "[MSG:'$H'|'$X' to unlock]"]
    assert peer.ask("$H") == ["ok"]


def test_driving_into_the_machines_end_unhomed_trips_a_hard_limit(peer: Peer) -> None:
    # unlocked where it stands, 10 mm below the top of its 50 mm: MPos 0 there, so 45 mm down looks fine to
    # the soft limits but runs 5 mm past the bottom end, into its switch
    peer.ask("$X")
    assert peer.ask("G0 Z-45") == ["ok"]
    assert peer.ask("G4 P0") == ["ALARM:1"]  # the dwell after the move never ends: the limit halts everything
    assert peer.line() == "[MSG:Reset to continue]"
    assert peer.status().startswith("<Alarm|MPos:0.000,0.000,-40.000|")
