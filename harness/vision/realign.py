"""A covered page framed a few pixels off: found where it lies, and looked at again where it was recorded.

A banner or a volume overlay over the top hides a page's title and header, the
anchors a screen is recorded by, and what is left to tell it is the page below
the cover: its layout, compared cell by cell (16 view pixels a side) where it
was recorded. A frame moved by a few pixels (a camera framing the screen off
centre, a phone drawing its page lower) moves every text line into the next
cells, and a page that fits at 0.99 where it was recorded fits at 0.88-0.94
moved by 6 pixels: below what a layout alone must reach (LAYOUT_ALONE), so the
frame is unknown although the page is in full view. Anchors are searched
around their place and do not mind; the layout does.

So a frame left unknown with a cover over it is looked at once more: the ink of
the pages that fit it best is aligned with the frame's ink below the cover
(sub-pixel, within REACH_VIEW), and when one aligns well (ALIGNED) some pixels
away from where it was recorded, the frame is moved back by that much and
recognised again, by every rule as before. Nothing is taken on the alignment
itself: it only says where to look.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from harness.vision.definitions import LAYOUT_SCALE
from harness.vision.features import Frame, crop_ink

if TYPE_CHECKING:
    from harness.vision.compiled import Compiled

#: pages whose layout fits the frame best, of which the one aligning best says where the page lies
CANDIDATES = 3
#: view pixels searched each way around the recorded place (a frame moved by 6 device pixels on a 480-wide one)
REACH_VIEW = 8
#: correlation of a page's ink with the frame's below the cover for its place to count
ALIGNED = 0.5
#: working pixels the page must lie off its recorded place to be worth a second look
MOVED = 0.25
#: share of the height (from the top) the page keeps to the top edge (as the layout's LAYOUT_SPLIT): aligned there
TOP_PART = 0.55


def _sub(a: float, b: float, c: float) -> float:
    """The peak's offset from the middle of three samples (a parabola through them)."""
    den = a - 2 * b + c
    return 0.0 if abs(den) < 1e-9 else float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))


def page_offset(frame: Frame, lib: "Compiled", layout: np.ndarray,
                inks: dict[tuple[str, float], np.ndarray]) -> tuple[float, float] | None:
    """Where the page lies against where it was recorded (device pixels, dx, dy), aligned on the CANDIDATES pages
    whose ``layout`` score fits best (``inks`` keeps their ink at a working scale across frames); None when none
    aligns well or it lies where it was recorded."""
    ws = frame.working_scale
    m = max(2, round(REACH_VIEW * ws))
    h, w = frame.ink.shape
    rows = np.flatnonzero(frame.covered.any(axis=1))
    y0 = m
    if rows.size and rows[0] == 0:  # below a cover over the top
        gaps = np.flatnonzero(np.diff(rows) > 1)
        y0 += int(rows[gaps[0]] if gaps.size else rows[-1]) + 1
    best: tuple[float, float, float] | None = None
    order = [int(i) for i in np.argsort(-np.nan_to_num(layout, nan=-2.0))[:CANDIDATES] if np.isfinite(layout[i])]
    for i in order:
        d = lib.screens[i].definition
        key = (d.name, ws)
        if key not in inks:
            inks[key] = crop_ink(np.dstack([d.layout] * 3), LAYOUT_SCALE, ws).astype(np.float32)
        page = inks[key]
        y1 = min(round(page.shape[0] * TOP_PART), h) - m
        if y1 - y0 < 4 * m or w <= 4 * m:
            continue
        tpl = np.ascontiguousarray(page[y0:y1, m:min(w, page.shape[1]) - m])
        if float(tpl.std()) < 1e-6:
            continue
        window = np.ascontiguousarray(frame.ink[y0 - m:y1 + m, :tpl.shape[1] + 2 * m], dtype=np.float32)
        if window.shape[0] < tpl.shape[0] or window.shape[1] < tpl.shape[1]:
            continue
        r = cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)
        _, top, _, (x, y) = cv2.minMaxLoc(r)
        if top < ALIGNED or (best is not None and top <= best[0]):
            continue
        fx = x + (_sub(r[y, x - 1], r[y, x], r[y, x + 1]) if 0 < x < r.shape[1] - 1 else 0.0)
        fy = y + (_sub(r[y - 1, x], r[y, x], r[y + 1, x]) if 0 < y < r.shape[0] - 1 else 0.0)
        best = (top, fx - m, fy - m)
    if best is None or max(abs(best[1]), abs(best[2])) < MOVED:
        return None
    k = frame.scale / ws  # device pixels per working pixel
    return best[1] * k, best[2] * k


def moved_back(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved by (-dx, -dy) whole device pixels, the edge repeated into the gap."""
    m = np.float32([[1, 0, -round(dx)], [0, 1, -round(dy)]])
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
