"""Recognising screens and finding tap targets, on any resolution, theme, accent colour and renderer.

Frames and recorded crops are compared as ink maps at a low working
resolution (see ``harness.vision.features``): the layout of text blocks and
boxes, not one renderer's glyphs. The whole library is ranked first by a
vectorised signature (``harness.vision.compiled``); only the best few
screens get the full check, where each anchor is looked for near where it
was recorded (``harness.vision.verdict``). Anchors that do not agree are not counted against a screen
when the rest agree (something may cover them: a banner, a finger, a
volume overlay), but a screen must show most of what identifies it and
stand clearly above every other screen; otherwise the frame is unknown,
never a guess. Targets are found only on the screen recognised.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from harness.vision.anchor_text import confirmed
from harness.vision.compiled import Compiled, Screen
from harness.vision.contest import decide
from harness.vision.covers import page_bands
from harness.vision.definitions import DEFAULT_LIBRARY, LAYOUT_SCALE, ScreenDefinition, load_definition
from harness.vision.features import DETAIL_SCALE, VIEW_WIDTH, Frame, crop_ink, working_scale_of
from harness.vision.realign import moved_back, page_offset
from harness.vision.recognition import Guess, Recognition, find_target
from harness.vision.rivals import RIVAL_MARGIN, mute
from harness.vision.targets import find_targets
from harness.vision.verdict import (ACCEPT_SCORE, HIDDEN, LAYOUT_MIN_SHOWN, MIN_SHOWN, Verdict, check, closer)

__all__ = ["Guess", "Recognition", "ScreenLibrary", "find_target"]

TIE = 0.1                   # screens within this of the best are told apart at FINE_SCALE (at most TIES of them)
TIES = 3
SHORTLIST = 5               # screens checked fully after the signature ranking
COMPILED_SCALES = 32        # working scales the library is kept compiled for (about 3 MB each)


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
        #: screen name -> its index in every compiled library (compiled in this order)
        self.position = {name: i for i, name in enumerate(self.definitions)}
        # target crops at DETAIL_SCALE do not depend on the working scale: cut once
        self._details = {d.name: {t.name: crop_ink(t.image, d.scale, DETAIL_SCALE) for t in d.targets if t.image is not None}
                         for d in definitions}
        self._compiled: OrderedDict[float, Compiled] = OrderedDict()
        #: bands its pages draw themselves (an application bar): on a frame, what lies there is page, not a cover
        self.page_bands = page_bands((d.layout, LAYOUT_SCALE) for d in definitions if d.layout is not None)
        self._fine_templates: dict[tuple[str, int], np.ndarray] = {}
        self._stand_in_templates: dict[tuple[str, str], np.ndarray] = {}
        self._page_inks: dict[tuple[str, float], np.ndarray] = {}

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
    def _ranked(self, frame: Frame, lib: Compiled) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Screen indices, best first by the signature (visible anchors, weighted as in the score, and the
        layout), with every screen's layout correlation, the share of its layout compared, whether a cover
        leaves it undecided (its anchors hidden, its layout compared: harness.vision.rivals), and the share of
        its layout's contrast compared."""
        scores, covered = lib.signature(frame.sums, frame.cover_sums, frame.view_height)
        visible = covered <= HIDDEN
        n = len(lib.screens)
        w = lib.weights * visible
        total = np.bincount(lib.owner, w, n)
        mean = np.bincount(lib.owner, w * np.clip(scores, 0, 1), n) / np.maximum(total, 1e-9)
        seen = np.minimum(1.0, np.bincount(lib.owner, lib.areas * visible, n) / lib.area_total / MIN_SHOWN)
        layout, layout_shown, content = lib.layout.scores(frame, HIDDEN, n)
        counts = np.isfinite(layout) & (layout_shown >= LAYOUT_MIN_SHOWN)
        wl = lib.layout_weights
        rough = np.where(counts, (seen * mean + wl * np.nan_to_num(layout)) / (seen + wl), mean * seen)
        return np.argsort(-rough, kind="stable"), layout, layout_shown, mute(lib, visible) & counts, content

    def _judge(self, frame: Frame, every: bool = False
               ) -> tuple[list[Verdict], list[tuple[str, float]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The shortlist's verdicts, best first (signature ranking of all screens, then the full check), the
        screens a cover leaves undecided, with their layouts, and every screen's layout score, share compared and share
        of its contrast compared."""
        lib = self.compiled(frame.working_scale)
        frame.page_bands(self.page_bands)
        order, layout, shown, undecided, content = self._ranked(frame, lib)
        verdicts = [check(frame, lib.screens[i], (layout[i], shown[i], content[i]), self._fine_templates)
                    for i in (order if every else order[:SHORTLIST])]
        return self._closer_look(frame, verdicts), [(lib.screens[i].definition.name, float(layout[i]))
                                                     for i in np.flatnonzero(undecided)], (layout, shown, content)

    def _closer_look(self, frame: Frame, verdicts: list[Verdict]) -> list[Verdict]:
        """``verdicts`` best first, the best few looked at closer where they are alike at the working level, or
        where the best has nothing but its anchors to go by (its page is the phone's data: a list), or is seen by
        part of an anchor: there the words of a title count. The whole list is sorted again after each look (a screen looked at closer may
        drop below one that was not; the runner-up must be the real second), and one that then comes up among
        the best is looked at closer too (each at most once)."""
        verdicts = sorted(verdicts, key=lambda v: v.score, reverse=True)
        for looks in range(len(verdicts)):
            close = [v for v in verdicts[:TIES] if v.score >= verdicts[0].score - TIE]
            # once one closer look has been taken, a screen coming up to the top is looked at too: the working
            # level's score of one not looked at is not comparable with the closer scores it rose above
            alike = len(close) > 1 or verdicts[0].compiled.layout_weight < 1.0 or verdicts[0].in_part or looks > 0
            if not (alike and verdicts[0].score >= ACCEPT_SCORE):
                break
            if all(np.isfinite(v.working) for v in close):  # each looked at already
                break
            looked = [closer(frame, v, self._fine_templates) if np.isnan(v.working) else v for v in close]
            verdicts = sorted(looked + verdicts[len(close):], key=lambda v: v.score, reverse=True)
        return verdicts

    def rank(self, image: np.ndarray | Frame, scale: float | None = None) -> list[tuple[str, float]]:
        """Every screen with its score, best first (the full check for all: for tests and reports, not speed)."""
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        return [(v.compiled.definition.name, v.score) for v in self._judge(frame, every=True)[0]]

    def recognize(self, image: np.ndarray | Frame, scale: float | None = None) -> Recognition | None:
        """The screen this frame shows, or None: a confident wrong answer is worse than none."""
        return self.classify(image, scale)[0]

    def classify(self, image: np.ndarray | Frame, scale: float | None = None) -> tuple[Recognition | None, Guess]:
        """recognize() and the guess behind its answer, from one ranking (an unknown frame says why). A covered
        frame left unknown is looked at once more where its page lies (harness.vision.realign: framed off)."""
        started = time.perf_counter()
        frame = image if isinstance(image, Frame) else Frame(image, scale)
        judged = self._judge(frame)
        rec, guess = self._decide(frame, started, judged)
        if rec is not None or not frame.any_cover:
            return rec, guess
        rec, guess = self._realigned(frame, started, guess, judged[2])
        if rec is None:  # still unknown: its text anchors are read (harness.vision.anchor_text), only now
            read, said = self._decide(frame, started, judged, read=True)
            return (read, said) if read is not None else (rec, guess)
        return rec, guess

    def _realigned(self, frame: Frame, started: float, guess: Guess,
                   layouts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[Recognition | None, Guess]:
        """A covered frame left unknown, judged again moved back where its page lies (harness.vision.realign);
        ``layouts``: the unmoved frame's layout scores, as ``_judge`` gave them."""
        rec = None
        lib = self.compiled(frame.working_scale)
        layout, shown, _ = layouts
        offset = page_offset(frame, lib, layout, self._page_inks)
        if offset is None:
            return rec, guess
        dx, dy = round(offset[0]), round(offset[1])
        moved_frame = Frame(moved_back(frame.image, dx, dy), frame.scale)
        moved, again = self._decide(moved_frame, started, self._judge(moved_frame))
        if moved is not None and again.shown <= 0.0:
            # named by its page alone once moved: the move must not be what made that page the best fit. Another
            # page fitting the frame as it came clearly better (a finger over a paragraph, a banner over the title:
            # messaging_no_account's page 0.93, messaging's 0.82, then 0.74 vs 0.95 moved 9 px) leaves it unknown
            i = self.position[moved.screen]
            fair = np.where(np.isfinite(layout) & (shown >= LAYOUT_MIN_SHOWN), layout, -1.0)
            if fair.max() > fair[i] + RIVAL_MARGIN:
                other = lib.screens[int(np.argmax(fair))].definition.name
                moved, again = None, again._replace(note=f"named by its page alone once moved, but {other}'s page fit "
                                                          f"the frame better as it came ({fair.max():.2f} vs {fair[i]:.2f})")
        if moved is None:
            again = f"moved back by ({dx}, {dy}) px: {again.why()}"
            return rec, guess._replace(note=guess.note + ("; " if guess.note else "") + again)
        moved.targets = {k: (x + dx, y + dy) for k, (x, y) in moved.targets.items()}
        moved.image = frame.image
        return moved, again

    def _decide(self, frame: Frame, started: float,
                judged: tuple[list[Verdict], list[tuple[str, float]], tuple[np.ndarray, np.ndarray, np.ndarray]],
                read: bool = False) -> tuple[Recognition | None, Guess]:
        """The answer for ``frame`` from its judgement (``_judge``: made once, used again by the reading pass);
        ``read``: the reading pass, after a decide on this judgement that named none (not run again)."""
        verdicts, undecided, layouts = judged
        best = verdicts[0]
        second = verdicts[1] if len(verdicts) > 1 else None
        anchors = best.compiled.definition.anchors
        failed = tuple(f"anchor[{i}] ({anchors[i].file}) " + ("hidden" if np.isnan(best.scores[i]) else f"{best.scores[i]:.2f}")
                       for i in best.failed)
        guess = Guess(best.compiled.definition.name, best.score, second.compiled.definition.name if second else "",
                      second.score if second else 0.0, failed, best.shown)
        lib = self.compiled(frame.working_scale)
        best, note, said = None, "", None
        if not read:  # the reading pass follows a decide on this judgement that named none: not judged again
            best, note = decide(frame, lib, verdicts, undecided, layouts, self._fine_templates,
                                self._stand_in_templates)
        else:
            said = confirmed(frame, lib, verdicts, self._fine_templates, layouts)
        if said is not None:
            undecided = [(name, fit) for name, fit in undecided if name not in said[1]]  # its words say otherwise
            best, note = decide(frame, lib, said[0], undecided, layouts, self._fine_templates, self._stand_in_templates)
        if best is None:
            return None, guess._replace(note=note) if note else guess
        other = next((v for v in verdicts if v.compiled is not best.compiled), None)
        runner_up = (other.compiled.definition.name, other.score) if other else ("", 0.0)
        targets = self._targets(frame, best.compiled)
        return Recognition(best.compiled.definition.name, best.score, targets, runner_up, frame.image, frame.scale,
                           failed, (time.perf_counter() - started) * 1000, best.compiled.definition), guess

    def best_guess(self, image: np.ndarray | Frame, scale: float | None = None) -> Guess:
        return self.classify(image, scale)[1]

    def _targets(self, frame: Frame, c: Screen) -> dict[str, tuple[float, float]]:
        return find_targets(frame, c)
