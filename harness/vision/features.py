"""What the matcher compares: a frame's layout of ink at a low working resolution, the same for any renderer.

Windows Phone lays pages out 480 view pixels wide. A frame is shrunk once to
``WORKING_SCALE`` working pixels per view pixel (240 across), which averages
away JPEG blocks, sensor noise, mild blur and the shapes of single glyphs,
and turned into an *ink map*: gradient magnitude, smoothed more across than
down, so a word becomes a blob and a line of text a row of blobs. What
stays is where text blocks, boxes and rules are (the page's layout), not
how one renderer draws a glyph, nor which theme (light or dark) or accent
colour it uses. A second, coarser level (half the working scale) ranks the
whole library cheaply before the full check of the best few screens.
Integral images of both levels are computed once per frame, so every
correlation's window statistics come from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Working pixels per view pixel: a 1080x1920 frame is matched at 300x533.
WORKING_SCALE = 0.625
#: The coarse level used to rank the library: this many working pixels per coarse pixel.
COARSE_STEP = 2
VIEW_WIDTH = 480
#: Grey levels of gradient (after shrinking) that count as noise, not ink, and the span over which ink saturates.
INK_FLOOR, INK_SPAN = 10.0, 30.0


def to_gray(image: np.ndarray) -> np.ndarray:
    """One grey channel (a grey image passes through)."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def shrink(image: np.ndarray, scale: float, factor: float = WORKING_SCALE) -> np.ndarray:
    """Grey image, device pixels at ``scale`` device pixels per view pixel -> ``factor`` pixels per view pixel."""
    h, w = image.shape[:2]
    size = (max(1, round(w / scale * factor)), max(1, round(h / scale * factor)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)  # shrink colour first: 3x fewer pixels to convert
    return to_gray(small)


def ink(gray: np.ndarray) -> np.ndarray:
    """The ink map of a grey working image: gradient magnitude above the noise floor, saturated, in [0, 1]."""
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    mag = cv2.absdiff(gx, 0) + cv2.absdiff(gy, 0)
    return np.clip((mag * 0.25 - INK_FLOOR) / INK_SPAN, 0.0, 1.0)


def coarse(ink_map: np.ndarray) -> np.ndarray:
    """The ink map at the coarse level (``COARSE_STEP`` times smaller)."""
    h, w = ink_map.shape
    return cv2.resize(ink_map, (max(1, w // COARSE_STEP), max(1, h // COARSE_STEP)), interpolation=cv2.INTER_AREA)


@dataclass
class Level:
    """One level of a prepared frame: the ink map and its integral images (sum and sum of squares)."""

    ink: np.ndarray
    sums: np.ndarray
    squares: np.ndarray

    @classmethod
    def of(cls, ink_map: np.ndarray) -> "Level":
        sums, squares = cv2.integral2(ink_map, sdepth=cv2.CV_64F)
        return cls(ink_map, sums, squares)

    def window_std(self, x0: int, y0: int, th: int, tw: int, rh: int, rw: int) -> np.ndarray:
        """Standard deviation of every th x tw window whose corner lies in [y0, y0+rh) x [x0, x0+rw)."""
        def box(s: np.ndarray) -> np.ndarray:
            return (s[y0 + th:y0 + th + rh, x0 + tw:x0 + tw + rw] - s[y0:y0 + rh, x0 + tw:x0 + tw + rw]
                    - s[y0 + th:y0 + th + rh, x0:x0 + rw] + s[y0:y0 + rh, x0:x0 + rw])
        n = th * tw
        mean = box(self.sums) / n
        return np.sqrt(np.maximum(box(self.squares) / n - mean * mean, 0.0))

    def correlate(self, template: np.ndarray, t_std: float, x0: int, y0: int, x1: int, y1: int) -> tuple[float, int, int]:
        """Best normalised correlation of ``template`` with its top-left corner in the box; (score, x, y).

        A window much flatter than the template (blank background, a solid banner) scores 0, not
        the noise-driven correlation a flat patch gives."""
        th, tw = template.shape
        fh, fw = self.ink.shape
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(fw - tw, x1), min(fh - th, y1)
        if x1 < x0 or y1 < y0 or t_std <= 1e-6:
            return 0.0, x0, y0
        window = self.ink[y0:y1 + th, x0:x1 + tw]
        result = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        std = self.window_std(x0, y0, th, tw, result.shape[0], result.shape[1])
        result[std < t_std * 0.25] = 0.0
        _, best, _, loc = cv2.minMaxLoc(result)
        if not np.isfinite(best):
            return 0.0, x0, y0
        return float(best), x0 + loc[0], y0 + loc[1]


class Frame:
    """One screenshot prepared for matching, once: its ink map at the working and the coarse level."""

    def __init__(self, image: np.ndarray, scale: float | None = None) -> None:
        self.image = image
        self.height, self.width = image.shape[:2]
        self.scale = scale or self.width / VIEW_WIDTH
        self.view_height = self.height / self.scale
        self.gray = shrink(image, self.scale)
        self.fine = Level.of(ink(self.gray))
        self.coarse = Level.of(coarse(self.fine.ink))
        self.covered = covers(self.gray, self.fine.ink)
        self.cover_sums = cv2.integral(self.covered.astype(np.uint8))

    def covered_share(self, x: int, y: int, w: int, h: int) -> float:
        """Share of a working-pixel box that lies under a cover (a banner, a finger)."""
        fh, fw = self.covered.shape
        x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
        if x1 <= x0 or y1 <= y0:
            return 1.0
        s = self.cover_sums
        return float(s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]) / (w * h)


#: View pixels per pixel at which a target found on the working level is checked (glyphs count there).
DETAIL_SCALE = 1.0


def detail(image: np.ndarray, scale: float, x: float, y: float, w: float, h: float) -> np.ndarray:
    """The ink map at ``DETAIL_SCALE`` of a box of the frame given in view pixels (clipped to the frame)."""
    fh, fw = image.shape[:2]
    x0, y0 = max(0, int(x * scale)), max(0, int(y * scale))
    x1, y1 = min(fw, int((x + w) * scale)), min(fh, int((y + h) * scale))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.zeros((1, 1), np.float32)
    return ink(shrink(image[y0:y1, x0:x1], scale, DETAIL_SCALE))


def crop_ink(crop: np.ndarray, scale: float, factor: float = WORKING_SCALE) -> np.ndarray:
    """The ink map of a recorded crop, as it looks inside a frame's ink map (working level, or ``factor``)."""
    gray = shrink(crop, scale, factor)
    pad = 3  # the crop's own border is not an edge
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(ink(padded)[pad:-pad, pad:-pad])


#: Grey levels from the page background beyond which a smooth area is something laid over the page.
COVER_CONTRAST = 24
#: A cover is at least this share of the frame and touches its edge (a banner, a finger, an overlay).
COVER_MIN_AREA = 0.01


def covers(gray: np.ndarray, ink_map: np.ndarray) -> np.ndarray:
    """Boolean mask (working pixels) of what lies over the page: a banner, toast or volume overlay of any
    colour, a finger or a stylus. Such a thing is a large smooth area unlike the page background that
    reaches the frame's edge; text and buttons of a page never reach the edge. Its own text is inside it."""
    h, w = gray.shape
    # the page background shows along the side margins of every page (pages keep 24 view pixels free)
    background = float(np.median(np.concatenate([gray[:, :3].ravel(), gray[:, -3:].ravel()])))
    unlike = (np.abs(gray.astype(np.int16) - int(background)) > COVER_CONTRAST).astype(np.uint8)
    # text and rules are thin: opening removes them (also where a finger touches them); closing then fills
    # the holes a banner's own text leaves
    unlike = cv2.morphologyEx(unlike, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    unlike = cv2.morphologyEx(unlike, cv2.MORPH_CLOSE, np.ones((5, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(unlike, connectivity=4)
    mask = np.zeros((h, w), bool)
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        if area < COVER_MIN_AREA * h * w:
            continue
        if not (x == 0 or y == 0 or x + bw == w or y + bh == h):
            continue
        if area < 0.5 * bw * bh and not (bw >= w - 1):  # a ring or frame of thin lines is page, not a cover
            continue
        mask[max(0, y - 2):y + bh + 2, max(0, x - 2):x + bw + 2] = True
    return mask
