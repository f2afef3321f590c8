"""What the matcher compares: a frame's layout of ink at a low working resolution, the same for any renderer.

Windows Phone lays pages out 480 view pixels wide. A frame is shrunk once,
by one ``cv2.resize`` (INTER_AREA, an integer factor: OpenCV's fast path),
to about ``WORKING_SCALE`` working pixels per view pixel (180x320 for a
1080x1920 frame, 160x266 for 480x800). That averages away JPEG blocks,
sensor noise, blur and the shapes of single glyphs. It is turned into an
*ink map* (gradient magnitude, so a word becomes a blob and a line of text
a bar): what stays is where text lines, boxes and rules are (the page's
layout), not how one renderer draws a glyph, nor which theme or accent
colour it uses. Integral images of the ink map and of the cover mask are
computed once per frame; every correlation and every signature reads its
window statistics from them.
"""

from __future__ import annotations

import cv2
import numpy as np

from harness.vision.covers import Band, covers

#: Nominal working pixels per view pixel; a frame is shrunk by the integer factor nearest to it.
WORKING_SCALE = 0.375
VIEW_WIDTH = 480
#: View pixels per pixel at which a target found on the working level is checked (glyphs count there).
DETAIL_SCALE = 1.0
#: Grey levels of gradient (after shrinking) that count as noise, not ink, and the span over which ink saturates.
INK_FLOOR, INK_SPAN = 8.0, 28.0


def working_factor(scale: float) -> int:
    """The integer shrink factor for a frame of ``scale`` device pixels per view pixel."""
    return max(1, round(scale / WORKING_SCALE))


#: Working scales are steps of 1/SCALE_STEPS working px per view px. The usual profiles' integer factors land on
#: steps already (1080 and 720 wide: 0.375; 480: 1/3; 768: 0.4); a frame of any other size (a scaled photo, a
#: cropped screenshot) is shrunk to the nearest step, so frames of many sizes share a few compiled libraries
#: instead of compiling one each (a second of CPU per compile).
SCALE_STEPS = 120


def working_scale_of(scale: float) -> float:
    """Working pixels per view pixel for a frame of ``scale`` device pixels per view pixel."""
    exact = scale / working_factor(scale)
    stepped = round(exact * SCALE_STEPS) / SCALE_STEPS
    return exact if abs(stepped - exact) < 1e-9 else stepped


def to_gray(image: np.ndarray) -> np.ndarray:
    """One grey channel (a grey image passes through)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:  # RGBA as a screenshot comes: converted as it is, without a copy of its colours
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGBA2GRAY)
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def shrink_to(image: np.ndarray, scale: float, factor: float) -> np.ndarray:
    """Grey image of ``image`` (``scale`` device pixels per view pixel) at ``factor`` pixels per view pixel."""
    h, w = image.shape[:2]
    size = (max(1, round(w / scale * factor)), max(1, round(h / scale * factor)))
    return to_gray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def shrink_by(gray: np.ndarray, step: int, w: int, h: int) -> np.ndarray:
    """``gray``'s top-left ``w * step`` x ``h * step`` pixels averaged in blocks of ``step`` (INTER_AREA by an integer
    factor). By an odd step (3: a 480-wide frame, and a 1080-wide one once halved) OpenCV's area resize takes a
    generic path three times slower than a box blur read every step-th pixel, which gives the same pixels: an odd
    block's mean never lies half-way between two grey levels, so both round alike."""
    block = gray[:h * step, :w * step]
    if step % 2 == 1 and step > 1:
        return np.ascontiguousarray(cv2.blur(block, (step, step), anchor=(0, 0))[::step, ::step])
    return cv2.resize(block, (w, h), interpolation=cv2.INTER_AREA)


def ink(gray: np.ndarray) -> np.ndarray:
    """The ink map of a grey working image: gradient magnitude above the noise floor, saturated, in [0, 1]."""
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    mag = cv2.absdiff(gx, 0) + cv2.absdiff(gy, 0)
    return np.clip((mag * 0.25 - INK_FLOOR) / INK_SPAN, 0.0, 1.0)


def crop_ink(crop: np.ndarray, scale: float, factor: float) -> np.ndarray:
    """The ink map of a recorded crop at ``factor`` pixels per view pixel, as it looks inside a frame's ink map."""
    gray = shrink_to(crop, scale, factor)
    pad = 3  # the crop's own border is not an edge
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(ink(padded)[pad:-pad, pad:-pad])


