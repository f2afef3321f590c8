"""The stylus tip's centre to a fraction of a pixel: the round tip's outline fitted with a circle.

The tip finders (``tip``, ``stylus_axis``) place the tip to a pixel or
three: a run of its colour along the shaft ends where that colour ends, and
a shadow or a highlight on the tip moves those ends. A camera pixel is
about three screen pixels, so that is most of a tap's error. The tip itself
is round, seen from above: a disc of one colour. Rays from the rough centre
find, each to a fraction of a pixel, the outermost place where the tip's
colour gives way to something clearly different (the screen, the shadow,
the shaft), at the middle of that step, as blur leaves a step's middle where
the edge is. A circle through those points, fitted robustly (a ray that
passed through a highlight, or left the tip where it hardly differs from
the screen, is left out), has the tip's centre as its own; the fit must
agree with most rays around a good part of the outline, or the rough centre
stands. Where the shadow is as dark as the tip (a dark page) the outermost
step on its side is the shadow's rim, so when the caller knows which way the
shadow falls, that side's rays are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Rays cast from the rough centre, and samples per pixel along each.
RAYS = 96
PER_PX = 4
#: A sample is of the tip's colour within this many grey levels (at least; more when the frame is noisy).
MIN_TOLERANCE = 6.0
#: A ray's edge point counts when it lies within this many pixels of the circle (RANSAC's threshold).
ON_CIRCLE_PX = 0.8
#: Circles tried (through three rays' edges each).
RANSAC_TRIES = 150
#: The fit must hold on this share of the rays, spread over this much of the circle (radians).
MIN_SHARE = 0.35
MIN_SPAN = 2.2
#: With the shadow's direction known (``tip_shadow``), only the rays turned more than this from it are used
#: (radians: the 157 degrees of the outline facing away, where the tip meets the page, not its shadow); the fit
#: must hold on this share of them, spread over this much of the circle.
AWAY_ANGLE = 1.77
AWAY_SHARE = 0.4
AWAY_SPAN = 1.6


@dataclass(frozen=True)
class Disc:
    """The tip's outline fitted: its centre and radius (camera pixels), the share of the rays that agree with it
    and how far (RMS, pixels) their edges lie from it."""

    x: float
    y: float
    radius: float
    share: float
    rms: float


def _circle(points: np.ndarray) -> tuple[float, float, float] | None:
    """The least-squares circle (Kasa's algebraic fit) through ``points`` (N x 2), or None when degenerate."""
    a = np.column_stack([points, np.ones(len(points))])
    b = -(points ** 2).sum(axis=1)
    try:
        (d, e, f), *_ = np.linalg.lstsq(a, b, rcond=None)
    except np.linalg.LinAlgError:
        return None
    cx, cy = -d / 2, -e / 2
    r2 = cx * cx + cy * cy - f
    return (float(cx), float(cy), float(np.sqrt(r2))) if r2 > 0 else None


def _edges(gray: np.ndarray, centre: tuple[float, float], reach: float, colour: float,
           tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Per ray, the outermost edge (x, y) where the tip's ``colour`` gives way to a clearly different one, within
    ``reach`` pixels of ``centre``; and the rays' angles where one was found."""
    angles = np.linspace(0, 2 * np.pi, RAYS, endpoint=False)
    rs = np.arange(0, reach + 6, 1.0 / PER_PX)
    xs = (centre[0] + np.cos(angles)[:, None] * rs[None, :]).astype(np.float32)
    ys = (centre[1] + np.sin(angles)[:, None] * rs[None, :]).astype(np.float32)
    prof = cv2.remap(gray, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = np.abs(prof - colour) <= tolerance
    points, kept = [], []
    step = PER_PX  # one pixel in samples
    last = int(reach * PER_PX)
    for k in range(RAYS):
        p, ins = prof[k], inside[k]
        # candidates: a pixel of the tip's colour followed by 2 px that are not
        leave = ins[:-1] & ~ins[1:]
        for i in np.nonzero(leave)[0][::-1]:
            if i > last or i + 4 * step >= len(p):
                continue
            if ins[i + 1: i + 1 + 2 * step].any() or not ins[max(0, i - step): i + 1].all():
                continue
            outer = float(np.median(p[i + 2 * step: i + 4 * step]))
            if abs(outer - colour) < 2 * tolerance:
                continue
            level = (outer + colour) / 2
            seg = p[max(0, i - 2 * step): i + 3 * step] - level
            cross = np.nonzero(np.signbit(seg[:-1]) != np.signbit(seg[1:]))[0]
            if len(cross) == 0:
                continue
            j = int(cross[0])
            t = max(0, i - 2 * step) + j + float(seg[j] / (seg[j] - seg[j + 1]))
            r = t / PER_PX
            points.append((centre[0] + np.cos(angles[k]) * r, centre[1] + np.sin(angles[k]) * r))
            kept.append(angles[k])
            break
    return np.asarray(points, np.float64).reshape(-1, 2), np.asarray(kept)


def _colour(gray: np.ndarray, centre: tuple[float, float], radius: float) -> float:
    """The commonest grey within ``radius`` of ``centre`` (the tip's own; a highlight is a smaller share)."""
    h, w = gray.shape
    x0, x1 = max(0, int(centre[0] - radius)), min(w, int(centre[0] + radius) + 1)
    y0, y1 = max(0, int(centre[1] - radius)), min(h, int(centre[1] + radius) + 1)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    values = gray[y0:y1, x0:x1][(xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= radius * radius]
    if len(values) == 0:
        return float("nan")
    bins = np.round(values / 8.0)
    mode = np.bincount(bins.astype(int)).argmax()
    return float(np.median(values[np.abs(bins - mode) <= 1]))


def _ransac(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The indices of the points on the circle most of them agree on: 150 circles, each through three points
    drawn at random, worked out together (circumcircles), the one most points lie on kept."""
    picks = rng.random((RANSAC_TRIES, len(points))).argsort(axis=1)[:, :3]
    a, b, c = points[picks[:, 0]], points[picks[:, 1]], points[picks[:, 2]]
    d = 2 * (a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1]))
    ok = np.abs(d) > 1e-9
    if not ok.any():
        return np.zeros(len(points), bool)
    a, b, c, d = a[ok], b[ok], c[ok], d[ok]
    sa, sb, sc = (a ** 2).sum(axis=1), (b ** 2).sum(axis=1), (c ** 2).sum(axis=1)
    ux = (sa * (b[:, 1] - c[:, 1]) + sb * (c[:, 1] - a[:, 1]) + sc * (a[:, 1] - b[:, 1])) / d
    uy = (sa * (c[:, 0] - b[:, 0]) + sb * (a[:, 0] - c[:, 0]) + sc * (b[:, 0] - a[:, 0])) / d
    r = np.hypot(a[:, 0] - ux, a[:, 1] - uy)
    dist = np.hypot(points[None, :, 0] - ux[:, None], points[None, :, 1] - uy[:, None]) - r[:, None]
    on = np.abs(dist) <= ON_CIRCLE_PX
    return on[int(np.argmax(on.sum(axis=1)))]


def refine(gray: np.ndarray, rough: tuple[float, float], size: float, noise: float = 2.0,
           shadow: np.ndarray | None = None) -> Disc | None:
    """The tip's centre in ``gray`` (float32, smoothed) near ``rough``, from its round outline; ``size``: roughly
    the tip's radius in pixels (its outline is looked for out to twice that); None when the outline is not seen
    well enough (then ``rough`` stands). ``shadow``: the unit vector (camera px) towards the tip's shadow, when
    known: the outline on that side may be the shadow's (as dark as the tip on a dark page), so the circle is
    fitted on the other side, then on all of the outline that lies on it."""
    rng = np.random.default_rng(0)  # the same frame always gives the same answer
    tolerance = max(MIN_TOLERANCE, 3.0 * noise)
    need, span = MIN_SHARE * RAYS, MIN_SPAN
    if shadow is not None:
        need, span = AWAY_SHARE * RAYS * (np.pi - AWAY_ANGLE) / np.pi, AWAY_SPAN
    centre = rough
    radius = size
    disc = None
    for _ in range(3):
        colour = _colour(gray, centre, max(2.0, 0.3 * radius))
        if not np.isfinite(colour):
            return None
        every, angles = _edges(gray, centre, 1.6 * radius, colour, tolerance)
        points = every
        if shadow is not None:
            away = np.cos(angles) * shadow[0] + np.sin(angles) * shadow[1] < np.cos(AWAY_ANGLE)
            points, angles = every[away], angles[away]
        if len(points) < need:
            return None
        on = _ransac(points, rng)
        fit = _circle(points[on]) if on.sum() >= 3 else None
        if fit is None or on.sum() < need or _span(angles[on]) < span:
            return None
        if shadow is not None:  # the shadow's side where it lies on the tip's circle: the tip's outline too
            points = every
            on = np.abs(np.hypot(every[:, 0] - fit[0], every[:, 1] - fit[1]) - fit[2]) <= ON_CIRCLE_PX
            fit = _circle(every[on]) or fit
        moved = np.hypot(fit[0] - centre[0], fit[1] - centre[1])
        if fit[2] > 3 * size or moved > max(size, 3.0) + radius:
            return None
        centre, radius = (fit[0], fit[1]), fit[2]
        off = np.hypot(points[on, 0] - fit[0], points[on, 1] - fit[1]) - fit[2]
        disc = Disc(fit[0], fit[1], fit[2], float(on.sum()) / RAYS, float(np.sqrt(np.mean(off ** 2))))
        if moved < 0.05:
            break
    return disc


def _span(angles: np.ndarray) -> float:
    """How much of the circle (radians) the angles cover: the full turn less the widest gap between them."""
    if len(angles) < 2:
        return 0.0
    a = np.sort(angles)
    gaps = np.diff(np.concatenate([a, a[:1] + 2 * np.pi]))
    return float(2 * np.pi - gaps.max())
