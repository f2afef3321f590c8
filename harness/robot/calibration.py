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
What the run sees (the stylus's tip, a glance at the screen) is
``calibration_views``; its options ``calibration_options``; its fits ``calibration_fit``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable

import cv2
import numpy as np

from harness.camera.errors import ScreenNotFound
from harness.camera.lens import fit_lens
from harness.profiles import Profile
from harness.robot.calibration_fit import (CalibrationError, _by_size, _grown_quad, _robust_fit, _unscaled,
                                           phone_area, plausible_rough, screen_scale)
from harness.robot.calibration_options import CalibrationOptions
from harness.robot.calibration_views import SlotViews
from harness.robot.gestures import Feeds, Gestures
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap, Calibration
from harness.robot.robot import GrblRobot
from harness.robot.touch_height import find_touch_height

__all__ = ["CalibrationError", "CalibrationOptions", "Calibrator", "calibrate"]

#: How closely (screen pixels, half RANSAC's threshold) the rough map's points must agree: a tip seen beside its
#: shadow is off by 30-100 px, and such points share the light's direction, so a loose threshold lets them pull
#: the map together; tips seen right agree within ~10 px at the hover height.
ROUGH_AGREE_PX = 8.0
#: The map's grid reaches this share of the screen's width and height from its edges.
GRID_EDGE = 0.1


class Calibrator(SlotViews):
    """One calibration run over an open robot and camera screen (``harness.camera.CameraScreen``): its steps."""

    def __init__(self, robot: GrblRobot, screen: Any, profile: Profile, library: Any,
                 options: CalibrationOptions | None = None, say: Callable[[str], None] | None = None) -> None:
        super().__init__(robot, screen, profile, options, say)
        self.library = library

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