def box_sums(s: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Sums of many boxes [y0, y1) x [x0, x1) at once from an integral image (corners clipped to it)."""
    h, w = s.shape[0] - 1, s.shape[1] - 1
    lo, hi = np.maximum, np.minimum  # (np.clip's Python wrapper costs more than the sums, called per frame)
    x0, x1 = hi(lo(x0, 0), w), hi(lo(x1, 0), w)
    y0, y1 = hi(lo(y0, 0), h), hi(lo(y1, 0), h)
    return s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]


class Frame:
    """One screenshot prepared for matching, once: shrunk, grey, its ink map, integral images, covers."""

    def __init__(self, image: np.ndarray, scale: float | None = None, bands: tuple[Band, ...] = ()) -> None:
        self.image = image
        self.height, self.width = image.shape[:2]
        self.scale = scale or self.width / VIEW_WIDTH
        self.view_height = self.height / self.scale
        k = working_factor(self.scale)
        self.factor = k
        self.working_scale = working_scale_of(self.scale)  # working pixels per view pixel, for this frame
        h, w = self.height // k, self.width // k
        #: a grey picture of the whole frame at source_scale (>= DETAIL_SCALE) pixels per view pixel: the windows
        #: looked at closer (detail) are cut from it, not from the frame's colour pixels again
        self.source, self.source_scale = self._prepare(image, k, h, w)
        if self.working_scale == self.scale / k:
            self.gray = shrink_by(self.source, round(self.source_scale / self.working_scale), w, h)
        else:  # a frame of an unusual size is shrunk to the nearest step, so the library it needs is one compiled before
            w = max(1, round(self.width * self.working_scale / self.scale))
            h = max(1, round(self.height * self.working_scale / self.scale))
            self.gray = cv2.resize(self.source, (w, h), interpolation=cv2.INTER_AREA)
        self.ink = ink(self.gray)
        self.sums, self.squares = cv2.integral2(self.ink, sdepth=cv2.CV_64F)
        self.bands: tuple[Band, ...] = ()
        self._find_covers(bands)

    def _find_covers(self, bands: tuple[Band, ...]) -> None:
        self.bands = bands
        #: anchors looked for in this frame (harness.vision.verdict.anchor_score), found again once covers change
        self.anchors_found: dict[tuple[int, float], tuple[object, tuple]] = {}
        self.covered = covers(self.gray, self.working_scale, bands)
        self.any_cover = bool(self.covered.any())
        self.cover_sums = cv2.integral(self.covered.view(np.uint8))

    def page_bands(self, bands: tuple[Band, ...]) -> None:
        """Tell the frame which bands the page draws itself (``covers.page_bands`` of the library judging it): what
        lies there is page, not cover. Only a frame with a cover found is looked at again (a band alone is one)."""
        if bands != self.bands and (self.any_cover or self.bands):
            self._find_covers(bands)

    def _prepare(self, image: np.ndarray, k: int, h: int, w: int) -> tuple[np.ndarray, float]:
        """The grey source and its scale. A large frame whose shrink factor is even is halved in colour first
        (OpenCV's fast 2x2 path) and made grey at half size: a quarter of the pixels to convert, and the
        working image comes from it by the other integer factor. Averages of averages: the same picture."""
        if self.working_scale == self.scale / k and k % 2 == 0 and self.scale / 2 >= DETAIL_SCALE:
            half = cv2.resize(image[:h * k, :w * k], (w * k // 2, h * k // 2), interpolation=cv2.INTER_AREA)
            return to_gray(half), self.scale / 2
        return to_gray(image), self.scale

    def covered_share(self, x: int, y: int, w: int, h: int) -> float:
        """Share of a working-pixel box that lies under a cover (a banner, a finger); off the frame counts as covered."""
        fh, fw = self.covered.shape
        x0, y0, x1, y1 = min(max(x, 0), fw), min(max(y, 0), fh), min(max(x + w, 0), fw), min(max(y + h, 0), fh)
        s = self.cover_sums
        inside = int(s[y1, x1]) - int(s[y0, x1]) - int(s[y1, x0]) + int(s[y0, x0]) if self.any_cover else 0
        area_in = (x1 - x0) * (y1 - y0)
        return (inside + (w * h - area_in)) / (w * h)

    def window_std(self, x0: int, y0: int, th: int, tw: int, rh: int, rw: int) -> np.ndarray:
        """Standard deviation of every th x tw window whose corner lies in [y0, y0+rh) x [x0, x0+rw)."""
        def box(s: np.ndarray) -> np.ndarray:
            return (s[y0 + th:y0 + th + rh, x0 + tw:x0 + tw + rw] - s[y0:y0 + rh, x0 + tw:x0 + tw + rw]
                    - s[y0 + th:y0 + th + rh, x0:x0 + rw] + s[y0:y0 + rh, x0:x0 + rw])
        n = th * tw
        mean = box(self.sums) / n
        return np.sqrt(np.maximum(box(self.squares) / n - mean * mean, 0.0))

    def scores(self, template: np.ndarray, t_std: float, x0: int, y0: int, x1: int, y1: int
               ) -> tuple[np.ndarray, int, int]:
        """Normalised correlation of ``template`` with its top-left corner anywhere in the box (clipped to the
        frame): the map and its origin. A window much flatter than the template (blank background, a solid
        banner) scores 0, not the noise-driven correlation a flat patch gives."""
        th, tw = template.shape
        fh, fw = self.ink.shape
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(fw - tw, x1), min(fh - th, y1)
        if x1 < x0 or y1 < y0 or t_std <= 1e-6:
            return np.zeros((0, 0), np.float32), x0, y0
        result = cv2.matchTemplate(self.ink[y0:y1 + th, x0:x1 + tw], template, cv2.TM_CCOEFF_NORMED)
        std = self.window_std(x0, y0, th, tw, result.shape[0], result.shape[1])
        result[~(std >= t_std * 0.25)] = 0.0
        return result, x0, y0

    def correlate(self, template: np.ndarray, t_std: float, x0: int, y0: int, x1: int, y1: int) -> tuple[float, int, int]:
        """Best normalised correlation of ``template`` with its top-left corner in the box; (score, x, y).

        As the best of ``scores`` (flat windows count 0), but the flatness is looked up only where the best
        places are, not for every window of the box."""
        th, tw = template.shape
        fh, fw = self.ink.shape
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(fw - tw, x1), min(fh - th, y1)
        if x1 < x0 or y1 < y0 or t_std <= 1e-6:
            return 0.0, x0, y0
        result = cv2.matchTemplate(self.ink[y0:y1 + th, x0:x1 + tw], template, cv2.TM_CCOEFF_NORMED)
        n, s, q = th * tw, self.sums, self.squares
        for _ in range(4):
            _, best, _, (lx, ly) = cv2.minMaxLoc(result)
            if not np.isfinite(best):
                break
            if best < 0.0:  # flat windows would count 0, more than this: the full map decides
                break
            x, y = x0 + lx, y0 + ly
            total = s[y + th, x + tw] - s[y, x + tw] - s[y + th, x] + s[y, x]
            squares = q[y + th, x + tw] - q[y, x + tw] - q[y + th, x] + q[y, x]
            mean = total / n
            if np.sqrt(max(squares / n - mean * mean, 0.0)) >= t_std * 0.25:
                return float(best), x, y
            result[ly, lx] = 0.0  # a flat window: it counts 0 (as in scores) and the next best is looked at
        result, ox, oy = self.scores(template, t_std, x0, y0, x1, y1)
        _, best, _, loc = cv2.minMaxLoc(result)
        if not np.isfinite(best):
            return 0.0, ox, oy
        return float(best), ox + loc[0], oy + loc[1]

    def detail(self, x: float, y: float, w: float, h: float, factor: float = DETAIL_SCALE) -> np.ndarray:
        """The ink map at ``factor`` (DETAIL_SCALE) of a box of the frame given in view pixels (clipped to it)."""
        s = self.source_scale
        fh, fw = self.source.shape
        x0, y0 = max(0, int(x * s)), max(0, int(y * s))
        x1, y1 = min(fw, int((x + w) * s)), min(fh, int((y + h) * s))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return np.zeros((1, 1), np.float32)
        size = (max(1, round((x1 - x0) / s * factor)), max(1, round((y1 - y0) / s * factor)))
        return ink(cv2.resize(self.source[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA))
