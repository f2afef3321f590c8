"""The phone body's outline in a camera frame: four straight edges that nothing lying over them can pull.

A camera over a robot's bed sees a dark phone body on a lighter desk, and
a stylus (or a fingertip) over its outline: the tip and its shadow are dark
and join the body, bulging its outline; a shaft or a finger across the
bezel is light and bites a notch into it; a glare spot can wash out a
stretch of bezel. A convex hull of the dark region turns such a bulge into
a straight tangent from the bulge to the far corner (one edge tilted by tens
of pixels), so the hull only says roughly where the body is. Each edge is
then measured where it is: along many short scan lines across it (normal to
the rough edge), the first dark step from the desk inwards, placed to a
fraction of a pixel at the steepest fall of brightness; and the edge is the
line most of those points agree on within a couple of pixels (RANSAC, then a
least-squares fit to the agreeing points): a bulge or a notch is a minority
of one edge's points and is left out, however far it reaches. Two rounds:
the first from the hull's enclosing rectangle (deep scans: a tilted camera
makes the body a trapezoid), the second across the first round's edges.
"""

from __future__ import annotations

import cv2
import numpy as np

from harness.camera.errors import ScreenNotFound

#: The phone body must cover at least this share of the frame.
MIN_BODY_SHARE = 0.03
#: A dark piece at least this share of the largest's area, next to it, is part of the body too (a bezel cut).
PIECE_SHARE = 0.05
#: ... and it is next to it when their boxes are at most this share of the frame's longer side apart: a glare spot
#: can wash out a long stretch of bezel (a piece joined wrongly, a shadow beside the phone, only moves the
#: enclosing rectangle the scans start from; a piece left out loses part of the body).
JOIN_GAP = 0.12
#: Scan lines cross this middle part of each edge (the rounded corners lie outside it).
SPAN = (0.14, 0.86)
#: Scan lines per edge, at most (one every 2 work pixels below that).
SCANS = 120
#: A scan's dark must go on this many pixels inwards (not a speck of desk grain or noise).
DARK_RUN_PX = 3.0
#: At least this share of an edge's scan lines must agree on its line.
MIN_AGREE = 0.25


def dark_body(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The body's rough outline (the convex hull of the largest dark region and the sizeable dark pieces next to
    it, N x 2), the blurred image (float32) and the brightness halfway between the body's black and the desk."""
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    # halfway between the body's black and the darkest of the desk around the frame's edge (a white screen
    # is lighter than the desk, so a two-class split of the whole frame would cut between those two)
    h, w = blurred.shape
    m = max(2, int(min(h, w) * 0.04))
    ring = np.concatenate([blurred[:m].ravel(), blurred[-m:].ravel(), blurred[:, :m].ravel(), blurred[:, -m:].ravel()])
    black, desk = float(np.percentile(blurred, 1)), float(np.percentile(ring, 10))
    if desk - black < 20:
        raise ScreenNotFound(f"no dark phone body against a lighter desk: the desk at the frame's edge is "
                             f"{desk:.0f} grey, the darkest part {black:.0f}")
    level = (black + desk) / 2
    _, dark = cv2.threshold(blurred, level, 255, cv2.THRESH_BINARY_INV)
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise ScreenNotFound("no dark phone body against a lighter desk in the camera frame")
    biggest = max(contours, key=cv2.contourArea)
    share = cv2.contourArea(cv2.convexHull(biggest)) / gray.size
    if share < MIN_BODY_SHARE:
        raise ScreenNotFound(f"no phone body in the camera frame: the largest dark region covers {share:.1%} "
                             f"of it, expected at least {MIN_BODY_SHARE:.0%}")
    # the bezel is a thin dark ring around a lit screen: a stylus's shaft across one side and a glare spot over
    # another cut it in pieces, so every sizeable dark piece next to the body found so far belongs to it too
    gap = JOIN_GAP * max(gray.shape)
    x0, y0, bw, bh = cv2.boundingRect(biggest)
    box = [x0, y0, x0 + bw, y0 + bh]
    least = PIECE_SHARE * cv2.contourArea(biggest)
    rest = [cv2.boundingRect(c) + (i,) for i, c in enumerate(contours)
            if c is not biggest and cv2.contourArea(c) >= least]
    pieces = [biggest]
    grew = True
    while grew:
        grew = False
        for x, y, w, h, i in list(rest):
            if x <= box[2] + gap and x + w >= box[0] - gap and y <= box[3] + gap and y + h >= box[1] - gap:
                pieces.append(contours[i])
                rest = [r for r in rest if r[4] != i]
                box = [min(box[0], x), min(box[1], y), max(box[2], x + w), max(box[3], y + h)]
                grew = True
    hull = cv2.convexHull(np.concatenate(pieces)).reshape(-1, 2).astype(np.float64)
    return hull, blurred.astype(np.float32), level


