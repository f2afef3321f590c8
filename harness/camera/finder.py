"""Finding the phone's screen in a camera frame: its four corners, in the screen's own order.

A camera over a robot's bed sees a dark phone body on a lighter desk.
Its four edges (``harness.camera.outline``) are each the line most of
many scans across it agree on, so a stylus's tip, its shadow or a
fingertip bulging the outline, a shaft or a finger biting into it, or a
glare spot washing out part of the bezel do not pull an edge; this holds
under a camera tilted by 15 degrees and mild lens distortion. Inside the
body, seen square-on, the screen's edges are the first steps in
brightness from each side inwards, taken as the median over many rows or
columns: the bezel is unlit and the panel is lit, even where a dark theme
shows black (an LCD's black is lighter than the bezel), and neither text,
tiles, a glare spot nor uneven light moves a median of whole columns. The
profile's aspect ratio checks the result; the screen's top is the side
with the narrower bezel (the capacitive keys lie below the screen), unless
the caller says where it points.
"""

from __future__ import annotations

import cv2
import numpy as np

from harness.camera.errors import ScreenNotFound
from harness.camera.outline import body_quad, dark_body, intersect, robust_line

#: The frame is searched at most this many pixels on its longer side (corners are scaled back).
WORK_SIDE = 960
#: The body seen square-on, this many pixels along its long side.
BODY_SIDE = 800
#: The screen's aspect ratio may differ from the profile's by this much.
ASPECT_TOLERANCE = 0.08
#: Bands across each screen edge in which its step is looked for, how many must agree on its line, within how many
#: pixels (of the body seen square-on, BODY_SIDE long).
CHUNKS = 16
MIN_BANDS = 5
BAND_PX = 2.0
#: A band's second step counts this much towards a line (its first counts 1).
SECOND_WEIGHT = 0.8
TOPS = ("auto", "up", "down", "left", "right")


def order_quad(points: np.ndarray) -> np.ndarray:
    """Four points in clockwise image order starting at the one nearest the top-left (x + y smallest)."""
    pts = np.asarray(points, np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y down)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _steps(profile: np.ndarray, lo: int, hi: int, sign: float, most: int = 2) -> list[float]:
    """The first ``most`` positions from ``lo`` towards ``hi`` where the profile (brightness rising inwards, times
    ``sign``) rises well above its level in the range, each refined to the peak of its step (sub-pixel)."""
    step = 1 if hi > lo else -1
    seg = np.maximum(0.0, profile[lo:hi:step] * sign * step)
    if seg.size < 5:
        return []
    noise = float(np.median(seg))
    threshold = max(3.0, 6.0 * noise, 0.25 * float(seg.max()) if seg.max() < 12 else 3.0)
    found: list[float] = []
    i = 0
    while len(found) < most:
        above = np.nonzero(seg[i:] > threshold)[0]
        if above.size == 0:
            break
        i += int(above[0])
        while i + 1 < seg.size and seg[i + 1] >= seg[i]:
            i += 1
        frac = 0.0
        if 0 < i < seg.size - 1:
            a, b, c = seg[i - 1], seg[i], seg[i + 1]
            den = a - 2 * b + c
            frac = 0.5 * (a - c) / den if den != 0 else 0.0
        found.append(lo + step * (i + frac))
        while i < seg.size and seg[i] > threshold:  # past this step
            i += 1
    return found


