"""Did the screen change? Two screenshots of a camera-watched phone compared, blind to noise and compression.

Calibration knows a touch registered only by its effect: the page the phone
shows changes. Camera screenshots never repeat exactly (sensor noise, JPEG,
flicker), so both are shrunk and smoothed, and the screen counts as changed
when a share of it changed by much more than noise does; the stylus must
stand in the same place in both (the caller sees to that).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Grey levels a smoothed pixel must move to count (noise after smoothing moves a few).
PIXEL_CHANGE = 30
#: Share of the screen that must change for a new page, and the most that may for "the same page".
CHANGED_SHARE = 0.010
SAME_SHARE = 0.005


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
