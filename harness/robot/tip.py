"""Where the stylus tip is in a camera frame, without knowing what the stylus looks like.

The stylus is what changed against a frame taken with it parked away from
the phone. Seen from a camera above, its shaft rises from the tip along the
image's "up" at that point, so the same stylus raised a few millimetres
slides along its own shaft. First the tip is looked for along the shaft's
line (``stylus_axis``: the shaft seen in both views, the tip the run of its
own colour that follows the shaft; its shadow falls off that line and a dark
screen under it does not hide where its colour ends); the tip's end is the
one the raise moved away from. When no shaft is seen (the stylus right under
the camera), the changed region's end opposite the slide is the tip, its
centre where the region is widest near that end. The shift between the two
views gives how many pixels one millimetre of height moves the tip, so the
point on the glass is where the tip would be at the glass's height.
Either way the place is then refined from the tip's round outline
(``tip_disc``), to a fraction of a pixel; a view whose outline was not
seen well in both frames is not ``sure`` (calibration leaves such views
out while enough others are sure). A millimetre over a dark page the tip's
shadow merges with it; the raised view shows which way the shadow falls
(``tip_shadow``), and the outline is fitted on the other side.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from harness.errors import HarnessError
from harness.robot import stylus_axis, tip_disc
from harness.robot.stylus_axis import Axis, shaft_axis, shaft_grey, shaft_stop, tip_along
from harness.robot.tip_shadow import shadow_direction

#: Grey levels (of 255) a pixel must change by to count as the stylus, above the frame's noise.
MIN_CHANGE = 28
#: Grey levels a pixel next to the stylus may change by and still be part of it (a faint tip, its rim).
FAINT_CHANGE = 8
#: Fewest changed pixels a stylus makes (smaller: noise, or the stylus out of view).
MIN_PIXELS = 12


class TipNotFound(HarnessError):
    """The stylus was not seen where it was expected (out of view, hidden by glare, the camera moved)."""


@dataclass(frozen=True)
class TipView:
    """The tip in camera pixels at the lower height (``x``, ``y``) and the raised one (``raised``), and the
    image shift per millimetre of height between them."""

    x: float
    y: float
    per_mm: tuple[float, float]
    raised: tuple[float, float] = (0.0, 0.0)
    #: Both tips were placed by their round outlines (to a fraction of a pixel), not only by the rough finder.
    sure: bool = False

    def at_height(self, dz: float) -> tuple[float, float]:
        """The tip as it would look ``dz`` mm higher (negative: lower, e.g. down to the glass)."""
        return self.x + self.per_mm[0] * dz, self.y + self.per_mm[1] * dz


def _gray(image: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return cv2.GaussianBlur(g, (5, 5), 0)


def changed(frame: np.ndarray, reference: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """The largest region that differs from ``reference`` (uint8 0/1), inside ``region`` when given: pixels that
    changed clearly, grown into the faintly changed pixels they touch (a dark tip on a dark screen)."""
    diff = cv2.absdiff(_gray(frame), _gray(reference))
    strong = (diff >= MIN_CHANGE).astype(np.uint8)
    weak = (diff >= FAINT_CHANGE).astype(np.uint8)
    if region is not None:
        strong &= region
        weak &= region
    strong = cv2.morphologyEx(strong, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    weak = cv2.morphologyEx(weak, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) | strong
    count, labels, stats, _ = cv2.connectedComponentsWithStats(strong, connectivity=8)
    if count <= 1:
        return np.zeros_like(strong)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    _, grown = cv2.connectedComponents(weak, connectivity=8)
    keep = np.unique(grown[labels == best])
    return np.isin(grown, keep[keep > 0]).astype(np.uint8)


def _pixels(mask: np.ndarray, what: str) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    if len(xs) < MIN_PIXELS:
        raise TipNotFound(f"stylus not seen {what}: {len(xs)} changed pixels (need {MIN_PIXELS}); "
                          f"is it in the camera's view and the light steady?")
    return np.column_stack([xs, ys]).astype(np.float64)


def find_tip(low: np.ndarray, high: np.ndarray, reference: np.ndarray, raised_mm: float,
             region: np.ndarray | None = None, what: str = "", expect: tuple[float, float] | None = None) -> TipView:
    """The tip in ``low`` (stylus at some height), given ``high`` (the same spot, ``raised_mm`` higher);
    ``expect``: roughly where the tip should be (camera pixels), which tells the shaft's two ends apart."""
    along = _along_shaft(low, high, reference, raised_mm, region, expect)
    if along is not None:
        return _refined(along[0], low, high, raised_mm, along[1].width, along[1], reference)
    lo = _pixels(changed(low, reference, region), f"{what} (lower view)")
    hi = _pixels(changed(high, reference, region), f"{what} (raised view)")
    values, vectors = np.linalg.eigh(np.cov(lo.T))
    axis = vectors[:, int(np.argmax(values))]
    if values.max() < 4.0 * max(values.min(), 1e-9):  # a round blob: the stylus straight under the lens, no shaft
        cx, cy = lo.mean(axis=0)
        rx, ry = hi.mean(axis=0)
        return _refined(TipView(float(cx), float(cy), (float((rx - cx) / raised_mm), float((ry - cy) / raised_mm)),
                                (float(rx), float(ry))), low, high, raised_mm, float(np.sqrt(len(lo) / np.pi)),
                        reference=reference)
    # the raise slides the stylus along its shaft; its far end may be cut off by the frame or the region, so the
    # end that moved more is the one that is all there: the tip's end, the other side of the slide's direction
    a_lo, a_hi = lo @ axis, hi @ axis
    if expect is not None:
        # the end near where a map expects the tip is the tip's: the shaft's other end is a shaft away, and
        # the raise's slide is not to be trusted when a shadow grows one end (it falls beside the tip)
        near_min = np.hypot(*(lo[int(np.argmin(a_lo))] - expect)) <= np.hypot(*(lo[int(np.argmax(a_lo))] - expect))
        up = axis if near_min else -axis
    else:
        d_min, d_max = a_hi.min() - a_lo.min(), a_hi.max() - a_lo.max()
        slide = d_min if abs(d_min) >= abs(d_max) else d_max
        if abs(slide) < 0.5:
            raise TipNotFound(f"stylus seen {what} did not move when raised {raised_mm:g} mm: is the camera's "
                              f"view of it blocked, or is it not the stylus?")
        up = axis if slide > 0 else -axis
    (x, y), (rx, ry) = _end_centre(lo, up), _end_centre(hi, up)
    per_mm = (float((rx - x) / raised_mm), float((ry - y) / raised_mm))
    width = float(np.ptp(lo @ np.array([-up[1], up[0]])))
    return _refined(TipView(x, y, per_mm, (rx, ry)), low, high, raised_mm, width / 2, reference=reference)


