"""The robot driver against the emulated GRBL 1.1 controller, over a real pty.

The expected positions and codes come from GRBL's documentation (homing
leaves MPos at minus the pull-off, ``$27`` = 1 mm; error:22 is a feed never
set; ALARM:2 a soft limit), not from the driver.
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest

from harness.deadline import within
from harness.emulator.grbl_device import EmulatedGrbl
from harness.emulator.grbl_motion import Contact
from harness.errors import DeviceUnavailable
from harness.robot import (Box, Feeds, Gestures, GrblRobot, Limits, MoveRefused, RobotAlarm, RobotCommandError,
                           RobotError, RobotGone, RobotTimeout)
from harness.serial_port import SerialPort

#: The emulated controller's travel ($130-$132) and the glass's height on its bed.
TRAVEL = (150.0, 200.0, 50.0)
SURFACE = -40.0
LIMITS = Limits(Box.from_travel(*TRAVEL), touch_z=-40.5, hover_z=-30.0).with_area((-120.0, -20.0), (-180.0, -20.0))
#: Generous: the machine running the tests may be loaded.
ANSWER = 15.0


@pytest.fixture
def device() -> Iterator[EmulatedGrbl]:
    dev = EmulatedGrbl(start_at=(-75.0, -100.0, -10.0), surface_z=SURFACE)
    dev.start()
    try:
        yield dev
    finally:
        dev.stop()


@pytest.fixture
def contacts(device: EmulatedGrbl) -> list[Contact]:
    heard: list[Contact] = []
    device.add_contact_listener(heard.append)
    return heard


@pytest.fixture
def robot(device: EmulatedGrbl) -> Iterator[GrblRobot]:
    with GrblRobot(SerialPort(device.port.path), LIMITS, answer_timeout=ANSWER) as bot:
        yield bot


def _wait(condition, what: str, timeout: float = ANSWER) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)  # polling a condition, bounded by the deadline above


def test_nothing_is_opened_when_built_and_a_missing_port_is_named(tmp_path) -> None:
    bot = GrblRobot(SerialPort(str(tmp_path / "ttyNONE")), LIMITS)
    assert not bot.is_open
    with pytest.raises(DeviceUnavailable, match="ttyNONE"):
        bot.open()
    bot.close()


def test_it_starts_locked_and_homing_unlocks_it_at_the_pull_off(robot: GrblRobot, device: EmulatedGrbl) -> None:
    assert robot.status().state == "Alarm"
    with pytest.raises(RobotCommandError) as locked:
        robot.send("G53 G0 X-10")
    assert locked.value.code == 9 and "G53 G0 X-10" in str(locked.value) and "alarm" in str(locked.value)
    status = robot.home()
    assert status.state == "Idle" and status.mpos == (-1.0, -1.0, -1.0)
    assert robot.settings()[130] == TRAVEL[0]


def test_a_tap_touches_the_glass_where_asked_and_ends_idle_above_it(robot: GrblRobot, contacts: list[Contact]) -> None:
    robot.home()
    status = Gestures(robot).tap(-60.0, -80.0)
    assert status.state == "Idle" and status.mpos == (-60.0, -80.0, -30.0)
    assert [(c.kind, round(c.x, 3), round(c.y, 3)) for c in contacts] == [("down", -60.0, -80.0), ("up", -60.0, -80.0)]


def test_the_robot_is_idle_only_once_the_phone_has_felt_the_stylus_leave(robot: GrblRobot,
                                                                        device: EmulatedGrbl) -> None:
    """A real stylus has touched and left the glass by the time its controller says Idle. The emulated motion
    thread tells the phone of each contact; held up (a loaded machine: here its listener takes 1.5 s over the
    touch and 0.5 s over the lift), it once let the robot say Idle before the phone had felt the lift, and a
    test reading the phone's touches right after a tap found none ('a tap aimed at (930, 250) touched []')."""
    felt: list[str] = []

    def slow_phone(contact: Contact) -> None:
        time.sleep(1.5 if contact.kind == "down" else 0.5)  # the fault: a phone slow to take the contact
        felt.append(contact.kind)

    device.add_contact_listener(slow_phone)
    robot.home()
    for _ in range(2):
        felt.clear()
        assert Gestures(robot).tap(-60.0, -80.0).state == "Idle"
        assert felt == ["down", "up"], f"the robot said Idle when the phone had felt {felt}"


def test_a_double_tap_touches_twice(robot: GrblRobot, contacts: list[Contact]) -> None:
    robot.home()
    Gestures(robot).double_tap(-50.0, -50.0)
    assert [c.kind for c in contacts] == ["down", "up", "down", "up"]


