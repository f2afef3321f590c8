"""The arithmetic of a calibration: robust fits of the map from the tips seen, and the masks where a tip may show.

Kept apart from the steps (``calibration.py``) so each stays small; the fits
leave out points that disagree (a tip hidden by glare or seen beside its
shadow) while enough of them agree.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from harness.errors import HarnessError
from harness.profiles import Profile
from harness.robot.mapping import BedMap
from harness.robot.parallax import unscaled


#: Sure points beyond the fewest a fit needs before unsure ones are left out.
SURE_SPARE = 2
#: How far a rough map's scale (tips at the hover height, nearer the camera than the glass) may be from the
#: screen's own pixels per millimetre before its tips count as misread.
ROUGH_SCALE = (0.6, 1.7)


class CalibrationError(HarnessError):
    """Calibration could not finish; the message says which step and what was seen."""


def _by_size(rec: Any) -> list[str]:
    """The recognised screen's targets, the largest first (the easiest to hit with a rough map)."""
    sizes = {t.name: t.region.w * t.region.h for t in getattr(rec.definition, "targets", [])}
    return sorted(rec.targets, key=lambda name: (-sizes.get(name, 0), name))


def _robust_fit(mm: list[tuple[float, float]], px: list[tuple[float, float]], what: str, min_points: int,
                floor_px: float, unsure: list[int] | None = None) -> tuple[BedMap, list[float], list[int]]:
    """The map from the points that agree (RANSAC, within ``2 * floor_px``), then fitted on them by least squares:
    a tip hidden by glare or cut by the frame's edge is left out while ``min_points`` agree; the indices left out.
    ``unsure``: points whose tip was not placed by its outline (a shadow as dark as the tip beside it, the tip
    as dark as the page), left out too while ``SURE_SPARE`` more than ``min_points`` are sure."""
    pool = list(range(len(mm)))
    if unsure and len(mm) - len(set(unsure)) >= min_points + SURE_SPARE:
        pool = [i for i in pool if i not in set(unsure)]
    _, inliers = cv2.estimateAffine2D(np.asarray([mm[i] for i in pool], np.float64),
                                      np.asarray([px[i] for i in pool], np.float64), method=cv2.RANSAC,
                                      ransacReprojThreshold=2 * floor_px, maxIters=2000, confidence=0.999)
    keep = [i for k, i in enumerate(pool) if inliers is not None and inliers[k]]
    if len(keep) < min_points:
        keep = list(range(len(mm)))  # no consensus: fit them all, and let the residual say how bad it is
    bed, errors = _fit([mm[i] for i in keep], [px[i] for i in keep], what)
    return bed, errors, sorted(set(range(len(mm))) - set(keep))


def screen_scale(profile: Profile) -> float:
    """The phone's screen pixels per millimetre of glass (its profile's width over its body's screen width)."""
    assert profile.body is not None
    return profile.width / profile.body.screen_mm[0]


def plausible_rough(first: BedMap, profile: Profile, seen: int) -> None:
    """CalibrationError when the first map from the tips seen cannot be the phone's: its scale is far from the
    screen's (tips misread: glare, a page that moved, the shadow taken for the tip). Aimed through such a map the
    next points would leave the phone, or the bed."""
    low, high = ROUGH_SCALE
    if not low <= first.px_per_mm / screen_scale(profile) <= high:
        raise CalibrationError(f"the stylus tips seen at {seen} points over the phone give a map of "
                               f"{first.px_per_mm:.2f} screen px/mm where the screen has {screen_scale(profile):.2f}: "
                               "they were misread (glare, a page moving, a shadow)")


def _unscaled(mm: list[tuple[float, float]], low: list[tuple[float, float]], high: list[tuple[float, float]],
              raised: float, true_scale: float) -> tuple[BedMap, float | None]:
    try:
        return unscaled(mm, low, high, raised, true_scale)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise CalibrationError(f"rough map: {exc}") from None


def _fit(mm: list[tuple[float, float]], px: list[tuple[float, float]], what: str) -> tuple[BedMap, list[float]]:
    """The map and each point's error from the tips seen."""
    try:
        return BedMap.fit(mm, px)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise CalibrationError(f"{what}: {exc}") from None


def _disc(shape: tuple[int, ...], centre: tuple[float, float], radius: float) -> np.ndarray:
    """A 0/1 mask of a disc (where the stylus is expected)."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.circle(mask, (int(round(centre[0])), int(round(centre[1]))), max(1, int(round(radius))), 1, -1)
    return mask


def _grown_quad(shape: tuple[int, ...], corners: np.ndarray, factor: float) -> np.ndarray:
    """A 0/1 mask of the screen's quadrilateral grown by ``factor`` about its centre (where the stylus may show)."""
    centre = corners.mean(axis=0)
    grown = centre + (corners - centre) * factor
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 1)
    return mask


def phone_area(profile: Profile, keys_px: dict[str, tuple[float, float]],
               bed: BedMap) -> tuple[tuple[float, float], tuple[float, float]]:
    """The phone's screen and keys on the bed, with the keys' pads (the stylus may go low only there)."""
    w, h = profile.width, profile.height
    pad = profile.body.key_radius_px if profile.body else 0.0
    px = [(0, 0), (w, 0), (0, h), (w, h)] + [(kx + dx, ky + dy) for kx, ky in keys_px.values()
                                              for dx in (-pad, pad) for dy in (-pad, pad)]
    mm = np.asarray([bed.to_mm(*p) for p in px])
    return (float(mm[:, 0].min()), float(mm[:, 0].max())), (float(mm[:, 1].min()), float(mm[:, 1].max()))
