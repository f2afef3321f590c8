"""Did the screen change? Two screenshots of a camera-watched phone compared, blind to noise and compression.

Calibration knows a touch registered only by its effect: the page the phone
shows changes. Camera screenshots never repeat exactly (sensor noise, JPEG,
flicker), so both are shrunk and smoothed, and the screen counts as changed
when a share of it changed by much more than noise does; the stylus must
stand in the same place in both (the caller sees to that).

A glance is the rectified screen at a size set by the page's own unit, not
the phone's pixels: Windows Phone lays every page out 480 view pixels wide,
``profile.scale`` screen pixels each, so a line of text is as many glance
pixels on a 480x800 Lumia 520 as on a 1080x1920 Lumia 930. A glance at a
quarter of the phone's pixels was 120 px wide on a 520, where welcome and
terms (two pages of text) differed by nothing once shrunk, and calibration
never saw its touches.
"""

from __future__ import annotations

import cv2
import numpy as np

from harness.camera.rectify import normalise, rectify
from harness.profiles import Profile

#: Grey levels a smoothed pixel must move to count (noise after smoothing moves a few).
PIXEL_CHANGE = 30
#: Share of the screen that must change for a new page, and the most that may for "the same page".
CHANGED_SHARE = 0.010
SAME_SHARE = 0.005
#: Glance pixels per view pixel (a quarter of lumia-930's 1080 over its 480 view pixels: 270 px wide on every phone).
GLANCE_PER_VIEW_PX = 0.5625


def glance_size(profile: Profile) -> tuple[int, int]:
    """(width, height) of a glance at ``profile``'s screen: the same number of pixels per view pixel on every
    phone, so that what tells one page from another survives on a small screen as on a large one."""
    k = GLANCE_PER_VIEW_PX / float(profile.scale)
    return max(8, round(profile.width * k)), max(8, round(profile.height * k))


def glance(frame: np.ndarray, homography: np.ndarray, profile: Profile) -> np.ndarray:
    """The screen in camera ``frame`` (``homography``: camera to ``profile``'s screen pixels) rectified at
    ``glance_size`` and its light evened out: what ``looks_changed`` compares, at a fraction of a screenshot's cost."""
    w, h = glance_size(profile)
    scale = np.diag([w / profile.width, h / profile.height, 1.0])
    return normalise(rectify(frame, scale @ homography, w, h))


def _small(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    h, w = gray.shape
    small = cv2.resize(gray, (max(8, w // 8), max(8, h // 8)), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (3, 3), 0)


def changed_share(before: np.ndarray, after: np.ndarray) -> float:
    """The share of the screen (0..1) that differs between the two screenshots beyond noise."""
    a, b = _small(before), _small(after)
    if a.shape != b.shape:
        return 1.0
    return float(np.mean(cv2.absdiff(a, b) >= PIXEL_CHANGE))


def looks_changed(before: np.ndarray, after: np.ndarray) -> bool | None:
    """True: another page; False: the same page; None: in between (a page still animating, say)."""
    share = changed_share(before, after)
    if share >= CHANGED_SHARE:
        return True
    if share <= SAME_SHARE:
        return False
    return None