def _strong(frame: np.ndarray, reference: np.ndarray, region: np.ndarray | None) -> np.ndarray:
    strong = (cv2.absdiff(_gray(frame), _gray(reference)) >= MIN_CHANGE).astype(np.uint8)
    if region is not None:
        strong &= region
    return cv2.morphologyEx(strong, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def _along_shaft(low: np.ndarray, high: np.ndarray, reference: np.ndarray, raised_mm: float,
                 region: np.ndarray | None, expect: tuple[float, float] | None) -> tuple[TipView, Axis] | None:
    """The tip found along the shaft's line (``stylus_axis``), or None when no shaft is seen (the stylus under
    the lens) or no tip at its end. Of the line's two ends the tip's is the one the raise moved away from (the
    stylus rises towards the lens, so it slides away from the point under it), inside the region where the tip
    may be, and the nearer ``expect`` when both are."""
    lo_gray, hi_gray = _gray(low), _gray(high)
    axis = shaft_axis(_strong(low, reference, region) & _strong(high, reference, region))
    if axis is None:
        return None
    h, w = lo_gray.shape
    reach = float(np.hypot(h, w))
    found = []
    for sign in (1.0, -1.0):
        a = stylus_axis.flipped(axis, sign)
        grey = shaft_grey(lo_gray, a)
        lo, hi = tip_along(lo_gray, a, reach, grey), tip_along(hi_gray, a, reach, grey)
        if lo is None or hi is None:
            continue
        ix, iy = int(round(lo[0])), int(round(lo[1]))
        if not (0 <= ix < w and 0 <= iy < h) or (region is not None and not region[iy, ix]):
            continue
        slide = float((np.asarray(lo) - np.asarray(hi)) @ a.direction)  # > 0: the raised view is behind
        if slide < -0.5:  # the raise moved it towards its end: the shaft's far end (or past it), not the tip
            continue
        far = float(np.hypot(lo[0] - expect[0], lo[1] - expect[1])) if expect is not None else 0.0
        found.append((far, lo, hi, a))
    if not found:
        return None
    _, (x, y), (rx, ry), a = min(found, key=lambda f: f[0])
    per_mm = (float((rx - x) / raised_mm), float((ry - y) / raised_mm))
    return TipView(x, y, per_mm, (rx, ry)), a


def _refined(view: TipView, low: np.ndarray, high: np.ndarray, raised_mm: float, size: float,
             axis: Axis | None = None, reference: np.ndarray | None = None) -> TipView:
    """``view`` with both tips placed by their round outlines (``tip_disc``) where those are seen well; ``sure``
    when both were. The raised view's shadow stands clear of its tip: it tells which side of both outlines may
    be the shadow's (``tip_shadow``), and both are fitted again on the other side."""
    lo_gray, hi_gray = _gray(low).astype(np.float32), _gray(high).astype(np.float32)
    hi = _disc_of(hi_gray, view.raised, size, axis)
    shadow = None
    if reference is not None:
        at, r = ((hi.x, hi.y), hi.radius) if hi is not None else (view.raised, size)
        line = None if axis is None else (axis.origin, axis.direction, axis.width)
        shadow = shadow_direction(hi_gray, _gray(reference).astype(np.float32), at, r, line)
    lo = _disc_of(lo_gray, (view.x, view.y), size, axis, shadow) if shadow is not None else None
    lo = lo or _disc_of(lo_gray, (view.x, view.y), size, axis)
    if shadow is not None:
        hi = _disc_of(hi_gray, view.raised, size, axis, shadow) or hi
    x, y = (lo.x, lo.y) if lo else (view.x, view.y)
    rx, ry = (hi.x, hi.y) if hi else view.raised
    # the same tip 12 mm apart in height looks about as large: a disc of another size is something else
    sure = lo is not None and hi is not None and 0.8 <= lo.radius / hi.radius <= 1.25
    return TipView(float(x), float(y), (float((rx - x) / raised_mm), float((ry - y) / raised_mm)),
                   (float(rx), float(ry)), sure=sure)


def _disc_of(gray: np.ndarray, rough: tuple[float, float], size: float, axis: Axis | None,
             shadow: np.ndarray | None = None) -> tip_disc.Disc | None:
    """The tip's outline near ``rough``; with the shaft's ``axis``, the outline must sit on the shaft's line with
    the shaft ending at its edge (a shadow's disc beside it does not), and it is also looked for a radius past
    where the shaft's colour stops (the rough place may be a shadow, or a highlight inside the shaft)."""
    if axis is None:
        return tip_disc.refine(gray, rough, size, shadow=shadow)
    grey = shaft_grey(gray, axis)
    stop = shaft_stop(gray, axis, 6 * size, grey)
    if stop is None:
        return None
    starts = [rough, tuple(axis.origin + (stop + 0.8 * size) * axis.direction)]
    best = None
    for start in starts:
        disc = tip_disc.refine(gray, (float(start[0]), float(start[1])), size, shadow=shadow)
        if disc is None:
            continue
        rel = np.array([disc.x, disc.y]) - axis.origin
        along = float(rel @ axis.direction)
        lateral = abs(float(rel @ np.array([-axis.direction[1], axis.direction[0]])))
        if lateral > max(2.0, 0.25 * disc.radius) or not 0.6 * disc.radius <= along - stop <= 1.3 * disc.radius:
            continue
        if best is None or disc.share > best.share:
            best = disc
    return best


def _end_centre(points: np.ndarray, up: np.ndarray) -> tuple[float, float]:
    """The centre of the round tip at the end of ``points`` opposite ``up``: where the region is widest near
    that end (a disc is widest a radius in; a shaft with a round end, its width's half in)."""
    across = np.array([-up[1], up[0]])
    along = points @ up
    side = points @ across
    start = along.min()
    widths = []
    for t in range(int(np.ceil(along.max() - start)) + 1):
        sel = side[(along >= start + t - 0.5) & (along < start + t + 0.5)]
        widths.append((sel.max() - sel.min() + 1.0) if len(sel) else 0.0)
    widths_a = np.asarray(widths)
    reach = max(2, min(len(widths_a), int(np.ceil(widths_a[: max(3, len(widths_a) // 2)].max())) + 1))
    head = widths_a[:reach]
    wide = np.nonzero(head >= 0.95 * head.max())[0]
    c = start + (wide[0] + wide[-1]) / 2.0
    near = np.abs(along - c) <= 1.0
    sides = side[near] if near.any() else side
    s = float((sides.min() + sides.max()) / 2)
    x, y = up * c + across * s
    return float(x), float(y)
