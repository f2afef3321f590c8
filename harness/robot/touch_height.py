"""The touch height: how low the stylus must go for the phone to feel it, found by touching a target.

The stylus goes down over a target of the screen in small steps, each a
touch from the hover height and back (the screen's picture ``before`` was
taken with the stylus there, so only the screen can differ), until the
screen changes. Each step waits for the change only as
long as the camera's delay and the phone's reaction allow; a change seen
late (on a loaded host) is taken one step lower, so the height found errs
on the side of touching, never of missing. The search starts a few
millimetres above the camera's estimate of the glass and goes at most a
few under it; when nothing registers there it tries beside the target
(the rough map's error is largest along the screen's length) and then
from the hover height down (the camera's estimate off: the slow way, but
sure).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.robot.calibration_fit import CalibrationError
from harness.robot.gestures import Feeds, Gestures
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap

#: How far (mm, along the screen's height) the touch search tries again beside a target it missed: targets are
#: wide and short (a button ~7 mm high), and the rough map's error is largest along the screen's length.
AIM_SPREAD_MM = 3.5


def find_touch_height(cal: Any, target: tuple[float, float], guess: float | None, box: Box,
                      rough: BedMap) -> tuple[float, tuple[float, float, float], np.ndarray]:
    """The glass's height (the first step that registered), where the stylus was (x, y, z) when the screen
    ``before`` the touch was seen, and that screenshot. ``cal`` is the running ``Calibrator``."""
    opts = cal.options
    spread = AIM_SPREAD_MM * rough.px_per_mm
    aims = [target, (target[0], target[1] - spread), (target[0], target[1] + spread)]
    windows = []
    if guess is not None:
        top = opts.hover_z if opts.search_above_mm is None else min(opts.hover_z, guess + opts.search_above_mm)
        windows.append((top, max(box.z[0], guess - opts.search_below_mm)))
    windows.append((opts.hover_z, box.z[0]))
    tries = [(aim, window) for window in windows for aim in aims]
    for i, (aim, (start, bottom)) in enumerate(tries):
        tx, ty = rough.to_mm(*aim)
        cal._hover_at(tx, ty)
        before = cal._settled()
        try:
            return _search(cal, tx, ty, start, bottom, box, rough, before), (tx, ty, opts.hover_z), before
        except CalibrationError:
            if i == len(tries) - 1:
                raise
            cal.say(f"no tap registered over screen ({aim[0]:.0f}, {aim[1]:.0f}) from z {start:g} to {bottom:g}; "
                    "trying " + ("from the hover height" if tries[i + 1][1] != (start, bottom)
                                 else f"{AIM_SPREAD_MM:g} mm to the other side"))
    raise AssertionError("unreachable")


def _search(cal: Any, x: float, y: float, top: float, bottom: float, box: Box, rough: BedMap,
            before: np.ndarray) -> float:
    """Lower the stylus over (x, y) step by step from ``top`` down to ``bottom``, each step a touch that comes
    back up to the hover height (where ``before`` was seen: a search that starts under a glass higher than the
    camera said must still lift off it), until the screen changes: the first height that registered.
    A touch that registers at the first step may have started under the glass: the page is brought back (the
    back key, through ``rough``) and the search starts again three windows higher (then from the hover height)."""
    opts, robot = cal.options, cal.robot
    wait = cal.probe_s()
    z = top
    while z - opts.step_mm >= bottom - 1e-9:
        z -= opts.step_mm
        robot.move_to(z=z, feed=Feeds.press, timeout=cal._left())
        robot.move_to(z=opts.hover_z, timeout=cal._left())
        robot.wait_idle(cal._left())
        if cal._wait_change(before, True, wait) is not None:
            if z < top - opts.step_mm - 1e-9 or top >= opts.hover_z:
                return z
            higher = min(opts.hover_z, top + 3 * (opts.search_above_mm or 0.0))
            cal.say(f"a tap registered at the first step under z {top:g}: the glass may be higher than the camera "
                    f"suggested; bringing the page back and searching from z {higher:g}")
            robot.with_limits(Limits(box, touch_z=z, hover_z=opts.hover_z))
            try:
                cal._back(Gestures(robot, Feeds(), recover=False), rough, before, (x, y, opts.hover_z))
            finally:
                robot.with_limits(Limits(box, touch_z=box.z[0], hover_z=opts.hover_z))
            return _search(cal, x, y, higher, box.z[0], box, rough, before)
    raise CalibrationError(f"no tap registered lowering the stylus from z {top:g} to {z:g} over ({x:.1f}, {y:.1f}): "
                           "the screen never changed (phone off or locked, or not under it)")
