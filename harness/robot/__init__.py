"""The tapping robot: a GRBL 1.1 controller over a serial port, its limits and its gestures."""

from harness.robot.config import load_robot_settings, robot_settings
from harness.robot.gestures import Feeds, Gestures
from harness.robot.grbl import MoveRefused, RobotAlarm, RobotCommandError, RobotError, RobotGone, RobotTimeout
from harness.robot.limits import Box, Limits
from harness.robot.robot import GrblRobot
from harness.robot.status import Status, parse_status

__all__ = ["Box", "Feeds", "Gestures", "GrblRobot", "Limits", "MoveRefused", "RobotAlarm", "RobotCommandError",
           "RobotError", "RobotGone", "RobotTimeout", "Status", "load_robot_settings", "parse_status", "robot_settings"]
