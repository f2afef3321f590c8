"""Recognising screens and finding tap targets, on any resolution, theme, accent colour and renderer.

Frames and recorded crops are compared as ink maps at a low working
resolution (see ``harness.vision.features``): the layout of text blocks and
boxes, not one renderer's glyphs. Each anchor of a screen is looked for near
where it was recorded. Anchors that do not agree are not counted against a
screen when the rest agree (something may cover them: a banner, a finger, a
volume overlay), but a screen must show most of what identifies it and stand
clearly above every other screen; otherwise the frame is unknown, never a
guess. The whole library is ranked on the coarse level first; only the best
few screens get the full check, and targets are found only on the one
recognised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from harness.vision.definitions import DEFAULT_LIBRARY, Box, ScreenDefinition, Target, load_definition
import cv2

from harness.vision.features import COARSE_STEP, DETAIL_SCALE, WORKING_SCALE, Frame, coarse, crop_ink, detail

ANCHOR_MARGIN = 8           # working pixels searched around an anchor's recorded place (16 view pixels)
ANCHOR_FLOOR = 0.40         # every visible anchor must correlate at least this well ...
HIDDEN = 0.05               # (an anchor with more than this share under a cover is not visible)
HIDDEN_FLOOR = 0.75         # ... (every anchor, when some of the screen's anchors are hidden) ...
MIN_SHOWN = 0.5             # ... at least this share of a screen's anchor area must be visible ...
ACCEPT_SCORE = 0.70         # ... and its score at least this ...
ACCEPT_MARGIN = 0.05        # ... and this far above the runner-up
SHARED_LOOK = 0.8          # an anchor correlating this well with another screen's at its place is shared ...
SHARED_WEIGHT = 0.25        # ... and weighs this much in a screen's score
SHORTLIST = 4               # screens checked fully after the coarse ranking
TARGET_SCORE = 0.72         # a target searched over a wide region (a list) must correlate this well ...
TARGET_NEAR_SCORE = 0.55    # ... one looked for near where it was recorded, this well
DETAIL_SCORE = 0.78         # ... and (searched over a region) this well where it was found, at DETAIL_SCALE
TARGET_BAND_VIEW = 90       # view pixels above and below its recorded place a target is looked for


@dataclass
class _Template:
    """A crop's ink map at both levels, where it was recorded (working pixels) and which edge it keeps to."""

    ink: np.ndarray
    coarse: np.ndarray
    x: int
    y: int
    align: str
    std: float = 0.0
    coarse_std: float = 0.0

    def __post_init__(self) -> None:
        self.std, self.coarse_std = float(self.ink.std()), float(self.coarse.std())

    @property
    def w(self) -> int:
        return self.ink.shape[1]

    @property
    def h(self) -> int:
        return self.ink.shape[0]

    def expected_y(self, frame_view_h: float, rec_view_h: float) -> int:
        """Where it should be on a screen of another height (800 vs 853 view pixels)."""
        if self.align == "bottom":
            return round(self.y + (frame_view_h - rec_view_h) * WORKING_SCALE)
        if self.align == "center":
            return round(self.y + (frame_view_h - rec_view_h) / 2 * WORKING_SCALE)
        return self.y


def _template(crop: np.ndarray, region: Box, rec_scale: float, rec_view_h: float, align: str | None = None) -> _Template:
    ink_map = crop_ink(crop, rec_scale)
    if align is None:
        align = "bottom" if region.y / rec_scale > rec_view_h * 0.55 else "top"
    return _Template(ink_map, coarse(ink_map), round(region.x / rec_scale * WORKING_SCALE),
                     round(region.y / rec_scale * WORKING_SCALE), align)