def test_a_long_press_holds_by_the_robots_dwell(robot: GrblRobot, device: EmulatedGrbl, contacts: list[Contact]) -> None:
    robot.home()
    Gestures(robot).long_press(-40.0, -60.0, seconds=0.8)
    down, up = contacts
    assert (down.kind, up.kind) == ("down", "up")
    assert up.at - down.at >= 0.8  # in the controller's own time
    assert "G4P0.8" in device.lines


def test_a_swipe_drags_from_start_to_end_at_its_feed(robot: GrblRobot, contacts: list[Contact]) -> None:
    robot.home()
    status = Gestures(robot, Feeds(swipe=3000.0)).swipe(-30.0, -40.0, -90.0, -120.0)
    assert status.mpos == (-90.0, -120.0, -30.0)
    assert contacts[0].kind == "down" and (contacts[0].x, contacts[0].y) == pytest.approx((-30.0, -40.0))
    assert contacts[-1].kind == "up" and (contacts[-1].x, contacts[-1].y) == pytest.approx((-90.0, -120.0))
    moves = [c for c in contacts if c.kind == "move"]
    assert len(moves) >= 3 and all(-90.0 - 1e-6 <= c.x <= -30.0 + 1e-6 for c in moves)
    # 100 mm at 3000 mm/min takes 2 s of the controller's time (plus any delay of the lines on a loaded machine)
    assert 2.0 - 0.05 <= contacts[-1].at - contacts[0].at < 2.0 + 1.0


def test_status_shows_run_while_moving_and_idle_at_the_target(robot: GrblRobot) -> None:
    robot.home()
    robot.move_to(x=-100.0, y=-100.0, feed=1500.0)  # 140 mm: nearly 6 s
    assert robot.status().state == "Run"
    assert robot.wait_idle(ANSWER).mpos == (-100.0, -100.0, -1.0)


@pytest.mark.parametrize("move", [dict(x=-130.0, z=-35.0), dict(y=5.0), dict(z=-41.0), dict(x=-160.0)])
def test_a_move_outside_the_limits_is_refused_before_it_is_sent(robot: GrblRobot, device: EmulatedGrbl,
                                                                move: dict) -> None:
    robot.home()
    robot.move_to(x=-50.0, y=-50.0)
    robot.wait_idle(ANSWER)
    sent = list(device.lines)
    with pytest.raises(MoveRefused):
        robot.move_to(**move)
    robot.status()  # the controller has answered everything sent before this
    assert device.lines == sent


def test_a_gesture_leaving_the_phone_is_refused_whole(robot: GrblRobot, device: EmulatedGrbl,
                                                      contacts: list[Contact]) -> None:
    robot.home()
    sent = list(device.lines)
    with pytest.raises(MoveRefused, match="phone's area"):
        Gestures(robot).swipe(-50.0, -50.0, -50.0, -190.0)
    robot.status()
    assert device.lines == sent and contacts == []


def test_an_error_answer_is_typed_with_the_line_asked(robot: GrblRobot) -> None:
    robot.home()
    with pytest.raises(RobotCommandError) as no_feed:
        robot.send("G1 X-10")
    assert no_feed.value.code == 22 and "G1 X-10" in str(no_feed.value)
    with pytest.raises(RobotCommandError) as unknown:
        robot.send("G5 X1")
    assert unknown.value.code == 20


@pytest.mark.parametrize("line", ["G4 P1 ?", "G0 X-1 !", "G0\nX-1", "G0 X-1\x18", "G0 " + "X-1 " * 30, "G0 X\u00e9"])
def test_what_the_controller_would_not_take_as_one_line_is_not_sent(robot: GrblRobot, device: EmulatedGrbl,
                                                                    line: str) -> None:
    robot.home()
    sent = list(device.lines)
    with pytest.raises(RobotError, match="not one GRBL line"):
        robot.send(line)
    assert robot.status().state == "Idle" and device.lines == sent  # no feed hold, no reset, nothing run


def _beyond_the_controller(device: EmulatedGrbl) -> GrblRobot:
    """A driver told the bed is larger than the controller's travel: the controller's soft limit must catch it."""
    wide = Limits(Box.from_travel(300.0, 300.0, 50.0), touch_z=-40.5, hover_z=-30.0)
    return GrblRobot(SerialPort(device.port.path), wide, answer_timeout=ANSWER)


