"""The camera lens's radial distortion, told from the phone's straight edges, and taken out of points.

A webcam's wide lens bends straight lines (barrel distortion): the screen's
edges bow outwards, and a map from the screen's four corners (a homography)
is right at the corners but off by a few pixels between them, which is
where taps go. The bend is radial about the image's centre (the principal
point, taken as the frame's centre, as for any webcam to within a few
pixels): a point at radius r from it moves by ``k1 * r^3 + k2 * r^5``
(r in units of the frame's width). The phone's screen and body have
straight edges, so ``k1`` (and ``k2``) are the values that make points
sampled along those edges lie straightest once undistorted; sampling each
edge at sub-pixel precision across its whole length gives a few hundred
points, and a bend of a pixel or two over an edge is plenty to measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Share of each edge's length skipped at either end (rounded corners, the stylus's parking place).
EDGE_END = 0.08
#: Samples along each edge, and how far (share of the edge's length) each searches either side of it.
SAMPLES = 40
REACH = 0.015
#: k1's search range (barrel negative, pincushion positive; a fish-eye lies far outside).
K1_RANGE = (-0.6, 0.6)


@dataclass(frozen=True)
class Lens:
    """Radial distortion about ``centre`` (camera pixels), radius measured in units of ``unit`` pixels."""

    k1: float = 0.0
    k2: float = 0.0
    centre: tuple[float, float] = (0.0, 0.0)
    unit: float = 1.0

    def undistort(self, points: np.ndarray) -> np.ndarray:
        """Camera pixels (N x 2) as an ideal pinhole would have seen them (fixed-point iterations)."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        if self.k1 == 0 and self.k2 == 0:
            return pts.copy()
        c = np.asarray(self.centre, np.float64)
        d = (pts - c) / self.unit
        u = d.copy()
        for _ in range(8):
            r2 = np.sum(u * u, axis=1, keepdims=True)
            u = d / (1 + self.k1 * r2 + self.k2 * r2 * r2)
        return c + u * self.unit

    def distort(self, points: np.ndarray) -> np.ndarray:
        """Ideal pinhole pixels (N x 2) to where the lens shows them."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        c = np.asarray(self.centre, np.float64)
        u = (pts - c) / self.unit
        r2 = np.sum(u * u, axis=1, keepdims=True)
        return c + u * (1 + self.k1 * r2 + self.k2 * r2 * r2) * self.unit

    def as_list(self) -> list[float]:
        return [self.k1, self.k2, self.centre[0], self.centre[1], self.unit]

    @classmethod
    def from_list(cls, values: list[float]) -> "Lens":
        k1, k2, cx, cy, unit = (float(v) for v in values)
        return cls(k1, k2, (cx, cy), unit)


def edge_points(g: np.ndarray, a: np.ndarray, b: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Sub-pixel points on the brightness step across the segment a -> b (camera pixels) whose sign is that of
    the step across the whole edge (a lit panel in a dark bezel: lighter inwards), one per sample along it; the
    step is searched along the normal, averaged over a short band along it. ``inside``: a point inside."""
    d = b - a
    length = float(np.hypot(*d))
    along = d / length
    normal = np.array([-along[1], along[0]])
    if (inside - a) @ normal < 0:
        normal = -normal  # inwards
    reach = max(5.0, REACH * length)
    offsets = np.arange(-reach, reach + 0.5, 0.5)
    band = np.arange(-3.0, 3.5, 1.0)
    found, profiles = [], []
    for t in np.linspace(EDGE_END, 1 - EDGE_END, SAMPLES):
        base = a + d * t
        # a band of profiles along the normal, averaged: noise falls, the step stays
        xs = base[0] + offsets[None, :] * normal[0] + band[:, None] * along[0]
        ys = base[1] + offsets[None, :] * normal[1] + band[:, None] * along[1]
        prof = cv2.remap(g, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE).mean(axis=0)
        profiles.append((base, np.gradient(prof)))
    sign = 1.0 if sum(float(p.sum()) for _, p in profiles) >= 0 else -1.0
    for base, signed in profiles:
        grad = sign * signed
        i = int(np.argmax(grad[1:-1])) + 1
        if grad[i] < 1.0:  # no step here (the edge hidden by glare or the stylus)
            continue
        y0, y1, y2 = grad[i - 1], grad[i], grad[i + 1]
        den = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / den if den != 0 else 0.0
        found.append(base + normal * (offsets[i] + frac * 0.5))
    return np.asarray(found, np.float64).reshape(-1, 2)


def _bend(lens: Lens, edges: list[np.ndarray]) -> float:
    """Mean squared distance of the undistorted edge points from each edge's straight line (robust: the worst
    tenth of each edge left out, content or glare touching it)."""
    total, count = 0.0, 0
    for pts in edges:
        u = lens.undistort(pts)
        centred = u - u.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        dist = np.abs(centred @ vt[1])
        keep = dist <= np.quantile(dist, 0.9)
        total += float(np.sum(dist[keep] ** 2))
        count += int(keep.sum())
    return total / max(1, count)


def _line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point and the unit direction of the line through ``points`` (total least squares, worst tenth out)."""
    for _ in range(2):
        mean = points.mean(axis=0)
        _, _, vt = np.linalg.svd(points - mean, full_matrices=False)
        dist = np.abs((points - mean) @ vt[1])
        points = points[dist <= np.quantile(dist, 0.9)] if len(points) > 10 else points
    mean = points.mean(axis=0)
    return mean, np.linalg.svd(points - mean, full_matrices=False)[2][0]


def _meet(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    (p, u), (q, v) = a, b
    t = np.linalg.solve(np.column_stack([u, -v]), q - p)
    return p + u * t[0]


def fit_lens(gray: np.ndarray, corners: np.ndarray) -> tuple[Lens, np.ndarray]:
    """The lens that makes the screen's four edges straightest in ``gray`` (the camera frame; ``corners``: the
    screen's, camera pixels, TL TR BR BL) and the corners again, where the straightened edges meet (sub-pixel,
    camera pixels); no distortion and the same corners when too few edge points are seen to tell."""
    h, w = gray.shape[:2]
    base = Lens(0.0, 0.0, (w / 2.0, h / 2.0), float(w))
    q = np.asarray(corners, np.float64).reshape(4, 2)
    g = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.0)
    edges = [edge_points(g, q[i], q[(i + 1) % 4], q.mean(axis=0)) for i in range(4)]
    if any(len(pts) < SAMPLES // 2 for pts in edges):
        return base, q

    def bend(k1: float) -> float:
        return _bend(Lens(k1, 0.0, base.centre, base.unit), edges)

    lo, hi = K1_RANGE
    grid = np.linspace(lo, hi, 25)
    best = float(grid[int(np.argmin([bend(k) for k in grid]))])
    step = (hi - lo) / 24
    a, b = best - step, best + step
    for _ in range(30):  # golden-section search around the best of the grid
        m1, m2 = b - 0.618 * (b - a), a + 0.618 * (b - a)
        if bend(m1) < bend(m2):
            b = m2
        else:
            a = m1
    lens = Lens((a + b) / 2, 0.0, base.centre, base.unit)
    lines = [_line(lens.undistort(pts)) for pts in edges]
    ideal = np.array([_meet(lines[i - 1], lines[i]) for i in range(4)])  # corner i: edges i-1 and i meet
    return lens, lens.distort(ideal)