class Guess(NamedTuple):
    """The best screen for a frame and why it was (or was not) accepted."""

    screen: str
    score: float
    runner_up: str = ""
    runner_up_score: float = 0.0
    failed: tuple[str, ...] = ()   # anchors of the best screen that did not agree: "anchor[1] (x.png) 0.31" or "hidden"
    shown: float = 0.0             # share of the best screen's anchor area that was visible

    def why(self) -> str:
        """One line: the best two screens, their scores, and which anchors of the best failed."""
        failed = f"; its anchors that failed: {', '.join(self.failed)}" if self.failed else ""
        return (f"best {self.screen} {self.score:.2f} ({self.shown:.0%} of its anchors visible), "
                f"runner-up {self.runner_up or 'none'} {self.runner_up_score:.2f}{failed}")


@dataclass
class Recognition:
    """Which screen a frame shows, how sure we are, and where its targets are (device pixels)."""

    screen: str
    score: float
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)
    runner_up: tuple[str, float] | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    scale: float = 1.0
    hidden: tuple[str, ...] = ()  # anchors under a cover (a banner, a finger)
    ms: float = 0.0
    definition: ScreenDefinition | None = field(default=None, repr=False)  # for targets found by label (OCR)


@dataclass
class _Compiled:
    definition: ScreenDefinition
    anchors: list[_Template]
    targets: list[tuple[Target, _Template, Box | None]]
    areas: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    details: dict[str, np.ndarray] = field(default_factory=dict)  # target crops at DETAIL_SCALE

    def __post_init__(self) -> None:
        self.areas = np.array([float(t.w * t.h) for t in self.anchors])
        self.weights = np.ones(len(self.anchors))

    @property
    def rec_view_h(self) -> float:
        return self.definition.height / self.definition.scale