def body_quad(hull: np.ndarray, blurred: np.ndarray, level: float) -> np.ndarray:
    """The body's four corners (work pixels, clockwise from the top-left-most): its edges measured across the
    hull's enclosing rectangle, then across their own first fit."""
    rect = cv2.boxPoints(cv2.minAreaRect(hull.astype(np.float32))).astype(np.float64)
    corners = _clockwise(rect)
    short = min(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[1]))
    # first round: from just outside the rectangle to well inside it (a trapezoid's edge leans off the rectangle's;
    # a scan stops at the first dark anyway); second round: a band across the first round's edges
    for outside, inside in ((4.0, 0.5 * short), (0.05 * short + 4, 0.08 * short + 4)):
        lines = [_edge(blurred, level, corners[i], corners[(i + 1) % 4], outside, inside, i) for i in range(4)]
        corners = np.array([intersect(lines[i - 1], lines[i]) for i in range(4)])
    return corners


def _clockwise(points: np.ndarray) -> np.ndarray:
    """Four points clockwise on screen (y down), starting at the one nearest the top-left (x + y smallest)."""
    pts = np.asarray(points, np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))]
    return np.roll(pts, -int(np.argmin(pts.sum(axis=1))), axis=0)


def intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two lines (vx, vy, x0, y0) meet."""
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = a, b
    m = np.array([[vx1, -vx2], [vy1, -vy2]])
    if abs(np.linalg.det(m)) < 1e-6:
        raise ScreenNotFound("the phone's outline has two parallel neighbouring edges")
    t = np.linalg.solve(m, np.array([x2 - x1, y2 - y1]))
    return np.array([x1 + vx1 * t[0], y1 + vy1 * t[0]])


#: The edges as the frame shows them (clockwise from the corner nearest its top-left).
_NAMES = ("top", "right-hand", "bottom", "left-hand")


def _edge(blurred: np.ndarray, level: float, a: np.ndarray, b: np.ndarray, outside: float, inside: float,
          index: int) -> np.ndarray:
    """The body edge near the segment a -> b (clockwise, so the body lies to its right on screen): the line
    (vx, vy, x0, y0) that most of its scan lines' first dark steps agree on."""
    points = edge_points(blurred, level, a, b, outside, inside)
    length = float(np.linalg.norm(b - a))
    n = max(8, min(SCANS, int(length / 2)))
    if len(points) < max(8, MIN_AGREE * n):
        raise ScreenNotFound(f"the phone body's {_NAMES[index]} edge in the frame was not seen: {len(points)} of {n} "
                             f"scans across it found the step from the desk to the body")
    band = max(1.5, 0.004 * length)
    line, agree = robust_line(points, band)
    if agree < max(8, MIN_AGREE * n):
        raise ScreenNotFound(f"the phone body's {_NAMES[index]} edge in the frame is not straight: at most {agree} "
                             f"of {n} scans across it lie on one line")
    return line


