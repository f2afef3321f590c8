"""``harness emulate --robot``: the robot endpoint is a pty the driver opens like /dev/ttyUSB0."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from harness.emulator.control import ControlClient
from harness.robot import Box, Gestures, GrblRobot, Limits
from harness.serial_port import SerialPort


def test_emulate_with_robot_announces_a_grbl_pty_the_driver_taps_through() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", "lumia-520", "--robot",
                             "--animation-ms", "0", "--boot-time", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"harness emulate printed nothing; stderr: {proc.stderr.read() if proc.stderr else ''}")
        endpoints = json.loads(line)
        assert endpoints["robot"].startswith("/dev/pts/")
        # the emulated glass lies above z -40.5 (a phone of 9.9 mm on the holder plate at z -48)
        limits = Limits(Box.from_travel(150, 200, 50), touch_z=-40.5, hover_z=-30.0)
        with GrblRobot(SerialPort(endpoints["robot"]), limits, answer_timeout=15.0) as robot:
            assert robot.status().state == "Alarm"
            robot.home()
            Gestures(robot).tap(-40.0, -50.0)
        with ControlClient.for_endpoints(endpoints) as control:
            state = control.call("robot_state")
            contacts = control.call("robot_contacts")["contacts"]
        assert state["state"] == "Idle" and state["mpos"] == [-40.0, -50.0, -30.0]
        assert state["lowest_z"] == pytest.approx(-40.5)
        assert [(c["kind"], c["x"], c["y"]) for c in contacts] == [("down", -40.0, -50.0), ("up", -40.0, -50.0)]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0
