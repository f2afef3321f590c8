"""What lies over the page (a banner, toast or volume overlay of any colour, a finger, a stylus), told from what the
page draws itself (an application bar along the bottom edge).

A cover is a large smooth area unlike the page background that reaches the
frame's edge; text and buttons of a page never reach the edge. One kind of
page part does: Windows Phone's application bar (Outlook's inbox, People,
Calendar) is a band of its own grey across the bottom with round buttons in
it. It is as smooth and as unlike the background as a cover, but it is the
page, and its buttons identify the page when a banner hides the title.

The library says which bands are the page's own: the same detection run on
every recorded page (``page_bands``) finds the bands a page draws, edge to
edge (their height in view pixels). On a frame, a band of that height along
that edge, of one colour edge to edge and ending there (a taller one, as the
on-screen keyboard, is not it), is the page's: inside it only what is unlike
the band's own colour counts (a finger over the bar stays a cover). A
library without such pages gives no bands, and every cover counts as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import cv2
import numpy as np

#: Grey levels from the page background beyond which a smooth area is something laid over the page.
COVER_CONTRAST = 24
#: A cover is at least this share of the frame and touches its edge (a banner, a finger, an overlay).
COVER_MIN_AREA = 0.01
#: Share of a band's rows in its own colour for it to be there (the bar's buttons and "..." are the rest), and share
#: below which the row above it is no longer the band (it ends there).
BAND_FILL, BAND_END = 0.6, 0.4
#: View pixels a band's height on a frame may differ from the library's (rounding, a frame shifted 6 pixels), and
#: rows at the very edge that may be of another colour (a panel's last row, the edge of a shifted frame).
BAND_SLACK_VIEW = 10


@dataclass(frozen=True)
class Band:
    """A band the page draws itself across the frame along ``edge`` ("top" or "bottom"), ``height`` view pixels."""

    edge: str
    height: float


def page_bands(layouts: Iterable[tuple[np.ndarray, float]]) -> tuple[Band, ...]:
    """The bands recorded pages draw edge to edge, from their layout pictures (grey, ``scale`` pixels per view
    pixel): what ``covers`` finds on a clean page that spans the width and touches the top or bottom edge."""
    found: set[Band] = set()
    for picture, scale in layouts:
        h, w = picture.shape
        mask = covers(picture, scale)
        if not mask.any():
            continue
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=4)
        for x, y, bw, bh, _ in stats[1:count]:
            if x > 0 or x + bw < w:
                continue  # not across the page: a page part never is one of those
            if y + bh == h:
                found.add(Band("bottom", round((bh - 1) / scale)))  # (the mask grows a shape by one pixel)
            elif y == 0:
                found.add(Band("top", round((bh - 1) / scale)))
    return tuple(sorted(found, key=lambda b: (b.edge, b.height)))


def _band_rows(gray: np.ndarray, band: Band, working_scale: float, background: float) -> tuple[int, int, int] | None:
    """Rows [r0, r1) of ``band`` on a working-level frame and its grey level, when it is there: its own colour
    (unlike the background) edge to edge over its height, and not beyond (the row past it is not the band)."""
    h = gray.shape[0]
    want = round(band.height * working_scale)
    slack = max(2, round(BAND_SLACK_VIEW * working_scale))
    if want < 2 * slack or want + slack + 1 >= h:
        return None
    rows = gray[h - want:] if band.edge == "bottom" else gray[:want]
    colour = int(np.median(rows))
    if abs(colour - background) <= COVER_CONTRAST:
        return None
    same = (cv2.absdiff(gray, colour) <= COVER_CONTRAST).mean(axis=1)  # share of each row in the band's colour
    order = np.arange(h - 1, -1, -1) if band.edge == "bottom" else np.arange(h)
    inside = same[order] >= BAND_FILL
    start = int(np.argmax(inside[:slack + 1]))  # the band's first row from the edge (the edge row may differ)
    if not inside[start]:
        return None
    run = start + (int(np.argmin(inside[start:])) if not inside[start:].all() else h - start)
    # its buttons take a few rows below the fill; the band ends where rows stop being mostly its colour
    end = run
    while end < h and same[order[end]] >= BAND_END:
        end += 1
    if abs(end - want) > slack or run - start < want // 2:
        return None
    return (h - end, h, colour) if band.edge == "bottom" else (0, end, colour)


def covers(gray: np.ndarray, working_scale: float, bands: tuple[Band, ...] = ()) -> np.ndarray:
    """Boolean mask (working pixels) of what lies over the page: a banner, toast or volume overlay of any
    colour, a finger or a stylus. Such a thing is a large smooth area unlike the page background that
    reaches the frame's edge; text and buttons of a page never reach the edge. Its own text is inside it.
    Inside a page's own band (``bands``: ``page_bands`` of the library) only what is unlike the band counts."""
    h, w = gray.shape
    # the page background shows along the side margins of every page (pages keep 24 view pixels free)
    side = max(1, round(5 * working_scale))
    background = float(np.median(np.concatenate([gray[:, :side].ravel(), gray[:, -side:].ravel()])))
    unlike = (cv2.absdiff(gray, int(background)) > COVER_CONTRAST).astype(np.uint8)
    k = max(2, round(5 * working_scale / 0.625))
    inner = []  # the band's rows, and the row of the page next to it
    for band in bands:
        if (found := _band_rows(gray, band, working_scale, background)) is not None:
            r0, r1, colour = found
            unlike[r0:r1] = cv2.absdiff(gray[r0:r1], colour) > COVER_CONTRAST
            inner.append((r0, r1, r0 - 1 if r0 > 0 else r1))
    # text and rules are thin: opening removes them (also where a finger touches them); closing then fills
    # the holes a banner's own text leaves
    unlike = cv2.morphologyEx(unlike, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    for r0, r1, next_to in inner:
        # what lies over the page up to its band goes on over the band to the edge (a finger of the band's own
        # grey over its buttons is not told from the band by colour)
        unlike[r0:r1, unlike[next_to] > 0] = 1
    # a cover reaches the frame's edge; closing grows a shape by less than k: nothing that near it, no cover
    if not (unlike[:k].any() or unlike[-k:].any() or unlike[:, :k].any() or unlike[:, -k:].any()):
        return np.zeros((h, w), bool)
    unlike = cv2.morphologyEx(unlike, cv2.MORPH_CLOSE, np.ones((k, 2 * k - 1), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(unlike, connectivity=4)
    mask = np.zeros((h, w), bool)
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        if area < COVER_MIN_AREA * h * w:
            continue
        if not (x == 0 or y == 0 or x + bw == w or y + bh == h):
            continue
        if area < 0.5 * bw * bh and not (bw >= w - 1):  # a ring or frame of thin lines is page, not a cover
            continue
        mask[max(0, y - 1):y + bh + 1, max(0, x - 1):x + bw + 1] = True
    return mask
