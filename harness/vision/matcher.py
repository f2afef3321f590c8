"""Recognising screens and finding tap targets with OpenCV, on any resolution, theme and accent colour.

Everything is compared in *view space*: Windows Phone lays pages out 480 view
pixels wide, so a frame is first scaled to a fixed number of working pixels
per view pixel. Frames and crops become saturated edge maps (gradient
magnitude, clipped), which look the same in the dark and the light theme
and in every accent colour, and survive JPEG, noise and mild blur. Anchors
are matched with normalised cross-correlation near where they were
recorded; a toast over the top of the screen is detected and masked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from harness.vision.definitions import DEFAULT_LIBRARY, Box, ScreenDefinition, Target, load_definition

#: Working pixels per view pixel (1.0: a 1080x1920 frame is matched at 480x853).
WORK_PX_PER_VIEW_PX = 1.0
VIEW_WIDTH = 480
#: Edge strength (grey levels per pixel) below which gradients are noise, and where they saturate.
EDGE_FLOOR, EDGE_SPAN = 10.0, 30.0
ANCHOR_MARGIN = 16          # working pixels searched around an anchor's recorded place
ACCEPT_SCORE = 0.60         # a screen is recognised only above this ...
ACCEPT_MARGIN = 0.05        # ... and this far above the runner-up
ANCHOR_FLOOR = 0.40         # every visible anchor must reach this
TARGET_SCORE = 0.72         # a target searched over a wide region must match this well ...
TARGET_NEAR_SCORE = 0.55    # ... one searched near where it was recorded, this well
TOAST_VIEW_HEIGHT = 66
TARGET_BAND_VIEW = 90


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def edges(gray: np.ndarray) -> np.ndarray:
    """Saturated gradient magnitude in [0, 1], slightly blurred for tolerance."""
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = (np.abs(gx) + np.abs(gy)) * 0.25
    mag = np.clip((mag - EDGE_FLOOR) / EDGE_SPAN, 0.0, 1.0)
    return mag


def ncc(window: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation that scores 0, not 1, where the window is flat (blank background)."""
    result = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    th, tw = template.shape
    s1 = cv2.integral(window.astype(np.float64))
    s2 = cv2.integral(window.astype(np.float64) ** 2)
    rh, rw = result.shape
    def box(s: np.ndarray) -> np.ndarray:
        return s[th:th + rh, tw:tw + rw] - s[:rh, tw:tw + rw] - s[th:th + rh, :rw] + s[:rh, :rw]
    n = th * tw
    var = box(s2) / n - (box(s1) / n) ** 2
    result[var < max(1e-6, float(template.var()) * 0.05)] = 0.0
    return np.nan_to_num(result, nan=0.0, posinf=0.0, neginf=0.0)


