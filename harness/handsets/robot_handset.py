"""The camera-and-robot handset behind ``robot://``: the Handset API over a calibrated slot.

Pixels become bed millimetres through the slot's calibration; every move is
checked against its limits (the touch height, the phone's area) before the
robot gets it, so a tap off the phone is refused, not made. Typed text is a
``Secret`` down to the keys: an error names how many keys were tapped,
never which.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.deadline import deadline_of, until
from harness.errors import HarnessError
from harness.handset import Handset, HandsetInfo
from harness.profiles import Profile, load_profile
from harness.robot.gestures import Gestures
from harness.robot.mapping import Calibration, load_calibration
from harness.robot.robot import GrblRobot
from harness.secrets import Secret
from harness.serial_port import SerialPort

if TYPE_CHECKING:
    from harness.vision.field_text import Fields

#: Keys the robot presses on the phone's body (the capacitive row below the screen).
BODY_KEYS = ("back", "start", "search")
#: How long the on-screen keyboard may take to show after a field is tapped (its animation, the camera's delay,
#: frames where the stylus hides a key).
KEYBOARD_TIMEOUT = 15.0
#: How long the field may take to show what was typed (the camera's delay, frames OCR misreads).
TYPED_TIMEOUT = 15.0


class RobotHandsetError(HarnessError):
    """Something this slot cannot do (a key it has no place for, no keyboard on screen, no power switch)."""


class KeyboardNotFound(RobotHandsetError):
    """No on-screen keyboard (all keys of one of its pages) in the frames of its deadline."""


class TextNotTyped(RobotHandsetError):
    """The field does not show what was typed (a key the phone missed or took twice), or there is no field.

    ``frame`` is the screenshot the field was last read from (a secret's field blanked in it), ``box`` the
    field's box in it: the evidence a run keeps (``harness.cli.evidence``)."""

    def __init__(self, message: str, frame: np.ndarray | None = None, box: Any = None) -> None:
        super().__init__(message)
        self.frame, self.box = frame, box


class RobotHandset(Handset):
    """A phone on a robot's bed: camera screenshots, stylus taps; open robot and camera handed in, closed here."""

    def __init__(self, robot: GrblRobot, screen: Any, calibration: Calibration, profile: Profile,
                 power: Any = None, power_channel: int = 0, name: str = "robot://") -> None:
        if profile.body is None:
            raise RobotHandsetError(f"profile {profile.name} has no [body] table: where are its keys?")
        self.robot, self.screen, self.calibration, self.profile = robot, screen, calibration, profile
        self.power, self.power_channel, self.name = power, power_channel, name
        robot.with_limits(calibration.limits)
        if hasattr(screen, "follow"):  # a screenshot after a gesture shows the phone once the stylus is at rest
            screen.follow(robot)
        self.gestures = Gestures(robot, calibration.feeds)
        self.keys_px = profile.body.keys_px()
        self.last_tap: tuple[int, int] | None = None  # where the field that gets typed text was tapped

    @property
    def info(self) -> HandsetInfo:
        return HandsetInfo(serial=self.name, model=self.profile.model, width=self.profile.width,
                           height=self.profile.height, os_version=self.profile.os_version)

    def screenshot(self) -> np.ndarray:
        """The first camera frame after this call, rectified to the profile's size (RGB)."""
        return self.screen.screenshot()

    def _mm(self, x: float, y: float) -> tuple[float, float]:
        return self.calibration.to_mm(x, y)

    def tap(self, x: int, y: int) -> None:
        """Tap, then hold the stylus beside the screen: the page the tap brings is seen whole (a person's finger
        leaves the glass too; a stylus left over a title once hid 93% of the next page's anchors)."""
        self.gestures.tap(*self._mm(x, y))
        self.last_tap = (x, y)
        self._park()

    def long_press(self, x: int, y: int, seconds: float = 1.0) -> None:
        self.gestures.long_press(*self._mm(x, y), seconds=seconds)
        self._park()

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        """Drag the stylus at the speed that takes ``duration_ms`` (at most the calibration's swipe feed)."""
        (ax, ay), (bx, by) = self._mm(x1, y1), self._mm(x2, y2)
        distance = math.hypot(bx - ax, by - ay)
        feed = self.calibration.feeds.swipe
        if duration_ms > 0 and distance > 0:
            feed = min(feed, distance / (duration_ms / 60000.0))
        self.gestures.swipe(ax, ay, bx, by, feed=feed)
        self._park()

    def key(self, name: str) -> None:
        """back/start/search: the capacitive keys; enter/delete: the on-screen keyboard's; power: the switch."""
        if name in BODY_KEYS:
            self.gestures.tap(*self._mm(*self.keys_px[name]))
            self._park()
        elif name in ("enter", "delete"):
            board = self._keyboard()
            self._tap_key(board.key("enter" if name == "enter" else "backspace"))
        elif name == "power":
            if self.power is None:
                raise RobotHandsetError(f"{self.name}: no power switch for this slot (add power=KIND:WHERE#CHANNEL)")
            self.power.cycle(self.power_channel)
        else:
            raise RobotHandsetError(f"{self.name}: no key {name!r} (back, start, search, enter, delete, power)")

    def _keyboard(self, timeout: float = KEYBOARD_TIMEOUT) -> Any:
        """The on-screen keyboard in the newest frame; it rises after a field is tapped, so it is waited for."""
        from harness.vision.keyboard import find_keyboard, keyboard_shown

        at = deadline_of(timeout)
        while True:
            frame = self.screenshot()
            board = find_keyboard(frame)
            if board is not None:
                return board
            if until(at) == 0:
                seen = "keys, but not all of them or not one of its pages" if keyboard_shown(frame) else "none"
                raise KeyboardNotFound(f"{self.name}: no on-screen keyboard found within {timeout:g}s "
                                       f"(expected one after a field was tapped; seen: {seen})")

    def _tap_key(self, key: Any) -> None:
        x, y = key.center
        self.gestures.tap(*self._mm(x, y))

    def _focused_field(self, board: Any, fields: "Fields") -> tuple[int, int] | None:
        """Where the field the keyboard types into is when this handset did not tap it (a desk ``harness text``
        after ``harness tap``: another process): the nearest field above the keyboard, up the middle
        (``fields``: the frame made ready once, ``field_text.Fields``, for the many points tried)."""
        x, step = fields.width // 2, max(4, fields.width // 24)  # a field is taller than 20 view px
        for y in range(board.region.y - step, fields.height // 10, -step):
            box = fields.box((x, y))
            if box is not None:
                return box.x + box.w // 2, box.y + box.h // 2
        return None

    def _park(self) -> None:
        """Hold the stylus at the hover height beside the phone's screen, so the camera sees all of it (the
        stylus's shaft leans away from the camera's axis, outwards: beside the screen it hides none of it)."""
        from harness.robot.grbl import MoveRefused

        w, h = self.profile.width, self.profile.height
        limits = self.robot.limits
        if self.robot.where()[2] < limits.hover_z:
            self.robot.move_to(z=limits.hover_z, feed=self.calibration.feeds.press)
        for px, py in ((w / 2, -0.15 * h), (-0.25 * w, h / 2), (1.25 * w, h / 2), (w / 2, 1.2 * h)):
            bx, by = self._mm(px, py)
            try:
                self.robot.move_to(x=bx, y=by, z=limits.hover_z)
            except MoveRefused:  # past the bed's travel on that side
                continue
            break
        self.robot.wait_idle()

    def _field_shows(self, field: tuple[int, int], timeout: float) -> tuple[Any, str, int]:
        """(box, text read, marks counted) of the field tapped at ``field`` in the newest frame that shows it."""
        from harness.vision.field_text import count_marks, field_box, read_field

        at = deadline_of(timeout)
        while True:
            frame = self.screenshot()
            box = field_box(frame, field)
            if box is not None:
                return box, read_field(frame, box)[0], count_marks(frame, box)
            if until(at) == 0:
                raise TextNotTyped(f"{self.name}: no text field at {field} within {timeout:g}s "
                                   f"(expected the field the flow tapped before typing)")

    def _field_to_type(self, board: Any, shown: str) -> tuple[int, int]:
        """The field tapped last when a frame shows one there, else the nearest one above the keyboard: looked
        for in frame after frame until ``TYPED_TIMEOUT`` (one frame may catch glare, or a page still moving)."""
        from harness.vision.field_text import Fields

        at = deadline_of(TYPED_TIMEOUT)
        while True:
            fields = Fields(self.screenshot())
            if self.last_tap is not None and fields.box(self.last_tap) is not None:
                return self.last_tap
            found = self._focused_field(board, fields)
            if found is not None:
                return found
            if until(at) == 0:
                raise TextNotTyped(f"{self.name}: no text field above the keyboard to type {shown} into within "
                                   f"{TYPED_TIMEOUT:g}s" + ("" if self.last_tap is None else
                                                            f" (nor at {self.last_tap}, tapped last)"))

    def text(self, text: "str | Secret") -> None:
        """Type on the on-screen keyboard: the keys found on the screen now, in the order its pages need; then
        wait until the field shows what it held before and the text typed (a secret: as many marks)."""
        from harness.vision.field_text import count_marks, field_box, shows_typed
        from harness.vision.keyboard import KeyboardUnknown

        secret = isinstance(text, Secret)
        plain = text.reveal() if isinstance(text, Secret) else text
        shown = "a secret" if secret else repr(plain)
        board = self._keyboard()
        try:
            keys = board.plan(plain)
        except KeyboardUnknown:
            raise RobotHandsetError(f"{self.name}: the keyboard has no key for a character of {shown}") from None
        self._park()  # the stylus off the field it tapped, so the camera sees what the field holds
        field = self._field_to_type(board, shown)
        _, before, marks_before = self._field_shows(field, TYPED_TIMEOUT)
        for done, key in enumerate(keys):
            try:
                self._tap_key(key)
            except HarnessError as exc:
                raise RobotHandsetError(f"{self.name}: typing stopped after {done} of {len(keys)} keys: "
                                        f"{str(exc).splitlines()[0]}") from None
        self._park()
        want_marks = marks_before + len(plain)
        at = deadline_of(TYPED_TIMEOUT)
        read, marks, frame = "", -1, None
        while True:
            frame = self.screenshot()
            box = field_box(frame, field)
            if box is not None:
                if secret:  # a password shows marks; an access code its digits, compared but never shown
                    marks = count_marks(frame, box)
                    if marks == want_marks or shows_typed(frame, box, before + plain)[0]:
                        return
                else:
                    shown_now, read = shows_typed(frame, box, before + plain)
                    if shown_now:
                        return
            if until(at) == 0:
                break
        if box is None:
            seen = "no field there"
        elif secret:
            seen = f"{marks} marks, not {want_marks}"
        else:  # what it held before is part of what is expected: a misread there shows here
            seen = f"{read!r}, not {before + plain!r}"
        raise TextNotTyped(f"{self.name}: typed {len(keys)} keys for {shown}, but the field at {field} "
                           f"shows {seen} after {TYPED_TIMEOUT:g}s", _evidence(frame, box, secret), box)

    def reboot(self) -> None:
        if self.power is None:
            raise RobotHandsetError(f"{self.name}: cannot reboot without a power switch (power=KIND:WHERE#CHANNEL)")
        self.power.cycle(self.power_channel)

    def close(self) -> None:
        try:
            self.screen.close()
        finally:
            try:
                self.robot.close()
            finally:
                if self.power is not None:
                    self.power.close()


def _evidence(frame: np.ndarray | None, box: Any, secret: bool) -> np.ndarray | None:
    """The frame a field was read from, as a run may keep it: a secret's field filled with its border's grey
    (an access code shows its digits)."""
    if frame is None or not secret:
        return frame
    kept = frame.copy()
    if box is not None:
        kept[box.y:box.y + box.h, box.x:box.x + box.w] = 128
    else:
        kept[:] = 128  # no field found: nothing on the frame can be told from the secret
    return kept


def open_robot_handset(port: str, camera: str, calibration: str | Path, profile: str, power: str | None = None,
                       timeout: float = 30.0, name: str = "robot://") -> RobotHandset:
    """Read the calibration (it must be for ``profile``), open the robot (homing it when it starts in alarm)
    and the camera (through the calibration's screen corners), and the power switch when named."""
    from harness.camera import CameraScreen
    from harness.camera.lens import Lens

    prof = load_profile(profile)
    cal = load_calibration(calibration)
    if cal.profile != prof.name:
        raise RobotHandsetError(f"{calibration}: calibrated for profile {cal.profile}, not {prof.name}")
    robot = GrblRobot(SerialPort(port), cal.limits, answer_timeout=min(timeout, 15.0))
    robot.open()
    try:
        if robot.status().state == "Alarm":
            robot.home()
        screen = CameraScreen(camera, prof, screen_corners=cal.screen_corners or None, timeout=timeout,
                              lens=Lens.from_list(cal.lens) if cal.lens else None)
        screen.open()
    except BaseException:
        robot.close()
        raise
    switch, channel = None, 0
    if power:
        from harness.power.spec import open_switch, parse_switch_spec

        kind, where, channel = parse_switch_spec(power)
        switch = open_switch(kind, where, channel)
    return RobotHandset(robot, screen, cal, prof, switch, channel, name)
