"""A camera frame's screen, seen square-on at the profile's size, with light and glare evened out.

The homography maps camera pixels to screen pixels (calibration uses it to
place the stylus tip on the screen). After the warp, what the camera adds
to the panel's own light is smooth: a brighter side of the room, a glare
spot on the glass. For a dark page (mostly black) that light is added: it
is measured as a smooth floor (an opening over a window wider than text, then blurred)
and taken away. For a light page the panel is mostly white and the camera's
uneven exposure scales it: it is measured as a smooth ceiling and divided
out. Either way the levels are then stretched to the full range, so a dark
and a light theme come out as readable as a screenshot.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The page's side margins, as a share of its width (Windows Phone keeps 24 of 480 view pixels free).
MARGIN = 0.03
#: The light field is measured on the screen shrunk to this many pixels across.
FIELD_WIDTH = 192
#: The window of the floor/ceiling, as a share of the screen's width (wider than a line of text).
FIELD_WINDOW = 0.15


def homography(corners: np.ndarray, width: int, height: int) -> np.ndarray:
    """The 3x3 map from camera pixels to screen pixels, from the screen's corners (TL, TR, BR, BL)."""
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    return cv2.getPerspectiveTransform(np.asarray(corners, np.float32).reshape(4, 2), dst)


def to_screen(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Camera pixels (N x 2) to screen pixels through the homography ``h``."""
    pts = np.asarray(points, np.float64).reshape(1, -1, 2)
    return cv2.perspectiveTransform(pts, h).reshape(-1, 2)


#: The outermost share of the screen's width that is filled from just inside it: the corners are found to a
#: pixel or two, and the camera's blur mixes the bezel into the screen's edge.
EDGE = 0.006


def rectify(image: np.ndarray, h: np.ndarray, width: int, height: int) -> np.ndarray:
    """The screen of ``image`` at ``width`` x ``height`` through the homography ``h`` (its outermost
    pixels repeated from just inside, so no dark line of bezel frames it)."""
    out = cv2.warpPerspective(image, h, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _edged(out)


def rectify_mapped(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """As ``rectify``, through maps (``cv2.remap``'s: each screen pixel's camera pixel; a lens undistorted)."""
    return _edged(cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))


def _edged(out: np.ndarray) -> np.ndarray:
    height, width = out.shape[:2]
    m = max(2, round(EDGE * width))
    if width > 4 * m and height > 4 * m:
        out[:m] = out[m]
        out[-m:] = out[-m - 1]
        out[:, :m] = out[:, m:m + 1]
        out[:, -m:] = out[:, -m - 1:-m]
    return out


def _field(gray: np.ndarray, dark: bool) -> np.ndarray:
    """The smooth light field at full size: a floor (dark page) or a ceiling (light page)."""
    h, w = gray.shape
    k = FIELD_WIDTH / w
    small = cv2.resize(gray, (FIELD_WIDTH, max(2, round(h * k))), interpolation=cv2.INTER_AREA)
    size = max(3, int(FIELD_WIDTH * FIELD_WINDOW) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    # an opening (closing) follows a glare spot larger than a line of text but not the text itself
    field = cv2.morphologyEx(small, cv2.MORPH_OPEN if dark else cv2.MORPH_CLOSE, kernel)
    field = cv2.GaussianBlur(field.astype(np.float32), (0, 0), size / 3)
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def normalise(image: np.ndarray) -> np.ndarray:
    """``image`` (RGB or BGR, uint8) with the camera's uneven light and glare evened out and levels stretched."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # the page's background shows in its side margins (pages keep them free): dark or light theme
    h, w = gray.shape
    m = max(2, int(w * MARGIN))
    margins = np.concatenate([gray[h // 8:-h // 8, :m].ravel(), gray[h // 8:-h // 8, -m:].ravel()])
    dark = float(np.median(margins)) < 110
    field = _field(gray, dark)[:, :, None]
    img = image.astype(np.float32)
    if dark:
        out = img - field
    else:
        out = img * (255.0 / np.maximum(field, 16.0))
    lo, hi = np.percentile(out[::4, ::4], (0.5, 99.5))
    if hi - lo < 1:
        return np.clip(out, 0, 255).astype(np.uint8)
    out = (out - lo) * (255.0 / (hi - lo))
    return np.clip(out, 0, 255).astype(np.uint8)
