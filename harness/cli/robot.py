"""``harness calibrate``: calibrate a camera-and-robot slot and write its calibration file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.cli.options import bounded
from harness.errors import HarnessError

#: How long one calibration view may wait for a camera frame: a stream stalled for a few seconds by a loaded host
#: (the camera's reader gives it up after 5 s) is opened again within it.
VIEW_TIMEOUT = 30.0


def _pair(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in mm, got {text!r}") from None
    return x, y


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_calibrate_parser(sub: Any) -> None:
    """Register ``harness calibrate`` on the subparsers."""
    p = sub.add_parser("calibrate", help="calibrate a camera-and-robot slot (robot mm <-> screen pixels, touch height)",
                       description="Find the phone's screen in the camera, see the stylus tip over the phone, find "
                                   "the touch height on a target of the screen shown (the back key brings it back), "
                                   "fit robot mm to screen pixels, verify with a tap, and write the calibration.")
    p.add_argument("--camera", required=True, metavar="URL", help="the camera (/dev/video0, http://.../stream.mjpg, rtsp://...)")
    p.add_argument("--robot", required=True, metavar="PORT", help="the robot's serial port (any pyserial URL)")
    p.add_argument("--profile", required=True, help="the phone's device profile (it needs a [body] table)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the calibration (TOML)")
    p.add_argument("--hover-z", type=float, default=-20.0, metavar="MM",
                   help="a height clear of the phone and its holder, machine mm (default -20)")
    p.add_argument("--near", type=_pair, metavar="X,Y", help="roughly where the phone's centre is, bed mm "
                   "(default: the middle of the robot's travel)")
    p.add_argument("--target", help="the screen target to tap (default: the first of the screen shown)")
    p.add_argument("--max-residual", type=_positive, default=12.0, metavar="PX",
                   help="fail when the map's residual is over this many screen pixels (default 12)")
    p.add_argument("--screens", metavar="DIR", help="screen library (default: the one shipped)")
    p.add_argument("--timeout", type=_positive, default=300.0, metavar="SECONDS",
                   help="upper bound for the whole calibration (default 300)")
    p.set_defaults(func=bounded(_cmd_calibrate))


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from harness.camera import CameraScreen
    from harness.profiles import load_profile
    from harness.robot.calibration import CalibrationOptions, calibrate
    from harness.robot.limits import Box, Limits
    from harness.robot.mapping import Calibration, write_calibration
    from harness.robot.robot import GrblRobot
    from harness.serial_port import SerialPort
    from harness.vision.matcher import ScreenLibrary

    profile = load_profile(args.profile)
    output = Path(args.output)
    if not output.parent.is_dir():
        raise HarnessError(f"cannot write {output}: folder {output.parent} does not exist")
    library = ScreenLibrary.shared(args.screens)
    options = CalibrationOptions(hover_z=args.hover_z, near=args.near, target=args.target,
                                 max_residual_px=args.max_residual, timeout=args.timeout)
    def say(line: str) -> None:
        args.stage(line)  # the step under way names a --timeout that runs out outside the calibration's own waits
        print(f"calibrate: {line}", file=sys.stderr, flush=True)

    # the travel is not known before $$: the robot opens with a box that only lets it answer and home
    with GrblRobot(SerialPort(args.robot), Limits(Box.from_travel(1, 1, 1), -1, 0), answer_timeout=15.0) as robot:
        # one view may wait this long for its frame (a stream a loaded host stalls is reopened within it); the whole
        # calibration still ends by --timeout
        with CameraScreen(args.camera, profile, timeout=VIEW_TIMEOUT) as screen:
            cal = calibrate(robot, screen, profile, library, options, say)
    cal = Calibration(**{**cal.__dict__, "meta": {**cal.meta, "camera": args.camera, "robot": args.robot}})
    write_calibration(output, cal)
    print(f"{output}: residual {cal.residual_px:.2f} px over {cal.points} points (worst {cal.worst_px:.2f} px), "
          f"touch height z {cal.limits.touch_z:g}")
    return 0
