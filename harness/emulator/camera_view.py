"""The emulated camera's picture: the phone on the bed as a camera over it sees it, drawn, not copied.

What does not move is drawn once per camera (the desk with its uneven
light, the phone's shadow, its body and sides, the capacitive keys, where
the glare falls, the lens's distortion maps, noise frames); each frame then
warps the phone's current screen onto the glass (an LCD: its black is
lighter than the bezel), adds the stylus tip with its shadow where the
robot holds it, the glare, vignetting, the lens's barrel distortion, slight
blur and sensor noise, and is JPEG-compressed by the server. Colours are
BGR, as OpenCV encodes them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from harness.emulator.camera_pose import CameraPose

Point = tuple[float, float]
#: The panel's black and white as the camera sees them (an LCD's black glows through the glass).
PANEL_BLACK, PANEL_WHITE = 30.0, 235.0
BEZEL_BGR = (14, 13, 12)
SIDE_BGR = (24, 24, 26)
STYLUS_RADIUS_MM = 3.0
STYLUS_SHAFT_MM = 70.0
NOISE_FRAMES = 4


@dataclass
class Placement:
    """Where the phone lies on the bed (mm): its screen's and body's corners (TL, TR, BR, BL of the phone as it
    shows its screen), the glass's height, the body's thickness, the capacitive keys' centres."""

    screen: list[Point]
    body: list[Point]
    glass_z: float
    thickness_mm: float
    keys: dict[str, Point] = field(default_factory=dict)
    corner_radius_mm: float = 7.0


def _rounded(corners: list[Point], radius: float, per_arc: int = 8) -> np.ndarray:
    """The outline of the rectangle ``corners`` with rounded corners, in bed mm (N x 2)."""
    c = np.asarray(corners, np.float64)
    u = c[1] - c[0]
    v = c[3] - c[0]
    w, h = np.linalg.norm(u), np.linalg.norm(v)
    u, v = u / w, v / h
    r = min(radius, w / 2, h / 2)
    pts = []
    for (cx, cy), start in (((w - r, r), -90), ((w - r, h - r), 0), ((r, h - r), 90), ((r, r), 180)):
        for k in range(per_arc + 1):
            a = math.radians(start + 90 * k / per_arc)
            pts.append(c[0] + (cx + r * math.cos(a)) * u + (cy + r * math.sin(a)) * v)
    return np.array(pts)


