"""The stylus's tip found along its own shaft: what tells it from its shadow and from a dark screen under it.

A vertical stylus seen from above lies on one image line whatever its height
(the projection of the vertical through it), so when it is raised its shaft
slides along itself: the pixels changed in both views (low and raised) are
mostly the shaft, whose line is then fitted robustly. A shadow falls off that
line (it moves with the light's direction, not along the shaft) and is left
out by sampling only a narrow band around the line. Along the band the
stylus is two runs of its own colours, whatever lies under it: the shaft,
then the opaque tip, which hides the shaft's end. The tip is the run that
follows the shaft towards the free end, and ends where the tip's colour ends
(the screen or a shadow, both unlike it even where they barely differ from
each other, as a dark tip over a dark screen does); its centre is the middle
of that run. The profiles are band averages, so a faint edge (a dark tip on
a dark page) stands well above the noise of single pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Grey levels a band-averaged profile must move by to leave the shaft's colour, and the tip's.
SHAFT_TOLERANCE = 20.0
TIP_TOLERANCE = 5.0
#: How many pixels in a row must differ from the tip's colour for the tip to have ended (a highlight on the
#: tip is shorter than this along the shaft's line only when small; its share is bounded below).
TIP_END_RUN = 3
#: A shaft is at least this many times as long as it is wide (shorter: the stylus seen end-on, under the lens).
MIN_ELONGATION = 2.5


@dataclass(frozen=True)
class Axis:
    """The shaft's line: a point on it, its unit direction (towards the tip, when known), its width in pixels,
    and how far along the line the part seen in both views reaches either way (``shaft_start`` behind,
    ``shaft_end`` ahead)."""

    origin: np.ndarray
    direction: np.ndarray
    width: float
    shaft_end: float
    shaft_start: float


def _edge_angles(mask: np.ndarray) -> np.ndarray:
    """A histogram (180 one-degree bins, smoothed) of the directions of ``mask``'s outline, weighted by strength."""
    soft = cv2.GaussianBlur(mask.astype(np.float32), (5, 5), 0)
    gx, gy = cv2.Sobel(soft, cv2.CV_32F, 1, 0), cv2.Sobel(soft, cv2.CV_32F, 0, 1)
    mag = np.hypot(gx, gy)
    edge = mag > 0.2 * float(mag.max()) if mag.max() > 0 else mag > 0
    angles = np.mod(np.arctan2(gy[edge], gx[edge]), np.pi)
    hist = np.bincount((angles / np.pi * 180).astype(int) % 180, weights=mag[edge], minlength=180)
    return np.convolve(np.concatenate([hist[-3:], hist, hist[:3]]), np.ones(7) / 7, mode="valid")


