"""The driver's reading of GRBL 1.1's lines: status reports, answers, the limits it checks before sending.

Expected values are written out here from GRBL 1.1's documented formats,
not taken from the parser; hypothesis builds reports from their parts and
checks the parser gives the parts back.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ConfigError
from harness.robot.config import load_robot_settings
from harness.robot.grbl import RobotAlarm, RobotCommandError, classify
from harness.robot.inbox import Inbox
from harness.robot.limits import Box, Limits
from harness.robot.grbl import MoveRefused
from harness.robot.status import STATES, StatusFormatError, parse_status


def test_a_documented_status_report_is_read_field_by_field() -> None:
    status = parse_status("<Run|MPos:-10.500,-2.000,-30.125|FS:3000,0|WCO:1.000,2.000,3.000>")
    assert status.state == "Run" and status.substate is None
    assert status.mpos == (-10.5, -2.0, -30.125)
    assert (status.feed, status.speed) == (3000.0, 0.0)
    assert status.wco == (1.0, 2.0, 3.0)


def test_a_work_position_report_gives_the_machine_position_through_the_offset() -> None:
    status = parse_status("<Hold:1|WPos:1.000,2.000,3.000|F:500|Pn:XZ>")
    assert status.state == "Hold" and status.substate == 1 and status.pins == "XZ"
    assert status.machine_position() is None  # no offset known yet
    assert status.machine_position((10.0, 20.0, 30.0)) == (11.0, 22.0, 33.0)


@pytest.mark.parametrize("line", ["Idle|MPos:0,0,0", "<Walking|MPos:0,0,0>", "<Idle|MPos:0,0>",
                                  "<Idle|MPos:a,b,c>", "<Idle|FS:1>", "<Idle|nonsense>", "<Hold:x|MPos:0,0,0>"])
def test_what_is_not_a_status_report_is_refused_saying_why(line: str) -> None:
    with pytest.raises(StatusFormatError):
        parse_status(line)


coordinate = st.floats(min_value=-9999, max_value=9999, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(state=st.sampled_from(STATES), sub=st.none() | st.integers(0, 3), pos=st.tuples(coordinate, coordinate, coordinate),
       feed=st.integers(0, 20000), work=st.booleans(), extra=st.sampled_from(["", "|Bf:15,128", "|Ov:100,100,100", "|Ln:99"]))
def test_any_report_built_from_its_parts_is_read_back_to_them(state: str, sub: int | None, pos: tuple[float, float, float],
                                                              feed: int, work: bool, extra: str) -> None:
    head = state if sub is None else f"{state}:{sub}"
    where = "WPos" if work else "MPos"
    line = f"<{head}|{where}:{pos[0]:.3f},{pos[1]:.3f},{pos[2]:.3f}|FS:{feed},0{extra}>"
    status = parse_status(line)
    assert (status.state, status.substate) == (state, sub)
    assert (status.wpos if work else status.mpos) == pos
    assert status.feed == feed
    assert classify(line).kind == "status"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(chunks=st.lists(st.integers(1, 7), min_size=1, max_size=40))
def test_lines_split_anywhere_on_the_wire_are_read_whole_and_in_order(chunks: list[int]) -> None:
    wire = b"\r\nGrbl 1.1h ['$' for help]\r\n[MSG:'$H'|'$X' to unlock]\r\n<Alarm|MPos:0.000,0.000,0.000|FS:0,0>\r\n" \
           b"error:9\r\nok\r\nALARM:2\r\n"
    inbox = Inbox()
    i = 0
    for size in chunks * (len(wire) // max(1, sum(chunks)) + 1):
        inbox.feed(wire[i:i + size])
        i += size
        if i >= len(wire):
            break
    inbox.feed(wire[i:])
    kinds = [(r.kind, r.code) for r in inbox.since(0)]
    assert kinds == [("banner", None), ("message", None), ("status", None), ("error", 9), ("ok", None), ("alarm", 2)]


def test_a_line_without_end_is_cut_at_the_limit_not_kept_growing() -> None:
    inbox = Inbox()
    inbox.feed(b"x" * 10_000)
    assert inbox.overlong >= 1
    assert all(len(r.text) <= 256 for r in inbox.since(0))


def test_errors_say_what_was_asked_what_was_answered_and_what_it_means() -> None:
    error = RobotCommandError("/dev/ttyUSB0", "G53 G1 X-10", 22)
    assert "G53 G1 X-10" in str(error) and "error:22" in str(error) and "feed rate" in str(error)
    alarm = RobotAlarm("/dev/ttyUSB0", "G53 G0 X-500", 2)
    assert "G53 G0 X-500" in str(alarm) and "ALARM:2" in str(alarm) and "soft limit" in str(alarm)
    assert not alarm.position_lost and RobotAlarm("p", None, 1).position_lost


LIMITS = Limits(Box.from_travel(150, 200, 50), touch_z=-41.0, hover_z=-30.0).with_area((-100.0, -20.0), (-150.0, -10.0))


@pytest.mark.parametrize("target, words", [((-151.0, -50.0, -30.0), "bed"), ((-50.0, 1.0, -30.0), "bed"),
                                           ((-50.0, -50.0, -41.5), "touch height"), ((-10.0, -50.0, -35.0), "phone's area"),
                                           ((-50.0, -160.0, -40.0), "phone's area")])
def test_targets_outside_the_bed_the_area_or_below_the_touch_height_are_refused(target: tuple, words: str) -> None:
    with pytest.raises(MoveRefused, match=words):
        LIMITS.check(target, "the move")


def test_targets_on_the_edges_are_allowed() -> None:
    # and outside the phone's area at or above the hover height (the stylus crosses the bed up there)
    for target in [(-100.0, -150.0, -41.0), (-20.0, -10.0, -30.0), (-50.0, -50.0, 0.0), (-5.0, -190.0, -30.0)]:
        LIMITS.check(target, "the move")


def test_the_bed_comes_from_the_controllers_max_travel_settings() -> None:
    assert Box.from_settings({130: 150.0, 131: 200.0, 132: 50.0}) == Box((-150.0, 0.0), (-200.0, 0.0), (-50.0, 0.0))
    with pytest.raises(ValueError, match=r"\$132"):
        Box.from_settings({130: 150.0, 131: 200.0})


def test_a_robot_table_gives_its_limits_and_feeds(tmp_path) -> None:
    path = tmp_path / "slot.toml"
    path.write_text("[robot]\ntravel = [150, 200, 50]\ntouch_z = -40.5\nhover_z = -30\n"
                    "area = [[-120, -20], [-180, -20]]\nswipe_feed = 4000\n", encoding="utf-8")
    limits, feeds = load_robot_settings(path)
    assert limits.bed == Box((-150.0, 0.0), (-200.0, 0.0), (-50.0, 0.0))
    assert (limits.touch_z, limits.hover_z, limits.area) == (-40.5, -30.0, ((-120.0, -20.0), (-180.0, -20.0)))
    assert (feeds.press, feeds.swipe) == (3000.0, 4000.0)


@pytest.mark.parametrize("body, field", [("travel = [150, 200]\ntouch_z = -40\nhover_z = -30", "robot.travel"),
                                         ("travel = [150, 200, 50]\ntouch_z = -60\nhover_z = -30", "robot"),
                                         ("travel = [150, 200, 50]\ntouch_z = -40\nhover_z = -45", "robot"),
                                         ("travel = [150, 200, 50]\ntouch_z = -40", "robot.hover_z"),
                                         ("travel = [150, 200, 50]\ntouch_z = 'low'\nhover_z = -30", "robot.touch_z"),
                                         ("travel = [150, 200, 50]\ntouch_z = -40\nhover_z = -30\ntuch = 1", "robot.tuch"),
                                         ("travel = [150, 200, 50]\ntouch_z = -40\nhover_z = -30\n"
                                          "area = [[-20, -120], [-180, -20]]", "robot.area")])
def test_a_wrong_robot_table_is_one_line_naming_the_field(tmp_path, body: str, field: str) -> None:
    path = tmp_path / "slot.toml"
    path.write_text("[robot]\n" + body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_robot_settings(path)
    assert error.value.field == field and str(path) in str(error.value) and "\n" not in str(error.value)