def _middle(values: np.ndarray) -> np.ndarray:
    """The median along the last axis (sorting short rows is several times faster than ``np.median`` here)."""
    ordered = np.sort(values, axis=-1)
    n = ordered.shape[-1]
    return 0.5 * (ordered[..., (n - 1) // 2] + ordered[..., n // 2])


def _screen_in_body(body: np.ndarray) -> list[np.ndarray]:
    """The lit screen's left, top, right and bottom edges in the body seen square-on, as lines (vx, vy, x0, y0).

    Each edge is measured in CHUNKS bands across it (the first step in each band's median profile, from the bezel
    inwards) and is the line most bands agree on: a stylus, a fingertip or its shadow over part of the bezel, or
    the capacitive keys beyond the screen's end, move only the bands they lie in."""
    g = cv2.GaussianBlur(body.astype(np.float32), (3, 3), 0)
    h, w = g.shape
    dx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 4
    dy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 4
    skip_x, skip_y = max(3, int(w * 0.015)), max(3, int(h * 0.015))
    # a black phone's lit panel is lighter than its bezel, a white phone's dark panel darker
    ring = np.concatenate([g[int(h * 0.3):int(h * 0.7), skip_x:skip_x * 3].ravel(),
                           g[int(h * 0.3):int(h * 0.7), w - 3 * skip_x:w - skip_x].ravel()])
    sign = 1.0 if np.median(g[int(h * 0.3):int(h * 0.7), int(w * 0.3):int(w * 0.7)]) >= np.median(ring) else -1.0
    rows = np.linspace(0.05 * h, 0.95 * h, CHUNKS + 1).astype(int)
    cols = np.linspace(0.05 * w, 0.95 * w, CHUNKS + 1).astype(int)
    # each band's first two steps: where a glare spot lights the bezel, the first is the glass's edge (the body's
    # unlit side beside it), the screen's the second; the first counts a little more than the second
    found: dict[str, list[tuple[float, float, float]]] = {"left": [], "top": [], "right": [], "bottom": []}
    across = np.ascontiguousarray(dx.T)  # each band's rows along the last axis: sorted in place of np.median's copy
    # bands across the rows find the upright edges (a step at x: the point (x, the band's middle)), bands across
    # the columns the level ones (the point (the band's middle, y)); each profile runs along the gradient's first axis
    for grads, cuts, skip, size, sides, upright in ((across, rows, skip_x, w, ("left", "right"), True),
                                                    (dy, cols, skip_y, h, ("top", "bottom"), False)):
        for c0, c1 in zip(cuts[:-1], cuts[1:]):
            profile, mid = _middle(grads[:, c0:c1]), (c0 + c1 - 1) / 2
            for name, lo, hi in ((sides[0], skip, int(size * 0.4)), (sides[1], size - 1 - skip, int(size * 0.6))):
                for k, at in enumerate(_steps(profile, lo, hi, sign)):
                    found[name].append(((at, mid) if upright else (mid, at)) + (SECOND_WEIGHT if k else 1.0,))
    lines, missing = [], []
    for name, steps in found.items():
        agree = 0
        if len(steps) >= MIN_BANDS:
            points = np.array(steps, np.float64)
            line, agree = robust_line(points[:, :2], BAND_PX, weights=points[:, 2])
        if agree < MIN_BANDS:
            missing.append(f"{name} ({agree} of {CHUNKS} bands agree)")
        else:
            lines.append(line)
    if missing:
        raise ScreenNotFound(f"no lit screen inside the phone body: no edge found on its {', '.join(missing)} side")
    return lines


def find_screen(image: np.ndarray, aspect: float, top: str = "auto") -> np.ndarray:
    """The screen's corners in ``image`` (camera pixels): top-left, top-right, bottom-right, bottom-left of the
    screen as the phone shows it. ``aspect`` is the screen's width / height in portrait (the profile's);
    ``top`` says where the screen's top points in the frame, or ``auto`` (the side with the narrower bezel)."""
    if top not in TOPS:
        raise ValueError(f"top: expected one of {', '.join(TOPS)}, got {top!r}")
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    k = min(1.0, WORK_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
    body = body_quad(*dark_body(small)) / k
    # the body square-on, portrait: its long edges vertical (a first corner on a short edge)
    sides = [np.hypot(*(body[(i + 1) % 4] - body[i])) for i in range(4)]
    if sides[0] + sides[2] > sides[1] + sides[3]:
        body = np.roll(body, -1, axis=0)  # start so that edge 0 (corner 0 -> 1) is a short one
        sides = sides[1:] + sides[:1]
    long_side, short_side = (sides[1] + sides[3]) / 2, (sides[0] + sides[2]) / 2
    bh = BODY_SIDE
    bw = max(16, round(BODY_SIDE * short_side / long_side))
    square = np.array([[0, 0], [bw, 0], [bw, bh], [0, bh]], np.float64)
    to_body = cv2.getPerspectiveTransform(body.astype(np.float32), square.astype(np.float32))
    seen = cv2.warpPerspective(gray, to_body, (bw, bh), flags=cv2.INTER_AREA)
    left, top_line, right, bottom = _screen_in_body(seen)
    rect = np.array([intersect(left, top_line), intersect(right, top_line), intersect(right, bottom),
                     intersect(left, bottom)], np.float64)
    width = (np.linalg.norm(rect[1] - rect[0]) + np.linalg.norm(rect[2] - rect[3])) / 2
    height = (np.linalg.norm(rect[3] - rect[0]) + np.linalg.norm(rect[2] - rect[1])) / 2
    found = width / max(1e-6, height)
    if abs(found / aspect - 1) > ASPECT_TOLERANCE:
        raise ScreenNotFound(f"the lit area inside the phone body is {width:.0f}x{height:.0f} "
                             f"(aspect {found:.3f}), expected the profile's aspect {aspect:.3f}")
    back = cv2.perspectiveTransform(rect.reshape(1, 4, 2), np.linalg.inv(to_body)).reshape(4, 2)
    if top == "auto":
        upside_down = bh - (rect[2, 1] + rect[3, 1]) / 2 < (rect[0, 1] + rect[1, 1]) / 2  # the keys' wider bezel
        return np.roll(back, 2, axis=0) if upside_down else back
    return _with_top(back, top)


def _with_top(corners: np.ndarray, top: str) -> np.ndarray:
    """Corners reordered so that the screen's top edge (corner 0 -> 1) is the one facing ``top`` in the frame."""
    outward = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[top]
    centre = corners.mean(axis=0)
    # the top is one of the two short edges (0 -> 1 and 2 -> 3): the screen is portrait
    best = max((0, 2), key=lambda i: float(((corners[i] + corners[(i + 1) % 4]) / 2 - centre) @ np.array(outward)))
    return np.roll(corners, -best, axis=0)