@dataclass
class _Verdict:
    """One screen against one frame: each anchor's score, NaN where a cover (banner, finger) hides it."""

    compiled: _Compiled
    scores: np.ndarray

    @property
    def visible(self) -> np.ndarray:
        return ~np.isnan(self.scores)

    @property
    def shown(self) -> float:
        return float(self.compiled.areas[self.visible].sum() / self.compiled.areas.sum())

    @property
    def failed(self) -> list[int]:
        return [i for i, s in enumerate(self.scores) if not s >= ANCHOR_FLOOR]

    @property
    def rough(self) -> float:
        """For the coarse ranking only: the weighted mean of the visible anchors, no floors (coarse scores are
        lower than full ones; a floor there would drop the right screen from the shortlist)."""
        visible = self.visible
        if not visible.any():
            return 0.0
        weights = self.compiled.weights[visible]
        return float((np.clip(self.scores[visible], 0, 1) * weights).sum() / weights.sum()) * min(1.0, self.shown / MIN_SHOWN)

    @property
    def score(self) -> float:
        """Mean and weakest visible anchor (the weakest counts double: screens share headers, never every
        anchor), scaled down when too little of the screen is visible to say anything."""
        visible = self.visible
        seen = self.scores[visible]
        # two anchors at least, or one of the screen's own (not shared with other screens)
        if seen.size < min(2, self.scores.size) and not (self.compiled.weights[visible] >= 1.0).any():
            return 0.0
        # the less of a screen is visible, the more what is visible must agree
        floor = ANCHOR_FLOOR if seen.size == self.scores.size else HIDDEN_FLOOR
        if seen.min() < floor:
            return float(min(seen.min(), ANCHOR_FLOOR))
        # anchors other screens share (a header) say little about which of them this is
        weights = self.compiled.weights[visible]
        mean = float((seen * weights).sum() / weights.sum())
        own = seen[weights >= 1.0]
        weakest = float(own.min()) if own.size else float(seen.min())
        return (mean + weakest) / 2 * min(1.0, self.shown / MIN_SHOWN)


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
        _weigh_shared(self._compiled)

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
        # a target marked only by its label has no template: OCR finds it when a flow asks (find_target)
        targets = [(t, _template(t.image, t.region, d.scale, view_h), t.search) for t in d.targets if t.image is not None]
        details = {t.name: crop_ink(t.image, d.scale, DETAIL_SCALE) for t in d.targets if t.image is not None}
        return _Compiled(d, anchors, targets, details=details)

    # ------------------------------------------------------------------ matching
    @staticmethod
    def _confirmed(frame: Frame, tpl: np.ndarray, x: int, y: int) -> bool:
        return _check_detail(frame, tpl, x, y)

    @staticmethod
    def _anchor(frame: Frame, t: _Template, y: int, step: int) -> float:
        """The anchor's best score near its place; NaN when a cover hides it."""
        if frame.covered_share(t.x, y, t.w, t.h) > HIDDEN:
            return float("nan")
        level, tpl, std = (frame.fine, t.ink, t.std) if step == 1 else (frame.coarse, t.coarse, t.coarse_std)
        m = max(1, ANCHOR_MARGIN // step)
        x, y = t.x // step, y // step
        return level.correlate(tpl, std, x - m, y - m, x + m, y + m)[0]

    def _coarse_score(self, frame: Frame, c: _Compiled) -> float:
        scores = np.array([self._anchor(frame, t, t.expected_y(frame.view_height, c.rec_view_h), COARSE_STEP)
                           for t in c.anchors])
        return _Verdict(c, scores).rough

    def _verdict(self, frame: Frame, c: _Compiled) -> _Verdict:
        scores = np.array([self._anchor(frame, t, t.expected_y(frame.view_height, c.rec_view_h), 1) for t in c.anchors])
        return _Verdict(c, scores)

    def _judge(self, frame: Frame) -> list[_Verdict]:
        """The shortlist's verdicts, best first (coarse ranking of all screens, then the full check)."""
        ranked = sorted(self._compiled, key=lambda c: self._coarse_score(frame, c), reverse=True)
        verdicts = [self._verdict(frame, c) for c in ranked[:SHORTLIST]]
        return sorted(verdicts, key=lambda v: v.score, reverse=True)

    def rank(self, image: np.ndarray | Frame, scale: float | None = None) -> list[tuple[str, float]]:
        """Every screen with its score, best first (the full check for all: for tests and reports, not speed)."""
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        verdicts = sorted((self._verdict(frame, c) for c in self._compiled), key=lambda v: v.score, reverse=True)
        return [(v.compiled.definition.name, v.score) for v in verdicts]

    def recognize(self, image: np.ndarray | Frame, scale: float | None = None) -> Recognition | None:
        """The screen this frame shows, or None: a confident wrong answer is worse than none."""
        return self.classify(image, scale)[0]

    def classify(self, image: np.ndarray | Frame, scale: float | None = None) -> tuple[Recognition | None, Guess]:
        """recognize() and the guess behind its answer, from one ranking (an unknown frame says why)."""
        started = time.perf_counter()
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        verdicts = self._judge(frame)
        best = verdicts[0]
        second = verdicts[1] if len(verdicts) > 1 else None
        anchors = best.compiled.definition.anchors
        failed = tuple(f"anchor[{i}] ({anchors[i].file}) " + ("hidden" if np.isnan(best.scores[i]) else f"{best.scores[i]:.2f}")
                       for i in best.failed)
        guess = Guess(best.compiled.definition.name, best.score, second.compiled.definition.name if second else "",
                      second.score if second else 0.0, failed, best.shown)
        if best.shown < MIN_SHOWN or best.score < ACCEPT_SCORE or best.score - guess.runner_up_score < ACCEPT_MARGIN:
            return None, guess
        targets = self._targets(frame, best.compiled)
        return Recognition(guess.screen, best.score, targets, (guess.runner_up, guess.runner_up_score), frame.image,
                           frame.scale, failed, (time.perf_counter() - started) * 1000, best.compiled.definition), guess

    def best_guess(self, image: np.ndarray | Frame, scale: float | None = None) -> Guess:
        return self.classify(image, scale)[1]

    def _targets(self, frame: Frame, c: _Compiled) -> dict[str, tuple[float, float]]:
        d = c.definition
        out: dict[str, tuple[float, float]] = {}
        fh, fw = frame.fine.ink.shape
        for target, t, search in c.targets:
            if search is not None:
                k = WORKING_SCALE / d.scale
                x0, y0 = round(search.x * k), round(search.y * k)
                x1, y1 = round((search.x + search.w) * k) - t.w, round((search.y + search.h) * k) - t.h
                if search.y + search.h >= d.height - 2:
                    y1 = fh - t.h  # a search down to the bottom follows the frame's own bottom
            else:
                y = t.expected_y(frame.view_height, c.rec_view_h)
                band = round(TARGET_BAND_VIEW * WORKING_SCALE)
                x0, y0, x1, y1 = t.x - band, y - band, t.x + band, y + band
            best, x, y = frame.fine.correlate(t.ink, t.std, x0, y0, x1, y1)
            if best < (TARGET_SCORE if search is not None else TARGET_NEAR_SCORE):
                continue
            if search is not None and not self._confirmed(frame, c.details[target.name], x, y):
                continue  # a list holds many lines alike at the working level: check the glyphs
            to_device = frame.scale / WORKING_SCALE
            cx = (x + t.w / 2) * to_device + target.offset[0] / d.scale * frame.scale
            cy = (y + t.h / 2) * to_device + target.offset[1] / d.scale * frame.scale
            out[target.name] = (round(cx, 1), round(cy, 1))
        return out


def _check_detail(frame: Frame, tpl: np.ndarray, x: int, y: int) -> bool:
    """A target found on the working level, checked where it was found at DETAIL_SCALE, where its glyphs
    count: at the working level "attention required" and "up to date" are both a short grey line."""
    pad = 6  # view pixels around the place found
    vx, vy = x / WORKING_SCALE - pad, y / WORKING_SCALE - pad
    th, tw = tpl.shape
    window = detail(frame.image, frame.scale, vx, vy, tw / DETAIL_SCALE + 2 * pad, th / DETAIL_SCALE + 2 * pad)
    if window.shape[0] < th or window.shape[1] < tw or float(tpl.std()) < 1e-6:
        return True  # at the frame's edge: the working level's answer stands
    result = cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)
    return float(np.nan_to_num(result).max()) >= DETAIL_SCORE