class CameraView:
    """Draws frames of one camera over one placement; ``frame(screen_rgb, stylus)`` gives a BGR image."""

    def __init__(self, pose: CameraPose, placement: Placement, seed: int) -> None:
        self.pose = pose
        self.placement = placement
        rng = random.Random(f"view/{seed}")
        self.rng = np.random.default_rng(seed)
        self.size = (pose.width, pose.height)
        self._maps = pose.distortion_maps()
        z = placement.glass_z
        self.screen_ideal = pose.project([(x, y, z) for x, y in placement.screen], distorted=False)
        self.light = (rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5))  # shadow direction: mm per mm of height
        self._base = self._draw_base(rng)
        self._glare, self._glare_box = self._draw_glare(rng)
        self._vignette = self._draw_vignette(rng)
        self._blur = rng.uniform(0.6, 1.1)
        sigma = rng.uniform(2.0, 3.5)
        self._noise = [self._noise_pair(sigma) for _ in range(NOISE_FRAMES)]
        self._n = 0
        self._screen_cache: tuple[object, np.ndarray] | None = None
        self._coverage: tuple[tuple[int, ...], np.ndarray, np.ndarray] | None = None
        self._static: tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], tuple[int, int, int, int]] | None = None
        x0, y0 = np.floor(self.screen_ideal.min(axis=0)).astype(int)
        x1, y1 = np.ceil(self.screen_ideal.max(axis=0)).astype(int)
        self._box = (max(0, x0), max(0, y0), min(pose.width, x1 + 1), min(pose.height, y1 + 1))

    # ------------------------------------------------------------------ what the camera says it sees
    def screen_corners(self) -> np.ndarray:
        """The screen's corners in camera pixels, through the lens (TL, TR, BR, BL): the truth tests measure with."""
        z = self.placement.glass_z
        return self.pose.project([(x, y, z) for x, y in self.placement.screen])

    # ------------------------------------------------------------------ drawn once
    def _poly(self, points_mm: np.ndarray, z: float) -> np.ndarray:
        pts = np.column_stack([points_mm, np.full(len(points_mm), z)])
        return self.pose.project(pts, distorted=False)

    def _draw_base(self, rng: random.Random) -> np.ndarray:
        w, h = self.size
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        # a desk lit unevenly: a lamp off to one side, falling off smoothly
        lx, ly = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h
        fall = np.exp(-((xs - lx) ** 2 + (ys - ly) ** 2) / (2 * (rng.uniform(0.6, 1.1) * w) ** 2))
        light = 0.55 + 0.45 * fall
        tone = np.array([rng.uniform(150, 185), rng.uniform(160, 190), rng.uniform(165, 200)], np.float32)
        grain = cv2.GaussianBlur(self.rng.normal(0, 6, (h, w)).astype(np.float32), (0, 0), 3)
        desk = (tone[None, None, :] + grain[..., None]) * light[..., None]
        p = self.placement
        body = _rounded(p.body, p.corner_radius_mm)
        bottom_z = p.glass_z - p.thickness_mm
        # the shadow on the desk, soft, away from the light
        shadow = np.zeros((h, w), np.float32)
        off = np.array(self.light) * -p.thickness_mm * 1.5
        cv2.fillPoly(shadow, [np.round(self._poly(body + off, bottom_z)).astype(np.int32)], 1.0)
        shadow = cv2.GaussianBlur(shadow, (0, 0), 9)
        desk *= (1 - 0.45 * shadow)[..., None]
        img = np.clip(desk, 0, 255).astype(np.uint8)
        # the body's sides (what a tilted camera sees of them), then its top
        sides = np.concatenate([self._poly(body, bottom_z), self._poly(body, p.glass_z)])
        hull = cv2.convexHull(np.round(sides).astype(np.int32))
        cv2.fillPoly(img, [hull], SIDE_BGR, lineType=cv2.LINE_AA)
        top = np.round(self._poly(body, p.glass_z) * 4).astype(np.int32)
        cv2.fillPoly(img, [top], BEZEL_BGR, lineType=cv2.LINE_AA, shift=2)
        for name, (kx, ky) in p.keys.items():
            self._draw_key(img, name, kx, ky)
        return img

    def _draw_key(self, img: np.ndarray, name: str, x: float, y: float) -> None:
        """A capacitive key's glyph on the bezel (back arrow, Windows flag, magnifier), faintly lit."""
        z = self.placement.glass_z
        c = self._poly(np.array([[x, y]]), z)[0]
        mm = float(np.linalg.norm(self._poly(np.array([[x + 1.0, y]]), z)[0] - c))
        r = max(2, int(round(2.2 * mm)))
        colour = (120, 120, 120)
        cx, cy = int(round(c[0])), int(round(c[1]))
        if name == "search":
            cv2.circle(img, (cx, cy), r, colour, 1, cv2.LINE_AA)
        elif name == "back":
            cv2.ellipse(img, (cx, cy), (r, r), 0, 200, 360, colour, 1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), colour, 1, cv2.LINE_AA)

    def _draw_glare(self, rng: random.Random) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """A soft glare spot where the lamp reflects in the glass (only on the glass)."""
        w, h = self.size
        p = self.placement
        s = np.asarray(p.screen, np.float64)
        a, b = rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85)
        spot = s[0] + a * (s[1] - s[0]) + b * (s[3] - s[0])
        c = self._poly(spot[None, :], p.glass_z)[0]
        radius = rng.uniform(0.05, 0.10) * w
        strength = rng.uniform(70, 130)
        x0, y0 = max(0, int(c[0] - 3 * radius)), max(0, int(c[1] - 3 * radius))
        x1, y1 = min(w, int(c[0] + 3 * radius)), min(h, int(c[1] + 3 * radius))
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        blob = strength * np.exp(-((xs - c[0]) ** 2 + (ys - c[1]) ** 2) / (2 * radius ** 2))
        glass = np.zeros((h, w), np.uint8)
        cv2.fillPoly(glass, [np.round(self._poly(_rounded(p.body, p.corner_radius_mm), p.glass_z)).astype(np.int32)], 1)
        blob *= glass[y0:y1, x0:x1]
        return np.repeat(np.clip(blob, 0, 255).astype(np.uint8)[..., None], 3, axis=2), (x0, y0, x1, y1)

    def _draw_vignette(self, rng: random.Random) -> np.ndarray:
        w, h = self.size
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xs - w / 2) ** 2 + (ys - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
        v = 1.0 - rng.uniform(0.15, 0.3) * r2
        return np.repeat(np.clip(v * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2)

    def _noise_pair(self, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        n = self.rng.normal(0, sigma, (self.size[1], self.size[0], 3))
        return np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)

    # ------------------------------------------------------------------ each frame
    def _panel(self, screen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The screen as the camera sees it on the glass (BGR, in the screen's box, ideal pinhole) and its
        coverage there (float weights 0..1: the same for every screen of one size, so worked out once)."""
        x0, y0, x1, y1 = self._box
        sh, sw = screen.shape[:2]
        bgr = cv2.cvtColor(screen, cv2.COLOR_RGBA2BGR if screen.shape[2] == 4 else cv2.COLOR_RGB2BGR)
        # shrink first to about the size it shows (a warp straight from 1080x1920 would alias)
        k = min(1.0, 1.5 * max(x1 - x0, y1 - y0) / max(sw, sh))
        small = cv2.resize(bgr, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else bgr
        src = np.array([[0, 0], [small.shape[1], 0], [small.shape[1], small.shape[0]], [0, small.shape[0]]], np.float32)
        hom = cv2.getPerspectiveTransform(src, (self.screen_ideal - np.array([x0, y0])).astype(np.float32))
        lit = cv2.convertScaleAbs(small, alpha=(PANEL_WHITE - PANEL_BLACK) / 255.0, beta=PANEL_BLACK)
        warped = cv2.warpPerspective(lit, hom, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
        if self._coverage is None or self._coverage[0] != small.shape[:2]:
            mask = cv2.warpPerspective(np.full(small.shape[:2], 255, np.uint8), hom, (x1 - x0, y1 - y0),
                                       flags=cv2.INTER_LINEAR)
            alpha = mask.astype(np.float32) / 255.0
            self._coverage = (small.shape[:2], alpha, 1.0 - alpha)
        return warped, self._coverage[1]

    def _lens(self, img: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
        """``img`` (pinhole) through the lens and slightly blurred, in the output rectangle ``rect`` only."""
        x0, y0, x1, y1 = rect
        bent = cv2.remap(img, self._maps[0][y0:y1, x0:x1], self._maps[1][y0:y1, x0:x1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        return cv2.GaussianBlur(bent, (5, 5), self._blur)

    def _changing(self) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """Where a new screen changes the output: (the rectangle to draw through the lens, the part of it to keep).
        The output pixels whose lens source lies in the screen's box (with the bilinear and blur margins), and
        2 px more on each side that the blur needs from their neighbours (kept only at the frame's edge)."""
        x0, y0, x1, y1 = self._box
        src = self._maps[0]
        inside = (src[..., 0] >= x0 - 2) & (src[..., 0] < x1 + 2) & (src[..., 1] >= y0 - 2) & (src[..., 1] < y1 + 2)
        ys, xs = np.nonzero(inside)
        h, w = inside.shape
        ax0, ay0 = max(0, int(xs.min()) - 4), max(0, int(ys.min()) - 4)
        ax1, ay1 = min(w, int(xs.max()) + 5), min(h, int(ys.max()) + 5)
        keep = (ax0 if ax0 == 0 else ax0 + 2, ay0 if ay0 == 0 else ay0 + 2,
                ax1 if ax1 == w else ax1 - 2, ay1 if ay1 == h else ay1 - 2)
        return (ax0, ay0, ax1, ay1), keep

    def _still(self, screen: np.ndarray, key: object) -> np.ndarray:
        """Everything but the stylus and the noise, through the lens (kept while the screen is the same). What
        does not move (the desk, the body, the glare and vignetting outside the screen's box) goes through the
        lens once; a new screen redraws only the output rectangle its box reaches."""
        if self._screen_cache is not None and self._screen_cache[0] is key:
            return self._screen_cache[1]
        self._screen_cache = None
        if self._static is None:
            lit = cv2.multiply(self._with_glare(self._base.copy()), self._vignette, scale=1 / 255)
            self._static = (lit, self._lens(lit, (0, 0, self.size[0], self.size[1])), *self._changing())
        unlit, out, (ax0, ay0, ax1, ay1), (kx0, ky0, kx1, ky1) = self._static
        x0, y0, x1, y1 = self._box
        panel, alpha = self._panel(screen)
        assert self._coverage is not None
        box = cv2.blendLinear(panel, self._base[y0:y1, x0:x1], alpha, self._coverage[2])
        gx0, gy0, gx1, gy1 = self._glare_box  # the glare where it falls on the box
        ox0, oy0, ox1, oy1 = max(x0, gx0), max(y0, gy0), min(x1, gx1), min(y1, gy1)
        if ox0 < ox1 and oy0 < oy1:
            box[oy0 - y0:oy1 - y0, ox0 - x0:ox1 - x0] = cv2.add(box[oy0 - y0:oy1 - y0, ox0 - x0:ox1 - x0],
                                                                self._glare[oy0 - gy0:oy1 - gy0, ox0 - gx0:ox1 - gx0])
        lit = unlit.copy()
        lit[y0:y1, x0:x1] = cv2.multiply(box, self._vignette[y0:y1, x0:x1], scale=1 / 255)
        frame = out.copy()
        drawn = self._lens(lit, (ax0, ay0, ax1, ay1))
        frame[ky0:ky1, kx0:kx1] = drawn[ky0 - ay0:ky1 - ay0, kx0 - ax0:kx1 - ax0]
        self._screen_cache = (key, frame)
        return frame

    def _with_glare(self, img: np.ndarray) -> np.ndarray:
        gx0, gy0, gx1, gy1 = self._glare_box
        img[gy0:gy1, gx0:gx1] = cv2.add(img[gy0:gy1, gx0:gx1], self._glare)
        return img

    @property
    def noise_phase(self) -> int:
        """Which of the NOISE_FRAMES noise frames the next frame gets: frames of one screen and one stylus
        position repeat with this period, so a camera may keep them (``skip`` then stands for drawing one)."""
        return self._n % NOISE_FRAMES

    def skip(self) -> None:
        """Count a frame the caller had kept (the next one gets the next noise frame, as if it were drawn)."""
        self._n += 1

    def frame(self, screen: np.ndarray, stylus: tuple[float, float, float] | None = None,
              key: object | None = None) -> np.ndarray:
        """One camera frame (BGR) of the phone showing ``screen`` (RGB or RGBA, the panel's pixels) and the stylus
        tip at ``stylus`` (bed mm); ``key`` identifies the screen's pixels (the same key: the same pixels, so
        what does not move is not drawn again)."""
        img = self._still(screen, key if key is not None else object()).copy()
        if stylus is not None:
            self._draw_stylus(img, stylus)
        plus, minus = self._noise[self._n % NOISE_FRAMES]
        self._n += 1
        return cv2.add(cv2.subtract(img, minus), plus)

    def _seen(self, points_mm: np.ndarray, z: float) -> np.ndarray:
        """Bed points at height ``z`` in camera pixels, through the lens."""
        pts = np.column_stack([points_mm, np.full(len(points_mm), z)])
        return self.pose.project(pts)

    def _draw_stylus(self, img: np.ndarray, tip: tuple[float, float, float]) -> None:
        """The stylus's rubber tip and shaft, and its shadow on the glass or the desk below it (drawn in a box
        around them, blurred like the rest)."""
        x, y, z = tip
        p = self.placement
        surface = p.glass_z if cv2.pointPolygonTest(np.asarray(p.body, np.float32), (x, y), False) >= 0 \
            else p.glass_z - p.thickness_mm
        height = max(0.0, z - surface)
        sx, sy = x + self.light[0] * -height, y + self.light[1] * -height
        shadow = self._seen(np.array([[sx, sy], [sx + STYLUS_RADIUS_MM, sy]]), surface)
        shaft = self.pose.project([(x, y, z), (x, y, z + STYLUS_SHAFT_MM)])
        tip_px = self._seen(np.array([[x, y], [x + STYLUS_RADIUS_MM, y]]), z)
        r = max(2, int(np.linalg.norm(shadow[1] - shadow[0]) * (1 + height / 40)))
        rr = max(2, int(np.linalg.norm(tip_px[1] - tip_px[0])))
        pts = np.vstack([shadow[:1], shaft])
        pad = 2 * max(r, rr) + 4
        h, w = img.shape[:2]
        x0, y0 = (np.floor(pts.min(axis=0)) - pad).astype(int)
        x1, y1 = (np.ceil(pts.max(axis=0)) + pad).astype(int)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            return  # out of the picture
        roi = img[y0:y1, x0:x1]
        o = np.array([x0, y0])
        drawn = roi.copy()
        cv2.circle(drawn, tuple(np.round(shadow[0] - o).astype(int)), r, (0, 0, 0), -1, cv2.LINE_AA)
        a = max(0.15, 0.6 - height / 80)
        drawn = cv2.addWeighted(drawn, a, roi, 1 - a, 0)
        p0, p1 = tuple(np.round(shaft[0] - o).astype(int)), tuple(np.round(shaft[1] - o).astype(int))
        cv2.line(drawn, p0, p1, (150, 150, 160), max(2, int(rr * 1.2)), cv2.LINE_AA)
        cv2.circle(drawn, p0, rr, (40, 40, 44), -1, cv2.LINE_AA)
        cv2.circle(drawn, (p0[0] - rr // 3, p0[1] - rr // 3), max(1, rr // 4), (110, 110, 115), -1, cv2.LINE_AA)
        roi[:] = cv2.GaussianBlur(drawn, (5, 5), self._blur)
