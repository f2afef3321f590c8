"""A one-shot command's default --timeout fits the handset: a robot:// handset (a robot's moves, a camera's frames)
gets 10 times the 60 s an ADB handset gets; a --timeout given is kept."""

from __future__ import annotations

import pytest

from harness.cli import build_parser
from harness.cli.options import DEFAULT_TIMEOUT, default_timeout

ROBOT = ("robot://%2Fdev%2Fpts%2F9?camera=http%3A%2F%2F127.0.0.1%3A8080%2Fstream.mjpg"
         "&calibration=slot.toml&profile=lumia-930")


@pytest.mark.parametrize("command", ["sync", "match", "tap"])
def test_the_default_timeout_is_the_handsets(command: str) -> None:
    extra = ["1", "2"] if command == "tap" else []
    robot = build_parser().parse_args([command, "--handset", ROBOT, *extra])
    adb = build_parser().parse_args([command, "--handset", "adb-tcp://127.0.0.1:5555", *extra])
    assert robot.timeout is None and default_timeout(robot) == 10 * DEFAULT_TIMEOUT == 600
    assert default_timeout(adb) == DEFAULT_TIMEOUT
    given = build_parser().parse_args([command, "--handset", ROBOT, "--timeout", "45", *extra])
    assert given.timeout == 45