def _weigh_shared(compiled: list[_Compiled]) -> None:
    """An anchor that another screen shows at the same place (a header such as MICROSOFT ACCOUNT) weighs
    SHARED_WEIGHT: it says which family a screen is of, not which member."""
    for c in compiled:
        for i, a in enumerate(c.anchors):
            for other in compiled:
                if other is c:
                    continue
                for b in other.anchors:
                    if abs(a.y - b.y) > ANCHOR_MARGIN or abs(a.x - b.x) > ANCHOR_MARGIN or b.align != a.align:
                        continue
                    h, w = min(a.h, b.h), min(a.w, b.w)
                    x, y = a.ink[:h, :w], b.ink[:h, :w]
                    if x.std() > 1e-6 and y.std() > 1e-6 and float(np.corrcoef(x.ravel(), y.ravel())[0, 1]) > SHARED_LOOK:
                        c.weights[i] = SHARED_WEIGHT


def find_target(recognition: Recognition, name: str) -> tuple[float, float]:
    """Where to tap for ``name`` on the recognised screen, in device pixels.

    A target whose template was not found but that has a label is looked for
    by OCR (only now, only in its own region; ``harness.vision.ocr``).
    """
    found = recognition.targets.get(name)
    if found is None and recognition.definition is not None:
        from harness.vision.labels import locate_labelled

        found = locate_labelled(recognition, name)
        if found is not None:
            recognition.targets[name] = found
    if found is None:
        raise KeyError(f"screen {recognition.screen} shows no target {name!r} (found: {', '.join(sorted(recognition.targets)) or 'none'})")
    return found
