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
#: A band over the top of one colour unlike the background by this many grey levels (but not COVER_CONTRAST) is a
#: cover too: a volume overlay of grey 20 over a black page. Its colour must hold row after row and end in a step.
FAINT_CONTRAST = 8
#: View pixels of rows not mostly of the band's colour (its own lines of text) a band may hold in a row.
FAINT_GAP_VIEW = 12
#: Grey levels its rows' colour may differ by from one another (noise, JPEG); glare drifts by more over a band's height.
FAINT_HOLD = 2
#: Share of a row below the band that may still be of its colour (the page's own pixels that happen to match).
FAINT_BELOW = 0.1
#: Grey levels the side margins' brightness may spread over the frame's height before it counts as uneven light.
LIGHT_SPREAD = 3
#: View pixels of each side margin whose brightness, row by row, is the light's there (pages keep 24 free).
MARGIN_VIEW = 16
#: View pixels each way over which a change of the margin's brightness by more than COVER_CONTRAST is a step (a
#: cover's edge, blurred by a camera), not the light.
STEP_VIEW = 8


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


def _band_rows(gray: np.ndarray, band: Band, working_scale: float, lit: float | np.ndarray
               ) -> tuple[int, int, int] | None:
    """Rows [r0, r1) of ``band`` on a working-level frame and its grey level, when it is there: its own colour
    (unlike the page background as the light falls there, ``lit``) edge to edge over its height, and not beyond (the
    row past it is not the band)."""
    h = gray.shape[0]
    want = round(band.height * working_scale)
    slack = max(2, round(BAND_SLACK_VIEW * working_scale))
    if want < 2 * slack or want + slack + 1 >= h:
        return None
    rows = gray[h - want:] if band.edge == "bottom" else gray[:want]
    colour = int(np.median(rows))
    # on a camera's frame of a dark page the bar is lit otherwise than the frame as a whole (glare lifted the black
    # elsewhere: its median 22, the page next to the bar 3, the bar 35): it is told from the background next to it
    if isinstance(lit, np.ndarray):
        lit = float(np.median(lit[h - want:] if band.edge == "bottom" else lit[:want]))
    if abs(colour - lit) <= COVER_CONTRAST:
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