def _points(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.column_stack([xs, ys]).astype(np.float64)


def shaft_axis(both: np.ndarray) -> Axis | None:
    """The shaft's line from the pixels changed in both the lower and the raised view (0/1 mask), pointing either
    way (the caller tries both). None when no elongated part is seen (the stylus under the lens).

    The raise slides the shaft along itself, so the pixels changed in both views are mostly the shaft (a
    shadow moves with the light, off that line). Its direction is the commonest of their outline (a shaft's
    two long straight edges share one; a blob's outline has every direction); across it, the shaft is the
    densest band (seen whole or in pieces, where it crosses an edge of the same brightness)."""
    pts = _points(both)
    if len(pts) < 20:
        return None
    phi = (int(np.argmax(_edge_angles(both))) + 0.5) * np.pi / 180
    normal = np.array([np.cos(phi), np.sin(phi)])
    direction = np.array([-normal[1], normal[0]])
    off = pts @ normal
    first = np.floor(off.min())
    smooth = np.convolve(np.bincount((off - first).astype(int)).astype(np.float64), np.ones(5) / 5, mode="same")
    size = len(smooth)
    peak = int(np.argmax(smooth))
    level = 0.5 * smooth[peak]
    left, right = peak, peak
    while left > 0 and smooth[left - 1] >= level:
        left -= 1
    while right < size - 1 and smooth[right + 1] >= level:
        right += 1
    half = (right - left + 1) / 2.0
    centre_off = first + (left + right + 1) / 2.0
    band = pts[np.abs(off - centre_off) <= half]
    if len(band) < 20:
        return None
    origin = band.mean(axis=0)
    origin = origin - (origin @ normal - centre_off) * normal
    origin, direction = _centre_line(pts, origin, direction, half)
    along = (band - origin) @ direction
    width = 2.0 * half
    if float(np.percentile(along, 98) - np.percentile(along, 2)) < MIN_ELONGATION * width:
        return None
    return Axis(origin, direction, width, float(along.max()), float(along.min()))


def _centre_line(pts: np.ndarray, origin: np.ndarray, direction: np.ndarray,
                 half: float) -> tuple[np.ndarray, np.ndarray]:
    """The shaft's centre line, refined: the outline's commonest direction is good to a few degrees, which a
    shaft's length turns into pixels at its tip. Across slices of the band, those as wide as the shaft (not the
    tip, not a shadow beside it) give their middles, and a line through the middles is the centre line."""
    normal = np.array([-direction[1], direction[0]])
    a, p = (pts - origin) @ direction, (pts - origin) @ normal
    near = np.abs(p) <= half + 10.0
    a, p = a[near], p[near]
    slices = np.floor(a / 3.0).astype(int)
    ts, mids, widths = [], [], []
    for key in np.unique(slices):
        sel = p[slices == key]
        if len(sel) >= 3:
            ts.append(float(a[slices == key].mean()))
            mids.append(float(sel.max() + sel.min()) / 2)
            widths.append(float(sel.max() - sel.min() + 1))
    if len(ts) < 5:
        return origin, direction
    typical = float(np.median(widths))
    keep = np.abs(np.asarray(widths) - typical) <= 0.2 * typical + 1.0
    if keep.sum() < 5:
        return origin, direction
    slope, offset = np.polyfit(np.asarray(ts)[keep], np.asarray(mids)[keep], 1)
    turned = direction + slope * normal
    return origin + offset * normal, turned / np.linalg.norm(turned)


def flipped(axis: Axis, sign: float) -> Axis:
    """``axis`` pointing the other way when ``sign`` is negative (the shaft's seen end then its other one)."""
    if sign > 0:
        return axis
    return Axis(axis.origin, -axis.direction, axis.width, -axis.shaft_start, -axis.shaft_end)


def _sample(gray: np.ndarray, origin: np.ndarray, direction: np.ndarray, width: float,
            ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band-averaged grey along the line at positions ``ts`` (pixels from ``origin``), and whether each lies
    in the picture."""
    across = np.array([-direction[1], direction[0]])
    half = max(1.0, 0.3 * width)
    ss = np.linspace(-half, half, max(3, int(2 * half) + 1))
    pts = origin[None, None, :] + ts[:, None, None] * direction + ss[None, :, None] * across
    mx = pts[..., 0].astype(np.float32)
    my = pts[..., 1].astype(np.float32)
    values = cv2.remap(gray.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (mx >= 0) & (my >= 0) & (mx <= gray.shape[1] - 1) & (my <= gray.shape[0] - 1)
    kept = np.where(inside, values, 0.0)
    counts = inside.sum(axis=1)
    mean = np.divide(kept.sum(axis=1), counts, out=np.full(len(ts), np.nan), where=counts > 0)
    return mean, inside.all(axis=1)


def _median(values: np.ndarray) -> float:
    """The median of the finite values (NaN when there are none: the line left the picture)."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else float("nan")


def shaft_grey(gray: np.ndarray, axis: Axis) -> float:
    """The shaft's own grey in ``gray``: at the back of the part seen in both views (its tip-side end may be the
    tip, when the stylus stands near the point under the lens and its shaft looks short)."""
    length = axis.shaft_end - axis.shaft_start
    ts = np.arange(axis.shaft_start + 2.0, axis.shaft_start + 2.0 + max(3.0, 0.25 * length), 1.0)
    profile, _ = _sample(gray, axis.origin, axis.direction, axis.width, ts)
    return _median(profile)


def _shaft_end(gray: np.ndarray, axis: Axis, reach: float, grey: float) -> tuple[float, np.ndarray, int] | None:
    """Along ``axis`` from the back of the shaft: (where the samples start, the profile, the index where the
    shaft's colour ``grey`` is left for good, 3 pixels in a row, past its first stretch); None when there is no
    such place, or it lies outside the picture."""
    start = axis.shaft_start - axis.width
    ts = np.arange(start, axis.shaft_end + reach, 1.0)
    profile, inside = _sample(gray, axis.origin, axis.direction, axis.width, ts)
    on_shaft = np.abs(profile - grey) <= SHAFT_TOLERANCE
    s0 = _first_run(on_shaft, TIP_END_RUN)
    if s0 is None:
        return None
    b = _first_run(~on_shaft[s0:], TIP_END_RUN)
    if b is None or not inside[b + s0]:
        return None
    return start, profile, b + s0


def shaft_stop(gray: np.ndarray, axis: Axis, reach: float, grey: float) -> float | None:
    """How far along ``axis`` (pixels from its origin, sub-pixel) the shaft's colour ``grey`` first gives way
    for good (3 pixels in a row), from the back of the shaft: where the tip's outline crosses the shaft."""
    found = _shaft_end(gray, axis, reach, grey)
    if found is None:
        return None
    start, profile, b = found
    after = _median(profile[b: b + TIP_END_RUN])
    return start + _crossing(profile, b - TIP_END_RUN, b + 2, (grey + after) / 2)


def tip_along(gray: np.ndarray, axis: Axis, reach: float, grey: float) -> tuple[float, float] | None:
    """The tip's centre in ``gray`` (a view of the stylus on ``axis``, its shaft of grey ``grey``): along the
    line from the back of the shaft to where the shaft's colour ends, then the tip's run to where its colour
    ends; None when no such run is seen within ``reach`` pixels."""
    found = _shaft_end(gray, axis, reach, grey)  # the shaft's end
    if found is None:
        return None
    start, profile, b = found
    # the tip's colour: the commonest just past the shaft's end (a highlight on the tip is a smaller share)
    ahead = profile[b + 1: b + 1 + max(6, int(2 * axis.width))]
    ahead = ahead[np.isfinite(ahead)]
    if len(ahead) == 0:
        return None
    bins = np.round(ahead / (2 * TIP_TOLERANCE))
    values, counts = np.unique(bins, return_counts=True)
    mode = values[int(np.argmax(counts))] * 2 * TIP_TOLERANCE
    tip_grey = float(np.median(ahead[np.abs(ahead - mode) <= 2 * TIP_TOLERANCE]))
    off_tip = ~(np.abs(profile[b:] - tip_grey) <= TIP_TOLERANCE)
    # the tip ends where its colour is left for longer than a highlight on it can be long
    e = _first_run(off_tip, max(TIP_END_RUN, int(0.6 * axis.width)))
    if e is None or e < 2:
        return None
    # both edges at the middle of their steps (blur and anti-aliasing spread each over a few pixels)
    after = _median(profile[b + e: b + e + TIP_END_RUN])
    rise = _crossing(profile, b - TIP_END_RUN, b + 2, (grey + tip_grey) / 2)
    fall = _crossing(profile, b + e - TIP_END_RUN, b + e + 1, (tip_grey + after) / 2)
    centre = start + (rise + fall) / 2.0
    x, y = axis.origin + centre * axis.direction
    return float(x), float(y)


def _crossing(profile: np.ndarray, i0: int, i1: int, level: float) -> float:
    """Where (index, sub-pixel) ``profile`` crosses ``level`` between ``i0`` and ``i1``; the middle when it does not."""
    i0, i1 = max(0, i0), min(len(profile) - 1, i1)
    for i in range(i0, i1):
        a, b = profile[i] - level, profile[i + 1] - level
        if np.isfinite(a) and np.isfinite(b) and a * b <= 0 and a != b:
            return i + a / (a - b)
    return (i0 + i1) / 2.0


def _first_run(flags: np.ndarray, run: int) -> int | None:
    """The index where the first run of ``run`` True values in a row starts."""
    n = len(flags)
    for i in range(n - run + 1):
        if flags[i: i + run].all():
            return i
    return None
