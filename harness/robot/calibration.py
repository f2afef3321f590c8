"""Calibrating a camera-and-robot slot: where the phone's screen lies for the robot and how low a touch goes.

The steps, as a lab would do them by hand: find the screen in the camera;
move the stylus over the phone and see its tip in the camera (a rough map
from a few points at the hover height); recognise the screen and, over one of
its targets, lower the stylus in small steps, tapping, until the screen
changes (the touch height); then see the tip over a grid of points just above the
glass (the map, fitted, its residual in pixels); then press the back key and
tap the target again through that map to verify.
Every failure is one line (``CalibrationError``, or the robot's or camera's
own typed error): the screen not found, the robot silent or in alarm, the
stylus not seen, a tap that never registers, a residual over the limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import cv2
import numpy as np

from harness.camera.errors import ScreenNotFound
from harness.camera.lens import fit_lens
from harness.camera.rectify import normalise, rectify
from harness.deadline import deadline_of, until
from harness.profiles import Profile
from harness.robot.gestures import Feeds, Gestures
from harness.robot.grbl import MoveRefused
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap, Calibration
from harness.robot.calibration_fit import (CalibrationError, _by_size, _disc, _grown_quad, _robust_fit, _unscaled,
                                           phone_area, plausible_rough, screen_scale)
from harness.robot.robot import GrblRobot
from harness.robot.screen_change import looks_changed
from harness.robot.frame_delay import settle_delay
from harness.robot.tip import TipNotFound, find_tip
from harness.robot.touch_height import find_touch_height

#: How closely (screen pixels, half RANSAC's threshold) the rough map's points must agree: a tip seen beside its
#: shadow is off by 30-100 px, and such points share the light's direction, so a loose threshold lets them pull
#: the map together; tips seen right agree within ~10 px at the hover height.
ROUGH_AGREE_PX = 8.0
#: Screens compared for a change are rectified at 1/GLANCE of the profile's size.
GLANCE = 4
#: The map's grid reaches this share of the screen's width and height from its edges.
GRID_EDGE = 0.1


@dataclass(frozen=True)
class CalibrationOptions:
    """``hover_z``: a height clear of the phone and its holder (machine mm); ``near``: roughly where the phone
    lies (bed mm; default the middle of the travel); ``target``: the screen target to tap (default its first)."""

    hover_z: float = -20.0
    near: tuple[float, float] | None = None
    target: str | None = None
    step_mm: float = 0.5
    press_mm: float = 0.5
    raise_mm: float = 12.0
    settle_s: float = 1.0
    #: How long the phone may take to show a touch once the stylus lifts (beyond the camera's own delay): a
    #: step of the touch search waits that long for the screen to change before going a step lower.
    response_s: float = 0.4
    #: How long a change that must come (the verifying tap, the back key) may take to show in the camera: a
    #: loaded host or a slow phone is not a failed calibration (the touch search waits only ``settle_s`` a step).
    expect_s: float = 8.0
    settle_frames: int = 1
    #: Start the touch search this far above the camera's glass estimate (None: from the hover height; a
    #: search that starts under the glass is seen by its first step registering, and starts again from hover)
    search_above_mm: float | None = 4.0
    #: ... and go at most this far under it before searching from the hover height instead.
    search_below_mm: float = 4.0
    max_residual_px: float = 12.0
    grid: int = 5
    timeout: float = 300.0


class Calibrator:
    """One calibration run over an open robot and camera screen (``harness.camera.CameraScreen``)."""

    def __init__(self, robot: GrblRobot, screen: Any, profile: Profile, library: Any,
                 options: CalibrationOptions | None = None, say: Callable[[str], None] | None = None) -> None:
        if profile.body is None:
            raise CalibrationError(f"profile {profile.name} has no [body] table (the phone's size and keys)")
        self.robot, self.screen, self.profile, self.library = robot, screen, profile, library
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
        """The screen now at a quarter of its size (rectified, light evened out): what tells a page from another
        (``looks_changed`` shrinks it further), at a sixteenth of a screenshot's cost."""
        w, h = self.profile.width // GLANCE, self.profile.height // GLANCE
        scale = np.diag([w / self.profile.width, h / self.profile.height, 1.0])
        return normalise(rectify(self._frame(), scale @ self.screen.homography, w, h))

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

    # ---------------------------------------------------------------- the run
    def run(self) -> Calibration:
        robot, opts = self.robot, self.options
        if robot.status().state == "Alarm":
            self.say("the robot is in alarm: resetting and homing it")
            robot.recover()  # a limit alarm holds everything but a soft reset; then home, the position may be lost
        box = Box.from_settings(robot.settings())
        park = robot.where()
        robot.with_limits(Limits(box, touch_z=box.z[0], hover_z=opts.hover_z))
        self._go(z=opts.hover_z)
        try:
            corners = np.asarray(self.screen.find(), np.float64)
        except ScreenNotFound as exc:
            raise CalibrationError(f"the phone's screen is not in the camera's picture: {exc}") from None
        self.say(f"screen found in the camera at {np.round(corners).astype(int).tolist()}")
        self.region = _grown_quad(self._frame().shape, corners, 1.6)
        self.reference = self._background(box)
        # the lens's bend, from the screen's straight edges in the picture without the stylus: points between the
        # corners are then placed where they are on the glass (the map's taps, the glass height from parallax)
        lens, corners = fit_lens(cv2.cvtColor(self.reference, cv2.COLOR_RGB2GRAY), corners)
        self.screen.use_lens(lens, corners)
        self.say(f"the lens bends the picture by k1 {lens.k1:+.4f} (radius in frame widths)")

        # 1. a rough map from points at two heights over the phone, scaled back to the glass (parallax.py)
        near = opts.near or ((box.x[0] + box.x[1]) / 2, (box.y[0] + box.y[1]) / 2)
        rough_mm = [(near[0] + dx, near[1] + dy) for dx, dy in ((0, 0), (12, 20), (-12, 20), (12, -20), (-12, -20),
                                                                 (0, 28), (0, -28))]
        seen_mm: list[tuple[float, float]] = []
        low: list[tuple[float, float]] = []
        high: list[tuple[float, float]] = []
        unsure: list[int] = []
        missed = self._views(rough_mm, None, seen_mm, low, high, unsure)
        if len(seen_mm) < 4:
            raise CalibrationError(f"the stylus was seen at {len(seen_mm)} of {len(rough_mm)} points over the phone "
                                   f"(need 4): {missed[0]}")
        # then points spread over the whole screen, aimed through a first map of those (a map extrapolated far
        # beyond its points is off by millimetres at the screen's edges, where targets and keys are)
        first, _, _ = _robust_fit(seen_mm, low, "rough map", 4, ROUGH_AGREE_PX, unsure)
        plausible_rough(first, self.profile, len(seen_mm))
        spread = [(fx * self.profile.width, fy * self.profile.height) for fy in (0.15, 0.5, 0.85)
                  for fx in (0.15, 0.5, 0.85)]
        self._views([first.to_mm(*p) for p in spread], spread, seen_mm, low, high, unsure)
        _, _, out_low = _robust_fit(seen_mm, low, "rough map", 4, ROUGH_AGREE_PX, unsure)
        _, _, out_high = _robust_fit(seen_mm, high, "rough map", 4, ROUGH_AGREE_PX, unsure)
        keep = [i for i in range(len(seen_mm)) if i not in out_low and i not in out_high]
        if len(keep) < 4:
            keep = list(range(len(seen_mm)))
        rough, height = _unscaled([seen_mm[i] for i in keep], [low[i] for i in keep], [high[i] for i in keep],
                                  opts.raise_mm, screen_scale(self.profile))
        if height is None or not 0 < height < opts.hover_z - box.z[0]:
            self.say("the glass height cannot be told from the camera; searching from the hover height")
            guess = None
        else:
            guess = opts.hover_z - height
            self.say(f"the glass looks about {height:.1f} mm under the hover height (z {guess:.1f})")

        # 2. the touch height, over a target of the screen it shows, aimed through the rough map
        self._go(park[0], park[1])
        name, target = self._target()
        gestures = Gestures(robot, Feeds(), recover=False)
        glass, seen_from, before = find_touch_height(self, target, guess, box, rough)
        touch_z = max(box.z[0], glass - opts.press_mm)
        robot.with_limits(Limits(box, touch_z=touch_z, hover_z=opts.hover_z))
        self.say(f"the glass is at z {glass:g}; touching at z {touch_z:g}")

        # 3. the map, from a grid just above the glass (whatever screen the tap led to: only the stylus moves)
        self.reference = self._background(box)
        # spread to near the screen's edges: taps there (keys, 'next', the keyboard) are then not extrapolated
        fractions = [GRID_EDGE + (1 - 2 * GRID_EDGE) * i / (opts.grid - 1) for i in range(opts.grid)]
        grid_px = [(fx * self.profile.width, fy * self.profile.height) for fy in fractions for fx in fractions]
        mm, px, unseen, aimed, unsure = [], [], [], [], []
        for gx, gy in grid_px:
            x, y = rough.to_mm(gx, gy)
            try:
                view = self._tip(x, y, glass + 1.0, f"over screen pixel ({gx:.0f}, {gy:.0f})", expect=(gx, gy))
            except CalibrationError as exc:  # hidden by glare or the frame's edge: the map is fitted from the rest
                unseen.append(str(exc))
                self.say(str(exc))
                continue
            mm.append((x, y))
            aimed.append((gx, gy))
            px.append(self._to_px(view.at_height(-1.0)))
            unsure.extend([] if view.sure else [len(mm) - 1])
            self.say(f"over ({x:.2f}, {y:.2f}) mm the tip is at screen ({px[-1][0]:.0f}, {px[-1][1]:.0f})")
        if len(mm) < 6:
            raise CalibrationError(f"the stylus was seen at {len(mm)} of {len(grid_px)} points of the grid (need 6): "
                                   f"{unseen[0]}")
        # RANSAC within the residual limit (its threshold is twice the floor): a view a dozen px off is left out
        bed, errors, dropped = _robust_fit(mm, px, "map", 6, opts.max_residual_px / 2, unsure)
        if dropped:
            self.say(f"left out {len(dropped)} point(s) where the tip was seen far from the rest's map: "
                     + ", ".join(f"({gx:.0f}, {gy:.0f})" for gx, gy in (aimed[i] for i in dropped)))
        residual = float(np.sqrt(np.mean(np.square(errors))))
        self.say(f"map from {len(errors)} points: residual {residual:.2f} px (worst {max(errors):.2f} px)")
        if residual > opts.max_residual_px:
            raise CalibrationError(f"residual {residual:.1f} px over {len(errors)} points is over the limit "
                                   f"{opts.max_residual_px:g} px (worst {max(errors):.1f} px): the camera or the "
                                   f"phone moved, or the stylus was not seen well")

        # 4. back through the map (the keys are small: the rough map may miss them), then the target again
        self._back(gestures, bed, before, seen_from)
        vx, vy = bed.to_mm(*target)
        self._hover_at(vx, vy)
        before = self._settled()
        self._tap(gestures, vx, vy)
        if self._wait_change(before, True, self.options.expect_s) is None:
            raise CalibrationError(f"verification: a tap on {name!r} at screen ({target[0]:.0f}, {target[1]:.0f}) "
                                   f"through the map changed nothing on the screen within {self.options.expect_s:g}s")
        self._back(gestures, bed, before, (vx, vy, opts.hover_z))
        self._go(park[0], park[1])
        limits = Limits(box, touch_z=touch_z, hover_z=opts.hover_z, area=phone_area(self.profile, self.keys_px, bed))
        return Calibration(profile=self.profile.name, bed_map=bed, limits=limits, feeds=Feeds(),
                           residual_px=residual, worst_px=max(errors), points=len(errors),
                           screen_corners=[(float(x), float(y)) for x, y in corners], lens=lens.as_list(),
                           meta={"created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})

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

    def _target(self) -> tuple[str, tuple[float, float]]:
        from harness.vision.matcher import find_target

        shot = self._shot()
        rec, guess = self.library.classify(shot, self.profile.scale)
        if rec is None:
            raise CalibrationError(f"the phone shows no screen of the library to tap ({guess.why()}); "
                                   f"put it on one with a button (e.g. set-up's welcome)")
        names = [self.options.target] if self.options.target else _by_size(rec)
        for name in names:
            try:
                return name, find_target(rec, name)
            except KeyError:
                continue
        raise CalibrationError(f"screen {rec.screen} shows no target {names[0] if names else ''!r} to tap "
                               f"(found: {', '.join(sorted(rec.targets)) or 'none'})")

    def _back(self, gestures: Gestures, bed: BedMap, before: np.ndarray,
              seen_from: tuple[float, float, float]) -> None:
        """Press the back key (through ``bed``) until the screen ``before`` shows again, at most 3 times (a touch
        seen late, on a loaded host, may have been followed by one more step down that touched again); the stylus
        back where it was when ``before`` was taken, so only the screen can differ."""
        for _ in range(3):
            self._tap(gestures, *bed.to_mm(*self.keys_px["back"]))
            self._hover_at(seen_from[0], seen_from[1], seen_from[2])
            if self._wait_change(before, False, self.options.expect_s) is not None:
                return
        raise CalibrationError(f"the back key, pressed 3 times, did not bring the screen back within "
                               f"{self.options.expect_s:g}s each after a test tap")


def calibrate(robot: GrblRobot, screen: Any, profile: Profile, library: Any,
              options: CalibrationOptions | None = None, say: Callable[[str], None] | None = None) -> Calibration:
    """Calibrate the slot (robot and camera open); the result is not written anywhere (``write_calibration``)."""
    started = time.monotonic()
    calibrator = Calibrator(robot, screen, profile, library, options, say)
    try:
        cal = calibrator.run()
    finally:
        screen.latency = calibrator.latency0  # the delay measured served this run's views only
    if say:
        say(f"calibrated in {time.monotonic() - started:.1f}s")
    return cal
