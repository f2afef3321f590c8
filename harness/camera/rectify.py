"""A camera frame's screen, seen square-on at the profile's size, with light and glare evened out.

The homography maps camera pixels to screen pixels (calibration uses it to
place the stylus tip on the screen). After the warp, what the camera adds
to the panel's own light is smooth: a glare spot (a lamp reflected in the
glass) adds light, and the lens's vignetting dims the edges a little. For a
dark page (mostly black) the added light is measured as a smooth floor (an
opening over a window wider than text, then blurred) and taken away. For a
light page it is measured as a smooth ceiling and taken away too (the panel
shines by itself: dividing by the ceiling, as this once did, took the glare
for exposure and thinned the ink under it). The ceiling follows the page's
background, not its content: a closing over a window wider than text fills
the text, but a block larger than the window (an application bar, a
button) would pull it down and, blurred, leave a bright halo beside the
block and a dark trench inside its edge; so the ceiling is spread only from
the pixels that are as light as the page around them (glare brightens, a
block darkens, so the two are told apart by their sign). Either way the
levels are then stretched to the full range, so a dark and a light theme
come out as readable as a screenshot.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: The page's side margins, as a share of its width (Windows Phone keeps 24 of 480 view pixels free).
MARGIN = 0.03
#: The light field is measured on the screen shrunk to this many pixels across.
FIELD_WIDTH = 192
#: The window of the floor/ceiling, as a share of the screen's width (wider than a line of text).
FIELD_WINDOW = 0.15
#: The light page's ceiling: a second closing over this share of the width fills blocks larger than text (an
#: application bar 72 of 480 view px tall, a button), the first guess of the page's background under them...
BLOCK_WINDOW = 0.4
#: ... then spread (a normalised convolution over this share of the width) from the pixels no more than
#: FIELD_TOLERANCE grey levels under it, FIELD_ROUNDS times (a glare's flank the closing overshot joins again).
FIELD_SIGMA = 0.03
FIELD_TOLERANCE = 12.0
FIELD_ROUNDS = 2
#: ... each pixel's weight falling from 1 to 0 over FIELD_RAMP grey levels either side of FIELD_TOLERANCE: with a
#: step there, the camera's noise moved pixels of a large block's edge in and out from frame to frame, and the
#: ceiling over the block by 18 levels (a still page that never looked still: bench 191735, lumia-630's start).
FIELD_RAMP = 4.0


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
#: ... and at least this many camera pixels' worth: the bezel's blur reaches some 3 camera pixels into the
#: screen (bench 842483: 10 screen px at 3 screen px per camera px), and a grey stripe left there read as a
#: line of ink "|" beside the list (a dim line's neighbour, so the dim/bright split went wrong).
EDGE_CAMERA_PX = 4.0


def rectify(image: np.ndarray, h: np.ndarray, width: int, height: int) -> np.ndarray:
    """The screen of ``image`` at ``width`` x ``height`` through the homography ``h`` (its outermost
    pixels repeated from just inside, so no dark line of bezel frames it)."""
    out = cv2.warpPerspective(image, h, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    corners = to_screen(np.linalg.inv(h), np.array([[0, 0], [width, 0], [width, height], [0, height]], float))
    seen = (np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])) / 2
    return _edged(out, width / max(seen, 1.0))


def rectify_mapped(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """As ``rectify``, through maps (``cv2.remap``'s: each screen pixel's camera pixel, as two float maps or
    ``cv2.convertMaps``' fixed-point pair; a lens undistorted)."""
    row = maps[0].shape[0] // 2
    if maps[0].ndim == 3:  # CV_16SC2: whole camera pixels in the first map
        xs, ys = maps[0][row, :, 0].astype(float), maps[0][row, :, 1].astype(float)
    else:
        xs, ys = maps[0][row].astype(float), maps[1][row].astype(float)
    seen = float(np.hypot(xs[-1] - xs[0], ys[-1] - ys[0]))
    out = cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _edged(out, (len(xs) - 1) / max(seen, 1.0))


def _edged(out: np.ndarray, per_camera_px: float) -> np.ndarray:
    """``out`` with its outermost pixels (EDGE of its width, EDGE_CAMERA_PX camera pixels at least, at
    ``per_camera_px`` screen pixels per camera pixel) repeated from just inside."""
    height, width = out.shape[:2]
    m = max(2, round(EDGE * width), math.ceil(EDGE_CAMERA_PX * min(per_camera_px, 8.0)))
    if width > 4 * m and height > 4 * m:
        out[:m] = out[m]
        out[-m:] = out[-m - 1]
        out[:, :m] = out[:, m:m + 1]
        out[:, -m:] = out[:, -m - 1:-m]
    return out


def _field(gray: np.ndarray, dark: bool) -> np.ndarray:
    """The smooth light field at full size: a floor (dark page) or a ceiling (light page)."""
    h, w = gray.shape
    small = cv2.resize(gray, (FIELD_WIDTH, max(2, round(h * FIELD_WIDTH / w))), interpolation=cv2.INTER_AREA)
    size = max(3, int(FIELD_WIDTH * FIELD_WINDOW) | 1)
    # an opening (closing) follows a glare spot larger than a line of text but not the text itself
    page = cv2.morphologyEx(small, cv2.MORPH_OPEN if dark else cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))).astype(np.float32)
    field = cv2.GaussianBlur(page, (0, 0), size / 3) if dark else _ceiling(page)
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def _ceiling(page: np.ndarray) -> np.ndarray:
    """A light page's background under its blocks (``page``: the frame shrunk, its text closed): a glare spot
    lightens, a block darkens, so only what is about as light as the background around it shapes it."""
    big = max(3, int(FIELD_WIDTH * BLOCK_WINDOW) | 1)
    field = cv2.morphologyEx(page, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (big, big)))
    for _ in range(FIELD_ROUNDS):
        under = field - page
        weight = np.clip((FIELD_TOLERANCE + FIELD_RAMP - under) / (2 * FIELD_RAMP), 0.0, 1.0) + np.float32(1e-3)
        field = _spread(page, weight, FIELD_WIDTH * FIELD_SIGMA)
    return field


def _spread(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` averaged over a Gaussian of ``sigma`` by ``weight`` (a normalised convolution); where no weight
    is near (inside a large block), over one three times wider."""
    def spread(s: float) -> tuple[np.ndarray, np.ndarray]:
        den = cv2.GaussianBlur(weight, (0, 0), s)
        return cv2.GaussianBlur(values * weight, (0, 0), s) / np.maximum(den, 1e-6), den

    near, have = spread(sigma)
    far, _ = spread(3 * sigma)
    mix = np.clip(have / 0.05, 0.0, 1.0)
    return mix * near + (1 - mix) * far


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
    out = img - field if dark else img - field + 255.0  # light added is taken away (a light page's up to white)
    lo, hi = np.percentile(out[::4, ::4], (0.5, 99.5))
    if hi - lo < 1:
        return np.clip(out, 0, 255).astype(np.uint8)
    out = (out - lo) * (255.0 / (hi - lo))
    return np.clip(out, 0, 255).astype(np.uint8)
