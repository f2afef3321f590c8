"""``harness emulate --robot``: the robot endpoint is a pty the driver opens like /dev/ttyUSB0.

The worker's slot (``conftest.py``). A controller fresh from power-up in Alarm is checked byte for byte in
``test_grbl_emulator.py``; here the driver meets an alarm (a limit switch tripped) on the announced pty,
gets the robot out of it and taps, and the control socket tells where the stylus went.
"""

from __future__ import annotations

import pytest

from harness.robot import Box, Gestures, GrblRobot, Limits
from harness.serial_port import SerialPort
from robot_slot import Slot


def test_emulate_with_robot_announces_a_grbl_pty_the_driver_taps_through(slot: Slot) -> None:
    assert slot.endpoints["robot"].startswith("/dev/pts/")
    glass = slot.bench["glass_z"]
    # the stylus presses 2 mm under the glass (and under the lowest any test went before: the controller
    # tells the lowest the stylus ever went), and hovers 10 mm over it
    touch = min(glass - 2.0, slot.control.call("robot_state")["lowest_z"] - 0.5)
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=touch, hover_z=glass + 10.0)
    x, y = (round(v, 1) for v in slot.bench["centre"])  # the middle of the phone
    slot.control.call("robot_fault", kind="limit")
    with GrblRobot(SerialPort(slot.endpoints["robot"]), limits, answer_timeout=15.0) as robot:
        assert robot.status().state == "Alarm"
        robot.recover()
        Gestures(robot).tap(x, y)
    state = slot.control.call("robot_state")
    contacts = slot.control.call("robot_contacts", n=2)["contacts"]
    assert state["state"] == "Idle" and state["mpos"] == pytest.approx([x, y, glass + 10.0], abs=1e-3)
    assert state["lowest_z"] == pytest.approx(touch, abs=1e-3)
    assert [(c["kind"], c["x"], c["y"]) for c in contacts] == [("down", x, y), ("up", x, y)]