def test_a_soft_limit_alarm_is_typed_and_re_homing_recovers(device: EmulatedGrbl) -> None:
    with _beyond_the_controller(device) as robot:
        robot.home()
        with pytest.raises(RobotAlarm) as alarm:
            robot.move_to(x=-200.0)
        assert alarm.value.code == 2 and "X-200" in str(alarm.value) and "soft limit" in str(alarm.value)
        with pytest.raises(RobotAlarm, match="not sent"):  # locked until recovered
            robot.move_to(x=-20.0)
        assert robot.recover().state == "Idle"
        robot.move_to(x=-20.0, y=-30.0)
        assert robot.wait_idle(ANSWER).mpos == (-20.0, -30.0, -1.0)


def test_an_alarm_that_comes_back_after_re_homing_fails_clearly(device: EmulatedGrbl) -> None:
    with _beyond_the_controller(device) as robot:
        robot.home()
        with pytest.raises(RobotAlarm, match="again after re-homing") as alarm:
            robot.recovering(lambda: robot.move_to(x=-250.0))
        assert alarm.value.code == 2
    assert device.lines.count("$H") == 2


def test_a_gesture_after_a_limit_alarm_recovers_and_is_done(robot: GrblRobot, device: EmulatedGrbl,
                                                            contacts: list[Contact]) -> None:
    robot.home()
    device.commands()["robot_fault"]({"kind": "limit"})  # a limit switch trips while the robot stands
    _wait(lambda: robot.alarm == 1, "ALARM:1")
    with pytest.raises(RobotAlarm, match="answers nothing until a reset"):  # GRBL holds everything, '?' too
        robot.status()
    status = Gestures(robot).tap(-60.0, -60.0)
    assert status.mpos == (-60.0, -60.0, -30.0) and [c.kind for c in contacts] == ["down", "up"]
    assert device.lines.count("$H") == 2 and robot.alarm is None


def test_a_robot_left_held_by_a_limit_alarm_is_reset_when_opened(device: EmulatedGrbl) -> None:
    device.commands()["robot_fault"]({"kind": "limit"})  # GRBL now answers nothing, '?' included, until a reset
    with GrblRobot(SerialPort(device.port.path), LIMITS, answer_timeout=ANSWER) as robot:
        assert robot.status().state == "Alarm" and robot.alarm is None
        robot.home()
        assert robot.status().state == "Idle"


def test_a_controller_that_stops_answering_ends_in_a_typed_timeout_at_the_deadline(robot: GrblRobot,
                                                                                   device: EmulatedGrbl) -> None:
    robot.home()
    device.muted = True
    started = time.monotonic()
    with pytest.raises(RobotTimeout, match="G4 P0"):
        robot.send("G4 P0", timeout=1.0)
    assert 1.0 <= time.monotonic() - started < 1.0 + ANSWER
    started = time.monotonic()
    with pytest.raises(RobotTimeout, match="status report"), within(0.5):
        robot.status(timeout=30.0)  # the enclosing deadline wins
    assert 0.5 <= time.monotonic() - started < 0.5 + ANSWER


def test_a_contact_lasts_from_the_stylus_meeting_the_glass_to_it_leaving_it(device: EmulatedGrbl,
                                                                             contacts: list[Contact]) -> None:
    # a touch height 5 mm under the glass at 600 mm/min: 0.5 s from meeting the glass to the bottom, and back
    deep = Limits(Box.from_travel(*TRAVEL), touch_z=SURFACE - 5.0, hover_z=-30.0)
    with GrblRobot(SerialPort(device.port.path), deep, answer_timeout=ANSWER) as robot:
        robot.home()
        Gestures(robot, Feeds(press=600.0)).long_press(-50.0, -50.0, seconds=0.8)
    down, up = contacts
    assert 0.8 + 2 * 0.5 - 0.05 <= up.at - down.at < 0.8 + 2 * 0.5 + 1.0  # the lift may be late on a loaded machine


def test_a_robot_unplugged_mid_wait_is_said_at_once_not_at_the_deadline(robot: GrblRobot, device: EmulatedGrbl) -> None:
    robot.home()
    outcome: list[BaseException] = []

    def dwell() -> None:
        try:
            robot.send("G4 P20", timeout=60.0)  # answered only after twenty seconds
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    waiter = threading.Thread(target=dwell)
    started = time.monotonic()
    waiter.start()
    _wait(lambda: "G4P20" in device.lines, "the dwell to reach the controller")
    device.port.stop()  # the USB cable comes out while the driver waits for the answer
    waiter.join(timeout=60.0)
    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], RobotGone) and "went away" in str(outcome[0])
    assert time.monotonic() - started < 15.0
    with pytest.raises(RobotGone):
        robot.status()
