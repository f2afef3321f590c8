"""What a calibration sees: the stylus moved and its tip found in camera frames taken at rest, and the screen
glanced at to tell whether a touch changed the page.

``SlotViews`` holds the open robot and camera screen of a calibration run and
its small steps: moves within the run's deadline, a frame exposed after the
robot stopped, the picture without the stylus (the reference a tip is told
from), a small look at the screen, the tip over a point at two
heights (``tip.find_tip``), the camera's delay measured once, and the
conversions between camera and screen pixels. The run's steps
(``calibration.Calibrator``) and the touch search (``touch_height``) are
written with these.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from harness.deadline import deadline_of, until
from harness.profiles import Profile
from harness.robot.calibration_fit import CalibrationError, _disc
from harness.robot.calibration_options import CalibrationOptions
from harness.robot.frame_delay import settle_delay
from harness.robot.gestures import Gestures
from harness.robot.grbl import MoveRefused
from harness.robot.limits import Box
from harness.robot.robot import GrblRobot
from harness.robot.screen_change import glance, looks_changed
from harness.robot.tip import TipNotFound, find_tip


class SlotViews:
    """The robot and camera screen (``harness.camera.CameraScreen``) of one calibration run, and what it sees."""

    def __init__(self, robot: GrblRobot, screen: Any, profile: Profile, options: CalibrationOptions | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        if profile.body is None:
            raise CalibrationError(f"profile {profile.name} has no [body] table (the phone's size and keys)")
        self.robot, self.screen, self.profile = robot, screen, profile
        self.options = options or CalibrationOptions()
        self.say = say or (lambda line: None)
        self.keys_px = profile.body.keys_px()
        self.at = deadline_of(self.options.timeout)
        self.region: np.ndarray | None = None
        self.reference: np.ndarray | None = None
        self.latency0 = float(screen.latency)  # the configured camera delay, restored when the run ends
        if hasattr(screen, "follow"):  # every view after a move is a frame of the stylus at rest (camera/settle.py)
            screen.follow(robot)
        self._delay_measured = False

    # ---------------------------------------------------------------- small steps
    def _left(self) -> float:
        left = until(self.at)
        if left == 0:
            raise CalibrationError(f"calibration took longer than {self.options.timeout:g}s")
        return left

    def _go(self, x: float | None = None, y: float | None = None, z: float | None = None, feed: float | None = None) -> None:
        self.robot.move_to(x, y, z, feed=feed, timeout=self._left())
        self.robot.wait_idle(self._left())

    def _hover_at(self, x: float, y: float, z: float | None = None, low_z: float | None = None) -> None:
        """To (x, y) at height ``z`` (default the hover height), travelling at ``low_z`` or higher (default the
        hover height; never lower than where it is now): the moves streamed, one wait for Idle."""
        floor = self.options.hover_z if low_z is None else low_z
        robot = self.robot
        if robot.where()[2] < floor:
            robot.move_to(z=floor, timeout=self._left())
        robot.move_to(x, y, timeout=self._left())
        robot.move_to(z=self.options.hover_z if z is None else z, timeout=self._left())
        robot.wait_idle(self._left())

    def _frame(self) -> np.ndarray:
        """A camera frame exposed after this call (the ``settle_frames``-th: one arriving now may predate the stop)."""
        return [self.screen.frame() for _ in range(max(1, self.options.settle_frames))][-1]

    def _background(self, box: Box) -> np.ndarray:
        """The scene without the stylus: the median of frames with the stylus at three far corners of the bed
        (a parked stylus may still be in view; in at most one of the three at any pixel)."""
        self._settled()  # a page still animating after a tap would be taken for the stylus
        frames = []
        for x, y in ((box.x[1], box.y[1]), (box.x[0], box.y[1]), (box.x[1], box.y[0])):
            self._go(z=self.options.hover_z)
            self._go(min(max(x, box.x[0] + 1), box.x[1] - 1), min(max(y, box.y[0] + 1), box.y[1] - 1))
            frames.append(self._frame())
        return np.median(np.stack(frames), axis=0).astype(np.uint8)

    def _settled(self) -> np.ndarray:
        """A glance once two in a row show the same picture (within ``settle_s`` times 3): a screen to compare
        later ones with must not catch the stylus still moving (a camera whose delay grows under load), nor a
        background a page still animating."""
        end = deadline_of(min(3 * self.options.settle_s, self._left()))
        shot = self._glance()
        while until(end) > 0:
            last, shot = shot, self._glance()
            if looks_changed(last, shot) is False:
                break
        return shot

    def _shot(self) -> np.ndarray:
        return self.screen.rectified(self._frame())

    def _glance(self) -> np.ndarray:
        """The screen now, small (``screen_change.glance``): what tells a page from another."""
        return glance(self._frame(), self.screen.homography, self.profile)

    def _tip(self, x: float, y: float, z: float, what: str, expect: tuple[float, float] | None = None) -> Any:
        """The tip over bed (x, y) at height z, seen in the camera (``TipView``, camera pixels); with ``expect``
        (screen pixels where a map puts it), only changes near there count (the phone's clock or an animation
        elsewhere on the screen is not the stylus)."""
        self._hover_at(x, y, z + self.options.raise_mm, low_z=z + self.options.raise_mm)
        high = self._frame()
        if self._delay_measured:
            self._go(z=z)
        else:
            self._delay_measured = True
            self._measure_delay(x, y, z)
        low = self._frame()
        region, near = self.region, None
        if expect is not None and region is not None:
            near = self._to_camera(expect)
            region = region & _disc(region.shape, near, self._window_px())
        try:
            return find_tip(low, high, self.reference, self.options.raise_mm, region, what, near)
        except TipNotFound as exc:
            raise CalibrationError(str(exc)) from None

    def _views(self, points_mm: list[tuple[float, float]], expect: list[tuple[float, float]] | None,
               seen_mm: list[tuple[float, float]], low: list[tuple[float, float]], high: list[tuple[float, float]],
               unsure: list[int]) -> list[str]:
        """Tips at hover and raised height per point (screen px, appended; ``unsure``: not placed by outline)."""
        missed = []
        for i, (x, y) in enumerate(points_mm):
            try:
                view = self._tip(x, y, self.options.hover_z, f"at ({x:g}, {y:g})", expect[i] if expect else None)
            except (CalibrationError, MoveRefused) as exc:  # a tip hidden by glare or the frame's edge, or a point
                missed.append(str(exc))  # aimed off the bed through a map of tips misread: the others carry on
                continue
            seen_mm.append((x, y))
            unsure.extend([] if view.sure else [len(seen_mm) - 1])
            low.append(self._to_px((view.x, view.y)))
            high.append(self._to_px(view.raised))
        return missed

    def probe_s(self) -> float:
        """How long a step of the touch search waits for the screen to change: the camera's delay and the
        phone's reaction, at most ``settle_s``."""
        return min(self.options.settle_s, self.screen.latency + self.options.response_s)

    def _measure_delay(self, x: float, y: float, z: float) -> None:
        """Measure the camera's delay (``frame_delay``) on a move of the stylus in view, down to z over (x, y),
        and take frames that much after a request from now on (never longer than the configured latency)."""
        self._go(z=z)
        delay = settle_delay(self.screen.capture, time.monotonic(), max(0.6, 2 * self.latency0),
                             self.region)
        if delay is not None and delay < self.latency0:
            self.screen.latency = delay
            self.say(f"the camera shows a move {delay * 1000:.0f} ms after the robot stops")

    def _wait_change(self, before: np.ndarray, changed: bool, within: float | None = None) -> np.ndarray | None:
        """The first screenshot that differs from ``before`` (``changed``) or matches it again, within ``within``
        seconds (default settle_s)."""
        end = deadline_of(min(self.options.settle_s if within is None else within, self._left()))
        while True:
            shot = self._glance()
            if looks_changed(before, shot) == changed:
                return shot
            if until(end) == 0:
                return None

    def _tap(self, gestures: Gestures, x: float, y: float) -> None:
        gestures.timeout = self._left()
        gestures.tap(x, y)

    # ---------------------------------------------------------------- camera and screen pixels
    def _to_camera(self, screen_point: tuple[float, float]) -> tuple[float, float]:
        x, y = self.screen.to_camera(np.asarray([screen_point], np.float64))[0]
        return float(x), float(y)

    def _window_px(self) -> float:
        """How far (camera pixels) from where a rough map puts it the tip may be seen: a fifth of the screen's
        long side, a margin for the rough map's error and the stylus's parallax."""
        corners = np.asarray(self.screen.corners, np.float64)
        return 0.2 * float(max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[3] - corners[0])))

    def _to_px(self, camera_point: tuple[float, float]) -> tuple[float, float]:
        x, y = self.screen.to_screen(np.asarray([camera_point], np.float64))[0]
        return float(x), float(y)
