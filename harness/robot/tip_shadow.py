"""Which way the stylus's shadow falls from its tip in a camera frame: the side of the tip's outline not to trust.

The tip's shadow lies on the glass under it. Seen from the camera it is
offset from the tip by the light's slant and by parallax (the tip stands
above the glass, so it looks farther from the point under the lens than its
shadow), both in proportion to the tip's height: a millimetre over the glass
the shadow is a disc about the tip's size a pixel or three beside it. Where
the page under it is as dark as the tip (a dark theme, or the shadow's
darkening of a grey page), the two merge into one larger blob, and a circle
fitted to that blob's outline is pulled towards the shadow by that offset:
some 3 to 9 screen pixels on a tap. The same stylus raised (the second view
a find takes) casts the same shadow in the same direction, but a dozen times
farther off, where it stands clear of the tip: the pixels darker than the
picture without the stylus, outside the tip and its shaft, give its
direction, and the tip's outline is then fitted on the side away from it.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Grey levels (of 255) a smoothed pixel must be darker than the reference to count as shadow, at least (more when
#: the frame is noisy: three times the window's own spread).
MIN_DARKER = 4.0
#: The shadow is looked for within this many tip radii of the tip, and outside this many (the tip, its rim).
REACH_RADII = 6.0
CLEAR_RADII = 1.3
#: The fewest shadow pixels, as a share of the tip's disc (a smaller patch: noise, or the shadow hidden).
MIN_AREA_SHARE = 0.3


def shadow_direction(view: np.ndarray, reference: np.ndarray, tip: tuple[float, float], radius: float,
                     shaft: tuple[np.ndarray, np.ndarray, float] | None = None) -> np.ndarray | None:
    """The unit vector (camera pixels) from ``tip`` towards the stylus's shadow in ``view`` (grey, float32,
    smoothed, as ``reference``: the same picture with the stylus parked away); ``radius``: the tip's in pixels;
    ``shaft``: (a point on its line, its unit direction towards the tip, its width), left out of the search.
    None when no shadow stands clear of the stylus (the light straight above, or the shadow under the shaft)."""
    h, w = view.shape
    reach = REACH_RADII * radius
    x0, y0 = max(0, int(tip[0] - reach)), max(0, int(tip[1] - reach))
    x1, y1 = min(w, int(tip[0] + reach) + 1), min(h, int(tip[1] + reach) + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    darker = reference[y0:y1, x0:x1] - view[y0:y1, x0:x1]
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xs - tip[0], ys - tip[1]
    dist = np.hypot(dx, dy)
    keep = (dist > CLEAR_RADII * radius) & (dist <= reach)
    if shaft is not None:
        origin, direction, width = shaft
        along = (xs - origin[0]) * direction[0] + (ys - origin[1]) * direction[1]
        across = np.abs(-(xs - origin[0]) * direction[1] + (ys - origin[1]) * direction[0])
        tip_along = (tip[0] - origin[0]) * direction[0] + (tip[1] - origin[1]) * direction[1]
        keep &= ~((across <= 0.75 * width + 3.0) & (along <= tip_along))
    values = darker[keep]
    if values.size < 20:
        return None
    spread = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    level = max(MIN_DARKER, 3.0 * spread)
    mask = ((darker > level) & keep).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[best, cv2.CC_STAT_AREA] < MIN_AREA_SHARE * np.pi * radius * radius:
        return None
    sel = labels == best
    weight = darker[sel] - level
    v = np.array([float((dx[sel] * weight).sum()), float((dy[sel] * weight).sum())]) / float(weight.sum())
    norm = float(np.hypot(*v))
    return v / norm if norm >= 0.5 * radius else None