def to_work(image: np.ndarray, scale: float) -> np.ndarray:
    """Grey image resized from device pixels at ``scale`` to working pixels."""
    gray = to_gray(image)
    h, w = gray.shape
    size = (max(1, round(w / scale * WORK_PX_PER_VIEW_PX)), max(1, round(h / scale * WORK_PX_PER_VIEW_PX)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


@dataclass
class _Template:
    edges: np.ndarray
    x: int
    y: int      # working pixels in the recorded screen
    w: int
    h: int
    align: str  # top, center or bottom: which edge of the screen it keeps its distance to

    def expected_y(self, frame_view_h: float, rec_view_h: float) -> int:
        """Where it should be on a screen of another height (800 vs 853 view pixels)."""
        if self.align == "bottom":
            return round((frame_view_h - (rec_view_h - self.y / WORK_PX_PER_VIEW_PX)) * WORK_PX_PER_VIEW_PX)
        if self.align == "center":
            return round(self.y + (frame_view_h - rec_view_h) / 2 * WORK_PX_PER_VIEW_PX)
        return self.y


def _template(crop: np.ndarray, region: Box, rec_scale: float, rec_view_h: float, align: str | None = None) -> _Template:
    work = to_work(crop, rec_scale)
    e = edges(cv2.copyMakeBorder(work, 2, 2, 2, 2, cv2.BORDER_REPLICATE))[2:-2, 2:-2]
    x, y = round(region.x / rec_scale * WORK_PX_PER_VIEW_PX), round(region.y / rec_scale * WORK_PX_PER_VIEW_PX)
    if align is None:
        align = "bottom" if region.y / rec_scale > rec_view_h * 0.55 else "top"
    return _Template(e, x, y, e.shape[1], e.shape[0], align)


class Guess(NamedTuple):
    """The best screen for a frame and why it was (or was not) accepted."""

    screen: str
    score: float
    runner_up: str = ""
    runner_up_score: float = 0.0
    failed: tuple[str, ...] = ()  # anchors of the best screen under ANCHOR_FLOOR: "anchor[1] (x.png) 0.31"

    def why(self) -> str:
        """One line: the best two screens, their scores, and which anchors of the best failed."""
        failed = f"; its anchors that failed: {', '.join(self.failed)}" if self.failed else ""
        return f"best {self.screen} {self.score:.2f}, runner-up {self.runner_up or 'none'} {self.runner_up_score:.2f}{failed}"


@dataclass
class Recognition:
    """Which screen a frame shows, how sure we are, and where its targets are (device pixels)."""

    screen: str
    score: float
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)
    runner_up: tuple[str, float] | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    scale: float = 1.0
    toast: bool = False
    ms: float = 0.0


@dataclass
class _Compiled:
    definition: ScreenDefinition
    anchors: list[_Template]
    targets: list[tuple[Target, _Template, Box | None]]


class Frame:
    """One screenshot prepared for matching."""

    def __init__(self, image: np.ndarray, scale: float | None = None) -> None:
        self.image = image
        self.height, self.width = image.shape[:2]
        self.scale = scale or self.width / VIEW_WIDTH
        self.gray = to_work(image, self.scale)
        self.edges = edges(self.gray)
        self.view_height = self.height / self.scale
        self.toast_rows = TOAST_VIEW_HEIGHT * WORK_PX_PER_VIEW_PX if self._has_toast(image) else 0

    def _has_toast(self, image: np.ndarray) -> bool:
        """A toast is a band of one saturated colour across the top of the screen."""
        band_h = int(56 * self.scale)
        if band_h < 4 or image.ndim != 3:
            return False
        band = image[int(4 * self.scale):band_h:max(1, int(self.scale * 4)), ::max(1, int(self.scale * 4)), :3].reshape(-1, 3)
        colour = np.median(band, axis=0)
        close = (np.abs(band.astype(np.int16) - colour).sum(axis=1) < 30).mean()
        bottom = image[-max(2, int(8 * self.scale)):, ::max(1, int(self.scale * 8)), :3].reshape(-1, 3)
        background = np.median(bottom, axis=0)  # the page background shows along the bottom edge
        return bool(close > 0.6 and np.abs(colour - background).sum() > 60 and colour.max() - colour.min() > 20)


class ScreenLibrary:
    """The screen definitions of a folder, compiled for matching."""

    def __init__(self, definitions: list[ScreenDefinition]) -> None:
        if not definitions:
            raise ValueError("a screen library needs at least one definition")
        self.definitions: dict[str, ScreenDefinition] = {}
        for d in definitions:  # two of one name: a flow would act on whichever matched, maybe the wrong screen
            if d.name in self.definitions:
                from harness.errors import ConfigError

                raise ConfigError(d.path or d.name, "name",
                                  f"duplicate screen name {d.name!r} (also in {self.definitions[d.name].path or 'another definition'})")
            self.definitions[d.name] = d
        self._compiled = [self._compile(d) for d in definitions]

    @classmethod
    def load(cls, folder: str | Path) -> "ScreenLibrary":
        folder = Path(folder)
        files = sorted(folder.glob("*.toml"))
        if not files:
            from harness.errors import ConfigError

            raise ConfigError(folder, "(folder)", "no screen definitions (*.toml) here")
        return cls([load_definition(f) for f in files])

    @classmethod
    def load_default(cls) -> "ScreenLibrary":
        return cls.load(DEFAULT_LIBRARY)

    @property
    def names(self) -> list[str]:
        return list(self.definitions)

    @staticmethod
    def _compile(d: ScreenDefinition) -> _Compiled:
        view_h = d.height / d.scale
        anchors = [_template(a.image, a.region, d.scale, view_h, a.align) for a in d.anchors]
        targets = [(t, _template(t.image, t.region, d.scale, view_h), t.search) for t in d.targets]
        return _Compiled(d, anchors, targets)

    # ------------------------------------------------------------------ matching
    def _match(self, frame: Frame, t: _Template, margin: int, rec_view_h: float) -> tuple[float, int, int]:
        """Best correlation of a template near its place; (score, x, y) in working pixels."""
        y = t.expected_y(frame.view_height, rec_view_h)
        tpl = t.edges
        top_cut = 0
        if frame.toast_rows and y < frame.toast_rows:
            top_cut = int(frame.toast_rows - y) + 1
            if t.h - top_cut < 6:
                return -1.0, t.x, y
            tpl = tpl[top_cut:]
        fh, fw = frame.edges.shape
        x0, y0 = max(0, t.x - margin), max(0, y + top_cut - margin)
        x1, y1 = min(fw, t.x + t.w + margin), min(fh, y + t.h + margin)
        window = frame.edges[y0:y1, x0:x1]
        if window.shape[0] < tpl.shape[0] or window.shape[1] < tpl.shape[1] or float(tpl.std()) < 1e-3:
            return 0.0, t.x, y
        result = ncc(window, tpl)
        _, best, _, loc = cv2.minMaxLoc(result)
        if not np.isfinite(best):
            best = 0.0
        return float(best), x0 + loc[0], y0 + loc[1] - top_cut

    def score(self, frame: Frame, compiled: _Compiled) -> float:
        d = compiled.definition
        rec_view_h = d.height / d.scale
        scores = [s for s, _, _ in (self._match(frame, t, ANCHOR_MARGIN, rec_view_h) for t in compiled.anchors) if s > -1.0]
        if not scores:
            return 0.0
        if min(scores) < ANCHOR_FLOOR:
            return min(scores)
        # The weakest anchor counts double: two screens often share a header, never every anchor.
        return float((np.mean(scores) + min(scores)) / 2)

    def rank(self, image: np.ndarray | Frame, scale: float | None = None) -> list[tuple[str, float]]:
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        ranked = [(c.definition.name, self.score(frame, c)) for c in self._compiled]
        return sorted(ranked, key=lambda r: r[1], reverse=True)

    def recognize(self, image: np.ndarray | Frame, scale: float | None = None) -> Recognition | None:
        """The screen this frame shows, or None: a confident wrong answer is worse than none."""
        return self.classify(image, scale)[0]

    def classify(self, image: np.ndarray | Frame, scale: float | None = None) -> tuple[Recognition | None, Guess]:
        """recognize() and the guess behind its answer, from one ranking (an unknown frame says why)."""
        started = time.perf_counter()
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        ranked = self.rank(frame)
        (name, score), runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else ("", 0.0))
        compiled = next(c for c in self._compiled if c.definition.name == name)
        if score < ACCEPT_SCORE or score - runner_up[1] < ACCEPT_MARGIN:
            return None, Guess(name, score, runner_up[0], runner_up[1], self._failed(frame, compiled))
        targets = self._targets(frame, compiled)
        return Recognition(name, score, targets, runner_up, frame.image, frame.scale, bool(frame.toast_rows),
                           (time.perf_counter() - started) * 1000), Guess(name, score, runner_up[0], runner_up[1])

    def _failed(self, frame: Frame, compiled: _Compiled) -> tuple[str, ...]:
        """The anchors of a screen that score under ANCHOR_FLOOR on this frame (hidden: under a toast)."""
        d = compiled.definition
        out = []
        for i, (a, t) in enumerate(zip(d.anchors, compiled.anchors)):
            s = self._match(frame, t, ANCHOR_MARGIN, d.height / d.scale)[0]
            if s < ANCHOR_FLOOR:
                out.append(f"anchor[{i}] ({a.file}) " + ("hidden" if s == -1.0 else f"{s:.2f}"))
        return tuple(out)

    def best_guess(self, image: np.ndarray | Frame, scale: float | None = None) -> Guess:
        return self.classify(image, scale)[1]

    def _targets(self, frame: Frame, compiled: _Compiled) -> dict[str, tuple[float, float]]:
        d = compiled.definition
        rec_view_h = d.height / d.scale
        out: dict[str, tuple[float, float]] = {}
        fh, fw = frame.edges.shape
        for target, t, search in compiled.targets:
            if search is not None:
                sx, sy = round(search.x / d.scale * WORK_PX_PER_VIEW_PX), round(search.y / d.scale * WORK_PX_PER_VIEW_PX)
                sw, sh = round(search.w / d.scale * WORK_PX_PER_VIEW_PX), round(search.h / d.scale * WORK_PX_PER_VIEW_PX)
                if search.y + search.h >= d.height - 2:
                    sh = fh - sy  # a search down to the bottom follows the frame's own bottom
                margin_box = (sx, sy, sx + sw, sy + sh)
            else:
                y = t.expected_y(frame.view_height, rec_view_h)
                band = round(TARGET_BAND_VIEW * WORK_PX_PER_VIEW_PX)
                margin_box = (0, y - band, fw, y + t.h + band)
            x0, y0 = max(0, margin_box[0]), max(0, margin_box[1])
            x1, y1 = min(fw, margin_box[2]), min(fh, margin_box[3])
            window = frame.edges[y0:y1, x0:x1]
            if window.shape[0] < t.h or window.shape[1] < t.w or float(t.edges.std()) < 1e-3:
                continue
            result = ncc(window, t.edges)
            _, best, _, loc = cv2.minMaxLoc(result)
            if not np.isfinite(best) or best < (TARGET_SCORE if search is not None else TARGET_NEAR_SCORE):
                continue
            cx = (x0 + loc[0] + t.w / 2) / WORK_PX_PER_VIEW_PX * frame.scale + target.offset[0] / d.scale * frame.scale
            cy = (y0 + loc[1] + t.h / 2) / WORK_PX_PER_VIEW_PX * frame.scale + target.offset[1] / d.scale * frame.scale
            out[target.name] = (round(cx, 1), round(cy, 1))
        return out


def find_target(recognition: Recognition, name: str) -> tuple[float, float]:
    """Where to tap for ``name`` on the recognised screen, in device pixels."""
    try:
        return recognition.targets[name]
    except KeyError:
        raise KeyError(f"screen {recognition.screen} shows no target {name!r} (found: {', '.join(sorted(recognition.targets)) or 'none'})") from None
