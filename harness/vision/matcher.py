"""Recognising screens and finding tap targets, on any resolution, theme, accent colour and renderer.

Frames and recorded crops are compared as ink maps at a low working
resolution (see ``harness.vision.features``): the layout of text blocks and
boxes, not one renderer's glyphs. The whole library is ranked first by a
vectorised signature (``harness.vision.compiled``); only the best few
screens get the full check, where each anchor is looked for near where it
was recorded. Anchors that do not agree are not counted against a screen
when the rest agree (something may cover them: a banner, a finger, a
volume overlay), but a screen must show most of what identifies it and
stand clearly above every other screen; otherwise the frame is unknown,
never a guess. Targets are found only on the screen recognised.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from harness.vision.compiled import Compiled, Screen
from harness.vision.definitions import DEFAULT_LIBRARY, ScreenDefinition, load_definition
from harness.vision.features import DETAIL_SCALE, VIEW_WIDTH, Frame, crop_ink, working_scale_of
from harness.vision.rivals import mute, undecided_rival
from harness.vision.targets import find_targets

ANCHOR_MARGIN_VIEW = 13     # view pixels searched around an anchor's recorded place
ANCHOR_FLOOR = 0.40         # every visible anchor must correlate at least this well ...
HIDDEN = 0.05               # (an anchor with more than this share under a cover is not visible)
HIDDEN_FLOOR = 0.75         # ... (every anchor, when some of the screen's anchors are hidden) ...
MIN_SHOWN = 0.5             # ... at least this share of a screen's anchor area must be visible ...
ACCEPT_SCORE = 0.70         # ... and its score at least this ...
ACCEPT_MARGIN = 0.05        # ... and this far above the runner-up
THIN_EXTRA = 0.05           # ... (this much more for a page that is mostly the phone's data: less of it is compared)
TIE = 0.1                   # screens within this of the best are told apart at FINE_SCALE (at most TIES of them)
TIES = 3
FINE_SCALE = 0.75           # pixels per view pixel where anchors of screens alike in layout are compared
SHORTLIST = 5               # screens checked fully after the signature ranking
LAYOUT_OTHER = 0.5          # a layout correlating less than this over the cells not covered rules a screen out
LAYOUT_ALONE = 0.95         # ... and at least this well when it decides alone (the anchors are hidden)
LAYOUT_MIN_SHOWN = 0.5      # share of a screen's layout cells that must be uncovered for the layout to count
COMPILED_SCALES = 32        # working scales the library is kept compiled for (about 3 MB each)


class Guess(NamedTuple):
    """The best screen for a frame and why it was (or was not) accepted."""

    screen: str
    score: float
    runner_up: str = ""
    runner_up_score: float = 0.0
    failed: tuple[str, ...] = ()   # anchors of the best screen that did not agree: "anchor[1] (x.png) 0.31" or "hidden"
    shown: float = 0.0             # share of the best screen's anchor area that was visible
    note: str = ""                 # what else kept it from being taken (a screen under the cover fits as well)

    def why(self) -> str:
        """One line: the best two screens, their scores, which anchors of the best failed, and any other reason."""
        failed = f"; its anchors that failed: {', '.join(self.failed)}" if self.failed else ""
        return (f"best {self.screen} {self.score:.2f} ({self.shown:.0%} of its anchors visible), "
                f"runner-up {self.runner_up or 'none'} {self.runner_up_score:.2f}{failed}"
                + (f"; {self.note}" if self.note else ""))


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
class _Verdict:
    """One screen against one frame: each anchor's score (NaN where a cover such as a banner or a finger hides
    it) and the whole page's layout correlation over the cells not covered (NaN: the screen has no layout)."""

    compiled: Screen
    scores: np.ndarray
    layout: float = float("nan")
    layout_shown: float = 0.0
    places: list[tuple[int, int]] = field(default_factory=list)  # where each anchor was found (working pixels)
    working: float = float("nan")  # the score at the working level, before a closer look (_fine) replaced it

    @cached_property
    def visible(self) -> np.ndarray:
        return ~np.isnan(self.scores)

    @cached_property
    def shown(self) -> float:
        return float(self.compiled.areas[self.visible].sum() / self.compiled.areas.sum())

    @property
    def failed(self) -> list[int]:
        return [i for i, s in enumerate(self.scores) if not s >= ANCHOR_FLOOR]

    def _anchors(self) -> tuple[float | None, bool]:
        """The anchors' say: mean and weakest visible anchor (the weakest counts double: screens share headers,
        never every anchor), or None when too few are visible; and False when a visible one disagrees."""
        visible = self.visible
        seen = self.scores[visible]
        # two anchors at least, or one of the screen's own (not shared with other screens)
        if seen.size < min(2, self.scores.size) and not (self.compiled.weights[visible] >= 1.0).any():
            return None, True
        # the less of a screen is visible, the more what is visible must agree
        floor = ANCHOR_FLOOR if seen.size == self.scores.size else HIDDEN_FLOOR
        if seen.min() < floor:
            return float(min(seen.min(), ANCHOR_FLOOR)), False
        # anchors other screens share (a header) say little about which of them this is
        weights = self.compiled.weights[visible]
        mean = float((seen * weights).sum() / weights.sum())
        own = seen[weights >= 1.0]
        weakest = float(own.min()) if own.size else float(seen.min())
        return (mean + weakest) / 2, True

    @property
    def has_layout(self) -> bool:
        return bool(self.layout_shown >= LAYOUT_MIN_SHOWN and np.isfinite(self.layout))

    @cached_property
    def score(self) -> float:
        """The anchors' score and the layout's, each weighed by how much of it is visible: under a banner the
        page below it still says which screen this is, and a page laid out otherwise than the screen (content
        where it has none) counts against it even when all its anchors agree."""
        anchors, agree = self._anchors()
        if not agree:
            return float(anchors or 0.0)
        if self.has_layout and self.layout < LAYOUT_OTHER:  # the page is laid out otherwise
            return min(self.layout, ANCHOR_FLOOR)
        weight = self.compiled.layout_weight
        if anchors is None:  # the layout alone (under a banner) must agree closely, and be most of the page
            return self.layout if self.has_layout and self.layout >= LAYOUT_ALONE and weight >= 1.0 else 0.0
        seen = min(1.0, self.shown / MIN_SHOWN)
        if not self.has_layout:
            return anchors * seen
        # text of the phone's state (an address) may reflow the page below it: the layout weighs, it does not veto
        return (seen * anchors + weight * self.layout) / (seen + weight)

    @property
    def enough(self) -> bool:
        """Enough of the screen visible to decide: most of its anchors, or most of its layout."""
        return self.shown >= MIN_SHOWN or (self.has_layout and self.compiled.layout_weight >= 1.0)


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file of a library folder: what says it changed."""
    return tuple(sorted((f.name, st.st_size, st.st_mtime_ns) for f in folder.iterdir()
                        if f.suffix in (".toml", ".png") for st in [f.stat()]))


#: folder -> (its stamp, its library): the libraries ScreenLibrary.shared() loaded in this process
_SHARED: dict[Path, tuple[tuple[tuple[str, int, int], ...], "ScreenLibrary"]] = {}


class ScreenLibrary:
    """The screen definitions of a folder, compiled for matching (once per working scale met)."""

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
        # target crops at DETAIL_SCALE do not depend on the working scale: cut once
        self._details = {d.name: {t.name: crop_ink(t.image, d.scale, DETAIL_SCALE) for t in d.targets if t.image is not None}
                         for d in definitions}
        self._compiled: OrderedDict[float, Compiled] = OrderedDict()
        self._fine_templates: dict[tuple[str, int], np.ndarray] = {}

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

    @classmethod
    def shared(cls, folder: str | Path | None = None) -> "ScreenLibrary":
        """The library of ``folder`` (default: the shipped one), loaded once per process and kept with what it
        compiled: a wait without a library of its own must not pay for loading and compiling it every time.
        Loaded again when a file of the folder was added, removed or edited (a lab re-recording a screen)."""
        folder = Path(folder or DEFAULT_LIBRARY).resolve()
        stamp = _stamp(folder)
        kept = _SHARED.get(folder)
        if kept is None or kept[0] != stamp:
            kept = _SHARED[folder] = (stamp, cls.load(folder))
        return kept[1]

    def is_compiled(self, working_scale: float) -> bool:
        """Whether the library is compiled for ``working_scale`` already (a first frame of a new size is not)."""
        return round(working_scale, 4) in self._compiled

    @property
    def names(self) -> list[str]:
        return list(self.definitions)

    def compiled(self, working_scale: float) -> Compiled:
        """The library at ``working_scale`` (compiled on first use; the few last used are kept)."""
        key = round(working_scale, 4)
        if key in self._compiled:
            self._compiled.move_to_end(key)
        else:
            self._compiled[key] = Compiled(list(self.definitions.values()), key, self._details)
            while len(self._compiled) > COMPILED_SCALES:
                self._compiled.popitem(last=False)
        return self._compiled[key]

    def prepare(self, width: int, scale: float | None = None) -> None:
        """Compile the library for frames ``width`` device pixels wide ahead of the first one (a one-off cost
        per resolution, not part of recognising a frame)."""
        scale = scale or width / VIEW_WIDTH
        self.compiled(working_scale_of(scale))

    # ------------------------------------------------------------------ matching
    @staticmethod
    def _verdict(frame: Frame, c: Screen, layout: tuple[float, float] = (float("nan"), 0.0)) -> _Verdict:
        """Each anchor's best score near its place; NaN when a cover hides it."""
        ws = frame.working_scale
        m = max(2, round(ANCHOR_MARGIN_VIEW * ws))
        scores = np.empty(len(c.anchors))
        places = []
        for i, t in enumerate(c.anchors):
            y = t.expected_y(frame.view_height, c.rec_view_h, ws)
            if frame.covered_share(t.x, y, t.w, t.h) > HIDDEN:
                scores[i] = np.nan
                places.append((t.x, y))
            else:
                scores[i], px, py = frame.correlate(t.ink, t.std, t.x - m, y - m, t.x + m, y + m)
                places.append((px, py))
        return _Verdict(c, scores, *layout, places=places)

    def _fine(self, frame: Frame, v: _Verdict) -> _Verdict:
        """The verdict again with each visible anchor checked at FINE_SCALE where the working level found it:
        two screens alike in layout (titles of other words) differ there."""
        d = v.compiled.definition
        scores = v.scores.copy()
        pad = 6  # view pixels around the place found (and the working level's rounding)
        for i, (x, y) in enumerate(v.places):
            if np.isnan(scores[i]) or d.anchors[i].structure:  # a list's rows: no words to compare
                continue
            key = (d.name, i)
            if key not in self._fine_templates:
                self._fine_templates[key] = crop_ink(d.anchors[i].image, d.scale, FINE_SCALE)
            tpl = self._fine_templates[key]
            th, tw = tpl.shape
            ws = frame.working_scale
            window = frame.detail(x / ws - pad, y / ws - pad, tw / FINE_SCALE + 2 * pad,
                            th / FINE_SCALE + 2 * pad, FINE_SCALE)
            if window.shape[0] < th or window.shape[1] < tw or float(tpl.std()) < 1e-6:
                continue  # at the frame's edge: the working level's score stands
            scores[i] = float(np.nan_to_num(cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)).max())
        return _Verdict(v.compiled, scores, v.layout, v.layout_shown, v.places, v.score)

    def _ranked(self, frame: Frame, lib: Compiled) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Screen indices, best first by the signature (visible anchors, weighted as in the score, and the
        layout), with every screen's layout correlation, the share of its layout compared, and whether a cover
        leaves it undecided (its anchors hidden, its layout compared: harness.vision.rivals)."""
        scores, covered = lib.signature(frame.sums, frame.cover_sums, frame.view_height)
        visible = covered <= HIDDEN
        n = len(lib.screens)
        w = lib.weights * visible
        total = np.bincount(lib.owner, w, n)
        mean = np.bincount(lib.owner, w * np.clip(scores, 0, 1), n) / np.maximum(total, 1e-9)
        seen = np.minimum(1.0, np.bincount(lib.owner, lib.areas * visible, n) / lib.area_total / MIN_SHOWN)
        layout, layout_shown = lib.layout.scores(frame, HIDDEN, n)
        counts = np.isfinite(layout) & (layout_shown >= LAYOUT_MIN_SHOWN)
        wl = lib.layout_weights
        rough = np.where(counts, (seen * mean + wl * np.nan_to_num(layout)) / (seen + wl), mean * seen)
        return np.argsort(-rough, kind="stable"), layout, layout_shown, mute(lib, visible) & counts

    def _judge(self, frame: Frame, every: bool = False) -> tuple[list[_Verdict], list[tuple[str, float]]]:
        """The shortlist's verdicts, best first (signature ranking of all screens, then the full check), and the
        screens a cover leaves undecided, with their layouts."""
        lib = self.compiled(frame.working_scale)
        order, layout, shown, undecided = self._ranked(frame, lib)
        verdicts = [self._verdict(frame, lib.screens[i], (layout[i], shown[i]))
                    for i in (order if every else order[:SHORTLIST])]
        verdicts.sort(key=lambda v: v.score, reverse=True)
        close = [v for v in verdicts[:TIES] if v.score >= verdicts[0].score - TIE]
        # alike at the working level, or a screen with nothing but its anchors to go by (its page is the phone's
        # data: a list): look closer, where the words of a title count
        if (len(close) > 1 or verdicts[0].compiled.layout_weight < 1.0) and verdicts[0].score >= ACCEPT_SCORE:
            verdicts = sorted((self._fine(frame, v) for v in close), key=lambda v: v.score, reverse=True) + \
                verdicts[len(close):]
        return verdicts, [(lib.screens[i].definition.name, float(layout[i])) for i in np.flatnonzero(undecided)]

    def rank(self, image: np.ndarray | Frame, scale: float | None = None) -> list[tuple[str, float]]:
        """Every screen with its score, best first (the full check for all: for tests and reports, not speed)."""
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        return [(v.compiled.definition.name, v.score) for v in self._judge(frame, every=True)[0]]

    def recognize(self, image: np.ndarray | Frame, scale: float | None = None) -> Recognition | None:
        """The screen this frame shows, or None: a confident wrong answer is worse than none."""
        return self.classify(image, scale)[0]

    def classify(self, image: np.ndarray | Frame, scale: float | None = None) -> tuple[Recognition | None, Guess]:
        """recognize() and the guess behind its answer, from one ranking (an unknown frame says why)."""
        started = time.perf_counter()
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        verdicts, undecided = self._judge(frame)
        best = verdicts[0]
        second = verdicts[1] if len(verdicts) > 1 else None
        anchors = best.compiled.definition.anchors
        failed = tuple(f"anchor[{i}] ({anchors[i].file}) " + ("hidden" if np.isnan(best.scores[i]) else f"{best.scores[i]:.2f}")
                       for i in best.failed)
        guess = Guess(best.compiled.definition.name, best.score, second.compiled.definition.name if second else "",
                      second.score if second else 0.0, failed, best.shown)
        runner_up = (guess.runner_up, guess.runner_up_score)
        if not best.enough or best.score < _need(best):
            # the closer look left none standing, but the working level found pages that fit: another renderer
            # (a font not recorded) draws every glyph otherwise; the title the frame says decides, read by OCR
            best = _by_title(frame, [v for v in verdicts[:TIES] if v.enough and v.working >= ACCEPT_SCORE])
            if best is None:
                return None, guess
        elif (rival := undecided_rival(best, undecided)) is not None:  # a screen under the cover fits as well
            return None, guess._replace(note=f"{rival[0]}'s anchors are hidden and its page fits as well "
                                             f"(layout {rival[1]:.2f} vs {best.layout:.2f})")
        elif best.score - guess.runner_up_score < ACCEPT_MARGIN:  # alike in layout: titles of other words
            close = [v for v in verdicts if v.enough and v.score >= ACCEPT_SCORE and v.score > best.score - ACCEPT_MARGIN]
            told = _by_title(frame, close) if len(close) > 1 else None
            if told is None:
                return None, guess
            best = told
            other = next(v for v in verdicts if v is not told)
            runner_up = (other.compiled.definition.name, other.score)
        targets = self._targets(frame, best.compiled)
        return Recognition(best.compiled.definition.name, best.score, targets, runner_up, frame.image, frame.scale,
                           failed, (time.perf_counter() - started) * 1000, best.compiled.definition), guess

    def best_guess(self, image: np.ndarray | Frame, scale: float | None = None) -> Guess:
        return self.classify(image, scale)[1]

    def _targets(self, frame: Frame, c: Screen) -> dict[str, tuple[float, float]]:
        return find_targets(frame, c)


def _need(v: _Verdict) -> float:
    """The score a screen must reach: a page that is mostly the phone's data (its layout weighs less) must show
    more of itself to be taken."""
    return ACCEPT_SCORE + (THIN_EXTRA if v.compiled.layout_weight < 1.0 else 0.0)


def _by_title(frame: Frame, close: list[_Verdict]) -> _Verdict | None:
    """Of screens ``close``, the one whose title the frame says, read by OCR (only here, only the title regions);
    None when one of them records no title, OCR is not installed, or not exactly one title is said."""
    if not close or any(v.compiled.definition.title is None for v in close):
        return None
    from harness.vision.labels import tell_apart
    from harness.vision.ocr import OcrUnavailable

    try:
        name = tell_apart(frame.image, [v.compiled.definition for v in close], frame.scale)
    except OcrUnavailable:
        return None
    return next((v for v in close if v.compiled.definition.name == name), None)


def find_target(recognition: Recognition, name: str) -> tuple[float, float]:
    """Where to tap for ``name`` on the recognised screen, in device pixels.

    A target whose template was not found, or a list item whose row does not say
    its label, is looked for by OCR (only now, only in its own region; ``harness.vision.ocr``).
    """
    found = recognition.targets.get(name)
    if recognition.definition is not None:  # a list item is read where found; a target not found, by its label
        from harness.vision.labels import locate_labelled

        found = locate_labelled(recognition, name, found)
        if found is not None:
            recognition.targets[name] = found
        else:
            recognition.targets.pop(name, None)
    if found is None:
        raise KeyError(f"screen {recognition.screen} shows no target {name!r} (found: {', '.join(sorted(recognition.targets)) or 'none'})")
    return found
