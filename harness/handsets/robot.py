"""``robot://PORT?camera=URL&calibration=FILE&profile=NAME``: a phone on a robot's bed, seen by a camera.

A Windows Phone 8.1 handset has no debug bridge; a lab drives it as a
person does. Its screenshot is the camera's frame, rectified to the
profile's size (``harness.camera.CameraScreen``, through the screen corners
the calibration found); a tap or a swipe is the robot's stylus, at the bed
millimetres the calibration maps each pixel to; text is typed on the
phone's on-screen keyboard, found by vision (``harness.vision.keyboard``);
back, start and search are the capacitive keys below the screen (their
place from the profile's ``[body]``, through the same map); power is the
slot's power switch when one is named (``power=lcus:/dev/ttyUSB0#1``).
PORT is any pyserial URL; a URL inside the URI is percent-encoded
(``robot://rfc2217%3A%2F%2Frack7%3A4003?camera=http%3A%2F%2F...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from pathlib import Path
from urllib.parse import quote, unquote

from harness.handsets.base import HandsetUri, OpenedHandset, OpenOptions, Probed, ProbeOptions

if TYPE_CHECKING:
    from harness.handsets.robot_handset import RobotHandset

USAGE = "robot://PORT?camera=URL&calibration=FILE&profile=NAME"
#: Opening reaches a phone that is already on its bed.
STARTS_HANDSET = False
#: How many times longer than over ADB the same steps take: each tap is a robot's move down and back to its
#: parking place (2.7-3.3 s a step on bench 842483), each look a camera frame rectified and evened out, each
#: text typed key by key (``harness.handsets.registry.pace``: a one-shot command's default --timeout is 10 x 60 s).
PACE = 10.0
_OPTIONS = ("camera", "calibration", "profile", "power")


@dataclass(frozen=True)
class RobotAddress:
    """The slot: the robot's serial port, the camera, the calibration file, the profile, the power switch."""

    uri: str
    port: str
    camera: str
    calibration: str
    profile: str
    power: str | None = None


def uri_of(port: str, camera: str, calibration: str | Path, profile: str) -> str:
    """The ``robot://`` URI of a slot: its robot's port, camera URL and calibration file, each percent-encoded."""
    return (f"robot://{quote(port, safe='')}?camera={quote(camera, safe='')}"
            f"&calibration={quote(str(calibration), safe='')}&profile={quote(profile, safe='')}")


def parse(uri: HandsetUri) -> RobotAddress:
    """PORT and the options ``camera``, ``calibration``, ``profile`` (needed) and ``power`` (optional)."""
    port = unquote(uri.location)
    if not port:
        raise uri.error(f"expected {USAGE}: no robot port")
    unknown = sorted(set(uri.query) - set(_OPTIONS))
    if unknown:
        raise uri.error(f"unknown option {unknown[0]!r} (robot:// takes {', '.join(_OPTIONS)})")
    for need in ("camera", "calibration", "profile"):
        if not uri.query.get(need):
            raise uri.error(f"expected {USAGE}: no {need}=")
    return RobotAddress(uri.text, port, uri.query["camera"], uri.query["calibration"], uri.query["profile"],
                        uri.query.get("power") or None)


def connect(address: RobotAddress, options: OpenOptions) -> "RobotHandset":
    """The handset: the calibration read and checked against the profile, the robot homed, the camera opened."""
    from harness.handsets.robot_handset import open_robot_handset

    return open_robot_handset(address.port, address.camera, address.calibration, address.profile,
                              power=address.power, timeout=options.timeout, name=address.uri)


def open(address: RobotAddress, options: OpenOptions) -> OpenedHandset:  # noqa: A001  (the scheme API's name)
    """The handset at ``address`` with its profile."""
    handset = connect(address, options)
    return OpenedHandset(address.uri, handset, profile=handset.profile)


def probe(address: RobotAddress, options: ProbeOptions) -> Probed:
    """The robot answers a status report (``?``) on its port; the camera is not opened (it may be in use)."""
    from harness.robot.limits import Box, Limits
    from harness.robot.robot import GrblRobot
    from harness.serial_port import SerialPort

    try:
        with GrblRobot(SerialPort(address.port), Limits(Box.from_travel(1, 1, 1), -1, 0),
                       answer_timeout=max(0.1, options.timeout)) as robot:
            state = robot.status().state
    except Exception as exc:  # any failure is the answer "not there", said in one line
        return Probed(False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return Probed(True, f"GRBL robot, {state}")
