"""The emulated GRBL 1.1 controller byte for byte over its pty, as GRBL 1.1h answers.

No driver code here: the test writes lines and real-time bytes with plain
pyserial and reads the answer lines, so the emulator is checked against
what the firmware says (each expected answer below is what GRBL 1.1h in
grbl-sim answered the same bytes; tests/robot/test_grbl_firmware.py runs
the firmware side by side when one is built), not against our own driver.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from grbl_cases import BAD_BLOCKS, BANNER, GOOD_LINES, LOCKED, SETTINGS, Peer, fields
from harness.emulator.grbl_device import EmulatedGrbl


@pytest.fixture
def fresh() -> Iterator[Peer]:
    """The controller just powered up, its greeting not read yet."""
    device = EmulatedGrbl(start_at=(-75.0, -100.0, -10.0))
    device.start()
    peer = Peer(device.port.path)
    try:
        yield peer
    finally:
        peer.close()
        device.stop()


@pytest.fixture
def peer(fresh: Peer) -> Peer:
    """The controller after its greeting."""
    fresh.lines_until("[MSG:")
    return fresh


def test_it_greets_and_starts_locked_until_homed_or_unlocked(fresh: Peer) -> None:
    peer = fresh
    assert peer.lines_until("[MSG:") == ["", BANNER, LOCKED]
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


def test_bad_gcode_is_answered_with_grbls_error_code(peer: Peer) -> None:
    peer.ask("$X")
    answers = [(block, peer.ask(block)) for block, _ in BAD_BLOCKS]
    assert answers == [(block, [f"error:{code}"]) for block, code in BAD_BLOCKS]


def test_a_line_is_read_as_grbl_reads_it(peer: Peer) -> None:
    peer.ask("$X")
    answers = [(line, peer.ask_all(line, BANNER) if BANNER in want else peer.ask(line)) for line, want in GOOD_LINES]
    assert answers == GOOD_LINES
    assert peer.status().startswith("<Idle|MPos:-3.000,-3.000,0.000|")


def test_settings_are_refused_as_grbl_refuses_them(peer: Peer) -> None:
    assert [(line, peer.ask(line)) for line, _ in SETTINGS] == SETTINGS
    assert "$10=2" in peer.ask("$$")
    peer.ask("$22=0")  # homing off turns soft limits off too
    assert {"$20=0", "$22=0"} <= set(peer.ask("$$"))


def test_status_reports_carry_wco_and_overrides_now_and_then_as_10_asks(peer: Peer) -> None:
    reports = [peer.status() for _ in range(12)]
    assert [fields(r) for r in reports] == [["Alarm", "MPos", "FS", "WCO"], ["Alarm", "MPos", "FS", "Ov"]] \
        + [["Alarm", "MPos", "FS"]] * 8 + [["Alarm", "MPos", "FS", "WCO"], ["Alarm", "MPos", "FS", "Ov"]]
    assert reports[0] == "<Alarm|MPos:0.000,0.000,0.000|FS:0,0|WCO:0.000,0.000,0.000>"
    assert peer.ask("$10=2") == ["ok"]
    assert peer.status() == "<Alarm|WPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>"


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
    peer.port.write(b"G0 X-10\n?")  # neither is heard now: no answer, no report, only a reset
    peer.port.write(b"\x18")  # and the line that raised the alarm is answered ok before the banner
    assert peer.lines_until("[MSG:") == ["ok", "", BANNER, LOCKED]
    assert peer.status().startswith("<Alarm|MPos:-1.000,-1.000,-1.000|")
    assert peer.ask("$H") == ["ok"]


def test_driving_into_the_machines_end_unhomed_trips_a_hard_limit(peer: Peer) -> None:
    # unlocked where it stands, 10 mm below the top of its 50 mm: MPos 0 there, so 45 mm down looks fine to
    # the soft limits but runs 5 mm past the bottom end, into its switch
    peer.ask("$X")
    assert peer.ask("G0 Z-45") == ["ok"]
    assert peer.ask("G4 P0") == ["ALARM:1"]  # the dwell after the move never ends: the limit halts everything
    assert peer.line() == "[MSG:Reset to continue]"
    peer.port.write(b"?\x18")  # the report is not answered; the dwell is, by the reset
    assert peer.lines_until("[MSG:") == ["ok", "", BANNER, LOCKED]
    assert peer.status().startswith("<Alarm|MPos:0.000,0.000,-40.000|")


def test_a_reset_while_moving_loses_the_position_and_answers_the_line_in_progress(peer: Peer) -> None:
    peer.ask("$H")
    assert peer.ask("G1 X-100 F600") == ["ok"]  # 10 s of motion
    peer.port.write(b"G4 P0\n")  # waits for the move
    assert peer.status().startswith("<Run|")
    peer.port.write(b"\x18")
    assert peer.lines_until("[MSG:") == ["ALARM:3", "ok", "", BANNER, LOCKED]