def _faint_top(gray: np.ndarray, working_scale: float, background: float) -> int:
    """Rows of a band over the top whose colour is close to the page background (FAINT_CONTRAST up to
    COVER_CONTRAST away), 0 when there is none: rows of its one colour edge to edge (its text lines between them),
    at least COVER_MIN_AREA of the frame, ending in a step to another colour (not a gradient, as glare on a
    camera's frame: each row there is a level or two from the last)."""
    h, w = gray.shape
    colour = float(np.median(gray[:2]))
    if not FAINT_CONTRAST <= abs(colour - background) <= COVER_CONTRAST:
        return 0
    share = (np.abs(gray.astype(np.int16) - round(colour)) <= FAINT_CONTRAST // 2).mean(axis=1)
    same = share >= BAND_FILL
    if not same[0]:
        return 0
    gap, end, run = max(1, round(FAINT_GAP_VIEW * working_scale)), 0, 0
    for r in range(h):
        if same[r]:
            end, run = r + 1, 0
        elif (run := run + 1) > gap:
            break
    inside = np.median(gray[:max(1, end - 1)][same[:max(1, end - 1)]], axis=1)  # its rows' colour, edge row aside
    if float(inside.max() - inside.min()) > FAINT_HOLD:  # drifting row by row: a gradient, not a band of one colour
        return 0
    # the page below it has none of its colour (the row at its edge is a mix of both, shrunk): where glare fades
    # into the page, the page's background between its tiles keeps the glare's colour
    if end < COVER_MIN_AREA * h or end >= h - 3 or float(share[end + 1:end + 3].max()) > FAINT_BELOW:
        return 0
    return end


def _light_along(level: np.ndarray, step: int, background: float) -> np.ndarray:
    """One side margin's brightness row by row (``level``) as the light alone makes it. Light changes row by row;
    what reaches the margin over the page (a banner, a finger) starts with a step: more than COVER_CONTRAST
    within ``step`` rows each way. Of the runs of rows between steps, the page under its light is the one holding
    most rows of those whose brightness is within COVER_CONTRAST of the frame's ``background`` (of any run when
    none is): a finger along one margin over most of the frame's height is the longest run there, not the page
    (taken for it, the light across every row went from the page's white to the finger's blue, and the frame was
    all cover). Over any other run the light is carried on from the page's rows next to it."""
    h = level.shape[0]
    smooth = cv2.medianBlur(np.clip(level, 0, 255).astype(np.uint8).reshape(-1, 1), 5).ravel().astype(np.float32)
    jump = np.zeros(h, bool)
    jump[step:h - step] = np.abs(smooth[2 * step:] - smooth[:h - 2 * step]) > COVER_CONTRAST
    runs = np.cumsum(np.diff(jump.astype(np.int8), prepend=np.int8(0)) != 0)  # rows in a step, and between
    n = int(runs.max()) + 1
    sizes = np.bincount(runs[~jump], minlength=n).astype(np.float64)
    means = np.bincount(runs[~jump], smooth[~jump], minlength=n) / np.maximum(sizes, 1)
    near = (sizes > 0) & (np.abs(means - background) <= COVER_CONTRAST)
    page = ~jump & (runs == int(np.argmax(np.where(near, sizes, -1.0) if near.any() else sizes)))
    rows = np.arange(h)
    return np.interp(rows, rows[page], smooth[page]).astype(np.float32)


def _lit_background(gray: np.ndarray, edges: np.ndarray, margin: int, step: int, background: float) -> float | np.ndarray:
    """The page background at every pixel as the light falls on it: ``background`` on an evenly lit frame (a
    screenshot). A camera's frame is lit unevenly (a vignette darkens its sides and corners, glare and the
    evening-out of light leave broad bright or dark patches), so there each side margin's brightness is followed
    down the frame (``_light_along``), and across each row the light goes straight from one margin to the other."""
    h, w = gray.shape
    if background - LIGHT_SPREAD <= edges.min() and edges.max() <= background + LIGHT_SPREAD:
        return background  # the quick look: the frame's edge columns (``edges``) are all the background's
    levels = []
    for strip in (gray[:, :margin], gray[:, -margin:]):
        level = np.full(h, background, np.float32)
        off = (strip.max(axis=1) > background + LIGHT_SPREAD) | (strip.min(axis=1) < background - LIGHT_SPREAD)
        level[off] = np.median(strip[off], axis=1)  # (the other rows are the background's throughout)
        levels.append(level)
    if max(float(np.abs(level - background).max()) for level in levels) <= LIGHT_SPREAD:
        return background
    left, right = (_light_along(level, step, background) for level in levels)
    if max(float(np.abs(curve - background).max()) for curve in (left, right)) <= LIGHT_SPREAD:
        return background
    return left[:, None] + (right - left)[:, None] * np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]


def covers(gray: np.ndarray, working_scale: float, bands: tuple[Band, ...] = ()) -> np.ndarray:
    """Boolean mask (working pixels) of what lies over the page: a banner, toast or volume overlay of any
    colour, a finger or a stylus. Such a thing is a large smooth area unlike the page background that
    reaches the frame's edge; text and buttons of a page never reach the edge. Its own text is inside it.
    Inside a page's own band (``bands``: ``page_bands`` of the library) only what is unlike the band counts."""
    h, w = gray.shape
    # the page background shows along the side margins of every page (pages keep 24 view pixels free)
    side = max(1, round(5 * working_scale))
    edges = np.concatenate([gray[:, :side].ravel(), gray[:, -side:].ravel()])
    background = float(np.median(edges))
    lit = _lit_background(gray, edges, max(side, round(MARGIN_VIEW * working_scale)),
                          max(1, round(STEP_VIEW * working_scale)), background)
    if isinstance(lit, np.ndarray):
        unlike = (np.abs(gray - lit) > COVER_CONTRAST).astype(np.uint8)
    else:
        unlike = (cv2.absdiff(gray, int(background)) > COVER_CONTRAST).astype(np.uint8)
    unlike[:_faint_top(gray, working_scale, background)] = 1
    k = max(2, round(5 * working_scale / 0.625))
    inner = []  # the band's rows, and the row of the page next to it
    for band in bands:
        if (found := _band_rows(gray, band, working_scale, lit)) is not None:
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