def edge_points(blurred: np.ndarray, level: float, a: np.ndarray, b: np.ndarray, outside: float,
                inside: float) -> np.ndarray:
    """Along scan lines normal to a -> b across its middle (from ``outside`` pixels out to ``inside`` pixels in),
    the first step from light to dark (below ``level``, for at least DARK_RUN_PX): each placed at the steepest fall
    of brightness near where it crosses ``level`` (sub-pixel). Scans that start dark or never turn dark give none."""
    d = b - a
    length = float(np.linalg.norm(d))
    along = d / length
    outward = np.array([along[1], -along[0]])  # clockwise on screen (y down): the body is on the right of a -> b
    n = max(8, min(SCANS, int(length / 2)))
    base = a + np.outer(np.linspace(*SPAN, n), d)
    step = 0.5
    s = np.arange(outside, -inside, -step)
    grid = base[:, None, :] + s[None, :, None] * outward
    values = cv2.remap(blurred, grid[..., 0].astype(np.float32), grid[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    dark = values < level
    run = int(DARK_RUN_PX / step)
    if dark.shape[1] <= run + 2:
        return np.empty((0, 2))
    held = np.ones((n, dark.shape[1] - run), bool)
    for k in range(run):
        held &= dark[:, k:k + held.shape[1]]
    first = np.argmax(held, axis=1)
    ok = held.any(axis=1) & (first > 0) & ~dark[:, 0]
    rows = np.nonzero(ok)[0]
    if rows.size == 0:
        return np.empty((0, 2))
    fall = -np.diff(values[rows], axis=1)  # brightness falling inwards, between samples j and j + 1
    window = int(2.0 / step)
    cols = np.clip(first[rows, None] - 1 + np.arange(-window, window + 1)[None, :], 0, fall.shape[1] - 1)
    seg = np.take_along_axis(fall, cols, axis=1)
    k = np.clip(np.argmax(seg, axis=1), 1, seg.shape[1] - 2)
    a_, b_, c_ = (np.take_along_axis(seg, (k + o)[:, None], axis=1)[:, 0] for o in (-1, 0, 1))
    den = a_ - 2 * b_ + c_
    frac = np.where(den < 0, 0.5 * (a_ - c_) / np.where(den < 0, den, 1.0), 0.0)
    pos = s[0] - step * (cols[np.arange(rows.size), k] + 0.5 + np.clip(frac, -0.5, 0.5))
    return base[rows] + pos[:, None] * outward


def robust_line(points: np.ndarray, band: float, tries: int = 200,
                weights: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """The line (vx, vy, x0, y0) through the most ``points`` (or the most ``weights``) within ``band`` pixels (RANSAC
    over point pairs, seeded so a frame always gives the same answer), refitted by least squares on those points;
    and how many they are."""
    rng = np.random.default_rng(0)
    n = len(points)
    i, j = rng.integers(0, n, tries), rng.integers(0, n, tries)
    keep = i != j
    p, q = points[i[keep]], points[j[keep]]
    d = q - p
    norm = np.hypot(d[:, 0], d[:, 1])
    ok = norm > 1e-6
    p, d, norm = p[ok], d[ok], norm[ok]
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / norm[:, None]
    dist = np.abs(normal @ points.T - np.sum(normal * p, axis=1)[:, None])  # tries x points
    best = int(np.argmax((dist < band) @ (np.ones(n) if weights is None else weights)))
    near = dist[best] < band
    line = np.array([d[best, 0] / norm[best], d[best, 1] / norm[best], p[best, 0], p[best, 1]])
    for _ in range(2):  # least squares on the agreeing points, then on those within the band of that fit
        fit = cv2.fitLine(points[near].astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel().astype(np.float64)
        now = np.abs((points - fit[2:]) @ np.array([-fit[1], fit[0]])) < band
        if now.sum() < 2:
            break
        line, near = fit, now
    return line, int(near.sum())
