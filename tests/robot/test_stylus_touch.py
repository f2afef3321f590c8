"""The robot's stylus on the emulated phone: taps, long presses, swipes and the capacitive keys are the phone's own.

The worker's slot (``conftest.py``: lumia-930, a random bench seed, printed),
its robot driven through its pty by the real driver; where a point of the screen lies on the
bed is worked out here from the placement the control socket tells (the
screen's corners), and what to tap from the screen library's recording.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from harness.emulator.control import ControlClient
from harness.robot import Box, Gestures, GrblRobot, Limits
from harness.serial_port import SerialPort
from robot_slot import Slot

#: setup_welcome's 'next' button, the centre of its region in fixtures/screens/setup_welcome.toml (1080x1920)
NEXT = (51 + 977 / 2, 1737 + 130 / 2)


@pytest.fixture(scope="module")
def bed(slot: Slot) -> Iterator[dict[str, Any]]:
    bench = slot.bench
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=bench["glass_z"] - 0.5, hover_z=bench["glass_z"] + 5)
    with GrblRobot(SerialPort(slot.endpoints["robot"]), limits, answer_timeout=15.0) as robot:
        robot.recover()  # a soft reset and homing, whatever the robot went through before
        yield {"control": slot.control, "bench": bench, "gestures": Gestures(robot), "slot": slot}


def _bed_mm(bench: dict[str, Any], px: float, py: float) -> tuple[float, float]:
    """Screen pixel -> bed mm from the corners the control socket told (bilinear on a rectangle: exact)."""
    (x0, y0), (x1, y1), _, (x3, y3) = bench["screen_corners"]
    u, v = px / 1080, py / 1920
    return x0 + u * (x1 - x0) + v * (x3 - x0), y0 + u * (y1 - y0) + v * (y3 - y0)


def _touches(control: ControlClient, n: int) -> list[dict[str, Any]]:
    return control.call("robot_touches", n=n)["touches"]


def test_a_tap_on_a_button_presses_it_and_the_back_key_goes_back(bed: dict[str, Any]) -> None:
    control, bench, gestures, slot = bed["control"], bed["bench"], bed["gestures"], bed["slot"]
    control.call("goto", screen="setup_welcome")
    gestures.tap(*_bed_mm(bench, *NEXT))
    after = slot.screen(other_than="setup_welcome")
    assert after != "setup_welcome", f"seed {slot.seed}: the tap on 'next' did nothing"
    gestures.tap(*bench["keys"]["back"])
    assert slot.screen(other_than=after) == "setup_welcome", f"seed {slot.seed}"
    tap, key = _touches(control, 2)
    assert tap["kind"] == "tap" and (tap["x"], tap["y"]) == pytest.approx(NEXT, abs=0.5)
    assert key["kind"] == "key" and key["key"] == "back"


def test_long_press_swipe_and_a_touch_beside_the_screen_land_where_they_were_aimed(bed: dict[str, Any]) -> None:
    control, bench, gestures = bed["control"], bed["bench"], bed["gestures"]
    control.call("goto", screen="setup_welcome")
    gestures.long_press(*_bed_mm(bench, 300, 700), seconds=1.2)
    gestures.swipe(*_bed_mm(bench, 900, 1000), *_bed_mm(bench, 200, 1000))
    gestures.tap(*_bed_mm(bench, -40, 900))  # on the body's side, off the glass: nothing
    press, swipe, beside = _touches(control, 3)
    assert press["kind"] == "long_press" and press["seconds"] >= 1.2
    assert (press["x"], press["y"]) == pytest.approx((300, 700), abs=0.5)
    assert swipe["kind"] == "swipe"
    assert (swipe["x"], swipe["y"], swipe["to_x"], swipe["to_y"]) == pytest.approx((900, 1000, 200, 1000), abs=0.5)
    assert beside["kind"] == "none" and beside["x"] == pytest.approx(-40, abs=0.5)
    assert bed["slot"].screen() == "setup_welcome"  # none of them was on 'next'
