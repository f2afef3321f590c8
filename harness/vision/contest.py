"""Whether what tells a screen apart from its nearest rivals is in view and says it: else the frame is unknown.

Screens of one family share a layout and differ in a few places: the words of
a title, a paragraph, a button (account_email and account_password differ in
their title and the line under it). At the working level any two lines of
words look alike; drawn in another font, even at FINE_SCALE the words of the
right screen may correlate no better than another screen's words at that
place (DejaVu's "agenda" fits messaging's "chats" as well as calendar's own).
So a screen is taken only when, at each of its own anchors that has rivals
(other screens' anchors at its place that show something else), it beats
every rival there clearly at FINE_SCALE (``CLEAR``), or beats them by
``MARGIN``; where it does not, its title read by OCR must say it and none of
those rivals' titles. A rival whose anchor there lies under a cover, or is
not clearly other while part of the best is under one, is not beaten there
short of CLEAR when its page fits the frame as well or better (``_undecided``):
a finger on calendar's title row, over its anchor (the page's width), left
settings' narrower "system" in view there, fitting "agenda" by chance. A
screen seen by its layout alone (every anchor under a cover) is taken only
when no other screen's page fits the frame within
``LAYOUT_GAP`` of it and none is laid out alike where the frame shows the page
(``LAYOUT_TWIN``, the two recorded layouts compared there): two pages laid out
alike are told apart by their words, and those are under the cover. What is not told apart is unknown, never a
guess: the 0-wrong rule outranks recall.

Every way to a name goes through ``decide``, with one rival window (pages not
ruled out by their layout: ``in_window``): the screen the anchors rank first
(against its rivals at its anchors, above), the title read by OCR (it must
say one screen and none of its rivals), and a covered page's stand-ins (its
buttons and field labels below the cover, ``harness.vision.standins``: every
one in view agrees, ``STANDIN_SCORE``, and every rival in the window that the
frame shows something of, its layout or its anchors, is ruled out by an
anchor in view that disagrees, at the working level or closer, or a stand-in
of its own that does not say what the frame says, ``STANDIN_MARGIN``; a rival
with no stand-in in view is not ruled out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from harness.vision.partial import Part
from harness.vision.rivals import undecided_rival
from harness.vision.standins import stand_in_scores
from harness.vision.verdict import (ACCEPT_SCORE, ANCHOR_FLOOR, FINE_PAD_VIEW, FINE_SCALE, HIDDEN, LAYOUT_ALONE,
                                    LAYOUT_CONTENT, LAYOUT_MIN_SHOWN, LAYOUT_OTHER, Verdict, anchor_score, check,
                                    closer, fine_score, fine_template)

if TYPE_CHECKING:
    from harness.vision.compiled import Compiled, Screen, Template
    from harness.vision.definitions import ScreenDefinition
    from harness.vision.features import Frame

#: a FINE_SCALE score of an anchor this high says its screen: another screen's words at its place (no more alike
#: than SHARED_LOOK) do not reach it (0 of 680 bundled-font frames had a rival within 0.03 above 0.85)
CLEAR = 0.85
#: below CLEAR, the screen must beat every rival at that anchor by this much (else its title decides)
MARGIN = 0.03
#: a rival this far below the screen's own anchor at the working level is not looked at closer (of 1543 rival
#: anchors of the true screen against a wrong one, 7 were this far below, and each was 0.07+ below at FINE_SCALE too)
WORKING_GAP = 0.1
#: working pixels around a rival's place (moved by the page's offset where the screen's own anchor was found)
NEAR = 2
#: a screen whose page fits the frame this much worse than the best's is no rival at its anchors (in each wrong
#: screen of the sweeps the page of the screen shown fitted as well as the one taken, or better)
LAYOUT_RIVAL = 0.15
#: a page whose recorded layout correlates with the best's over the cells the frame shows as well as the layout
#: alone must fit (LAYOUT_ALONE) is laid out alike: had the frame shown it, it would have passed as well, so the
#: layout cannot tell the two apart however the frame fits them (account_password's page and two_step_code's below
#: a cover: 0.976, account_email's 0.957; 0.85 cost a tenth of the pages seen by their layout alone)
LAYOUT_TWIN = LAYOUT_ALONE
#: a rival whose anchor at one of the best's lies under a cover is not beaten there, short of a CLEAR score, when
#: its page fits the frame within this of the best's or better (as an undecided screen, harness.vision.rivals; with
#: part of the best under a cover too, a rival whose anchor there is not clearly other and whose page fits better:
#: contest._undecided): settings' "system" fitted calendar's "agenda" in Open Sans at 0.79 at the working level
#: (0.58 closer), its page 0.63, while calendar's page fitted 0.98 and a finger lay over its title anchor
HIDDEN_RIVAL_MARGIN = 0.02
#: a page fitting the frame within this of the best's, when the best is seen by its layout alone, is a rival
LAYOUT_GAP = 0.05
#: a screen is taken on its score alone this far above the runner-up (harness.vision.verdict: how it scores)
ACCEPT_MARGIN = 0.05
#: every stand-in in view of a screen named by its stand-ins correlates at least this well, closer ...
STANDIN_SCORE = 0.85
#: ... and a rival's stand-in this much less rules the rival out
STANDIN_MARGIN = 0.1


def in_window(layouts: tuple[np.ndarray, np.ndarray], level: float | None) -> np.ndarray:
    """Which pages are rivals of a screen whose page fits the frame at ``level`` (None: not compared): every page
    not ruled out by its layout, i.e. all but those that, where enough of them shows, fit clearly worse
    (``LAYOUT_RIVAL``) or are laid out otherwise (``LAYOUT_OTHER``)."""
    layout, shown = layouts
    floor = LAYOUT_OTHER if level is None else max(LAYOUT_OTHER, level - LAYOUT_RIVAL)
    return ~((shown >= LAYOUT_MIN_SHOWN) & ~(layout >= floor))


def decide(frame: "Frame", lib: "Compiled", verdicts: list[Verdict], undecided: list[tuple[str, float]],
           layouts: tuple[np.ndarray, np.ndarray, np.ndarray], templates: dict[tuple[str, int], np.ndarray],
           stand_in_templates: dict[tuple[str, str], np.ndarray]) -> tuple[Verdict | None, str]:
    """The screen the frame may be named, of ``verdicts`` (best first) or told by its title or stand-ins, or None
    with why (empty: the guess says it): the one rule every name passes (see the module's docstring).
    ``undecided``: screens a cover leaves undecided with their layouts (harness.vision.rivals); ``layouts``:
    every screen's layout score, share compared and share of contrast compared."""
    best = verdicts[0]
    second = verdicts[1].score if len(verdicts) > 1 else 0.0
    stand_ins = _StandIns(frame, lib, layouts, templates, stand_in_templates)
    if not best.enough or best.score < best.need:
        # the closer look left none standing, but the working level found pages that fit: another renderer
        # (a font not recorded) draws every glyph otherwise; the title the frame says decides, read by OCR
        return by_title(frame, [v for v in verdicts if v.enough and v.working >= ACCEPT_SCORE]) or stand_ins(), ""
    if (rival := undecided_rival(best, undecided)) is not None:  # a screen under the cover fits as well
        told = stand_ins()
        return told, "" if told else (f"{rival[0]}'s anchors are hidden and its page fits as well "
                                      f"(layout {rival[1]:.2f} vs {best.layout:.2f})")
    if best.score - second < ACCEPT_MARGIN:  # alike in layout: titles of other words
        close = [v for v in verdicts if v.enough and v.score >= ACCEPT_SCORE and v.score > best.score - ACCEPT_MARGIN]
        return (by_title(frame, close) if len(close) > 1 else None) or stand_ins(), ""
    # taken on what its anchors and page say: they must tell it from the screens nearest it
    alike = rivals(frame, lib, best, templates, layouts[:2])
    if alike and title_says(frame, best.compiled.definition, alike) is not True:
        told = stand_ins()  # its buttons below a cover may tell it
        return told, "" if told else ("not told apart from " + ", ".join(d.name for d in alike[:3])
                                      + (" ..." if len(alike) > 3 else "") + " (no title read says it alone)")
    return best, ""


class _StandIns:
    """The screen a covered frame shows, told by its stand-ins (see the module's docstring), or None: asked for
    only when the anchors and the title have not named one."""

    def __init__(self, frame: "Frame", lib: "Compiled", layouts: tuple[np.ndarray, np.ndarray, np.ndarray],
                 templates: dict[tuple[str, int], np.ndarray], stand_in_templates: dict[tuple[str, str], np.ndarray]
                 ) -> None:
        self.frame, self.lib, self.layouts = frame, lib, layouts
        self.templates, self.stand_in_templates = templates, stand_in_templates

    def __call__(self) -> Verdict | None:
        frame, lib = self.frame, self.lib
        if not frame.any_cover:
            return None
        layout, shown, content = self.layouts
        fits = np.isfinite(layout) & (shown >= LAYOUT_MIN_SHOWN) & (content >= LAYOUT_CONTENT)
        if not fits.any() or float(np.max(np.where(fits, layout, -1.0))) < LAYOUT_ALONE:
            return None
        said: dict[int, tuple[Verdict, bool, list[float]]] = {}

        def say(i: int) -> tuple[Verdict, bool, list[float]]:
            if i not in said:
                v = check(frame, lib.screens[i], (layout[i], shown[i], content[i]), self.templates)
                said[i] = (v, v._anchors()[1], stand_in_scores(frame, lib.screens[i], self.stand_in_templates))
            return said[i]

        # only a page that fits as a layout alone must may be named by its stand-ins: exactly one of them
        taken = [i for i in np.flatnonzero(fits & (layout >= LAYOUT_ALONE)) if lib.screens[i].layout_weight >= 1.0
                 and (s := say(i))[1] and s[2] and min(s[2]) >= STANDIN_SCORE]
        if len(taken) != 1:
            return None
        best = int(taken[0])
        bar = min(said[best][2]) - STANDIN_MARGIN
        for i in np.flatnonzero(in_window(self.layouts[:2], float(layout[best]))):
            if i == best or not (s := say(int(i)))[1]:
                continue  # an anchor in view disagrees: ruled out
            if s[0]._anchors()[0] is None and not np.isfinite(layout[i]):
                continue  # the frame shows nothing of it (no layout compared, its anchors hidden): no rival
            if s[0].visible.any() and not closer(frame, s[0], self.templates)._anchors()[1]:
                continue  # an anchor in view disagrees where words differ (FINE_SCALE, as at the best's anchors)
            if not (s[2] and min(s[2]) < bar):
                return None  # neither its anchors nor its stand-ins rule it out
        return said[best][0]


def rivals(frame: "Frame", lib: "Compiled", best: Verdict, templates: dict[tuple[str, int], np.ndarray],
           layouts: tuple[np.ndarray, np.ndarray]) -> list["ScreenDefinition"]:
    """Screens ``best`` is not told apart from by what the frame shows of it: empty when it is; else every page
    that fits as well (seen by its layout alone), or the first rival found at one of its anchors."""
    c = best.compiled
    layout, shown = layouts
    if best._anchors()[0] is None:  # seen by its layout alone
        near = (shown >= LAYOUT_MIN_SHOWN) & (layout >= best.layout - LAYOUT_GAP)
        index = lib.place_of[id(c)]
        twins = {k for k, r in lib.layout.alike(frame, HIDDEN, index).items() if r >= LAYOUT_TWIN}
        return [lib.screens[k].definition for k in sorted(twins | set(np.flatnonzero(near).tolist())) if k != index]
    looked = bool(np.isfinite(best.working))  # its scores are FINE_SCALE scores already
    # the nearest rivals are pages that fit the frame about as well as the best's or better; a screen whose page
    # fits clearly worse (where enough of it shows) is told apart by its layout already
    window = in_window(layouts, best.layout if best.has_layout else None)
    for i, others in enumerate(c.rivals):
        if not others or not np.isfinite(best.scores[i]) or c.weights[i] < 1.0 or c.definition.anchors[i].structure:
            continue
        others = [(k, j) for k, j in others if window[k] and not lib.screens[k].definition.anchors[j].structure]
        if not others:
            continue
        t = c.anchors[i]
        working, (px, py) = float(best.found[i]), best.places[i]  # as check found it, before a closer look
        # the page's offset where this anchor was found: its rivals are looked for with it, a pixel or two around
        dx, dy = px - t.x, py - t.expected_y(frame.view_height, c.rec_view_h, frame.working_scale)
        # the cheap look first: a rival no nearer at the working level is no nearer closer, so the closer
        # comparisons (the costly part on a clean frame) run only for rivals that could change the answer
        near, undecided = [], None
        for k, j in others:
            score, x, y, part = _near(frame, lib.screens[k], j, dx, dy)
            if _undecided(best, score, layout[k], shown[k]):
                if undecided is None or layout[k] > layout[undecided]:
                    undecided = k  # not beaten here however near, and its page fits as well (the best fitting)
            elif score >= working - WORKING_GAP:
                near.append((lib.screens[k], j, x, y, part))
        if not near and undecided is None:
            continue
        mine = best.scores[i] if looked else fine_score(frame, c, i, best.places[i], best.part(i), templates)
        if mine is None or mine >= CLEAR:
            continue
        if undecided is not None:  # only a CLEAR anchor, or the title, tells the best from it
            return [lib.screens[undecided].definition]
        fine = _Window(frame, t, best.places[i])
        for o, j, x, y, part in near:
            theirs = fine.score(o, j, (x, y), templates) if part is None else None
            if theirs is None:
                theirs = fine_score(frame, o, j, (x, y), part, templates)
            if theirs is not None and theirs >= mine - MARGIN:
                return [o.definition]
    return []


def _undecided(best: Verdict, score: float, layout: float, shown: float) -> bool:
    """Whether a rival whose anchor at one of the best's scores ``score`` there (working level), and whose page
    fits the frame at ``layout`` over a share ``shown`` of it, is left undecided there: its anchor is under the
    cover (NaN) and its page fits as well as the best's (within HIDDEN_RIVAL_MARGIN) or better; or part of the best
    is under the cover too, the rival's anchor there is not clearly other (ANCHOR_FLOOR or more), and its page fits
    better. With part of a page hidden, one anchor in view may be all that tells it, and in another font a page's
    own paragraph may read lower than a rival's (wrong_password's in Cantarell under a finger and the volume
    overlay: 0.68 closer, unknown_account's 0.73 there; their pages 0.84 and 0.81). A best with no page compared
    (the phone's data: a list) fits by its score, as for an undecided screen (harness.vision.rivals): in Open Sans
    settings_applications' "applications" fitted restore_backup's "restore from a" at 0.71, a finger over the
    rest of that title, while restore_backup's page fitted 0.94."""
    if not (shown >= LAYOUT_MIN_SHOWN and np.isfinite(layout)):
        return False
    if np.isnan(score):
        return bool(layout >= (best.layout if best.has_layout else best.score) - HIDDEN_RIVAL_MARGIN)
    return bool(best.has_layout and best.shown < 1.0 and score >= ANCHOR_FLOOR and layout > best.layout)


def title_covered(frame: "Frame", d: "ScreenDefinition") -> bool:
    """Whether a cover lies over part of ``d``'s title region: OCR would read what it leaves of the words (a finger
    over "signing in" leaves "sign in", another screen's title), so the title cannot tell screens apart."""
    if d.title is None:
        return True
    r, k = d.title.region, frame.working_scale / d.scale
    return frame.covered_share(round(r.x * k), round(r.y * k), max(1, round(r.w * k)), max(1, round(r.h * k))) > HIDDEN


def title_says(frame: "Frame", best: "ScreenDefinition", alike: list["ScreenDefinition"]) -> bool | None:
    """Whether the frame's title, read by OCR, says ``best``'s title and none of ``alike``'s; None without OCR."""
    from harness.vision.labels import tell_apart
    from harness.vision.ocr import OcrUnavailable

    if best.title is None or title_covered(frame, best):
        return False
    try:
        return tell_apart(frame.image, [best, *alike], frame.scale) == best.name
    except OcrUnavailable:
        return None


def by_title(frame: "Frame", close: list[Verdict]) -> Verdict | None:
    """Of screens ``close``, the one whose title the frame says, read by OCR (only here, only the title regions);
    None when one of them records no title, OCR is not installed, or not exactly one title is said."""
    if not close or any(v.compiled.definition.title is None or title_covered(frame, v.compiled.definition)
                        for v in close):
        return None
    from harness.vision.labels import tell_apart
    from harness.vision.ocr import OcrUnavailable

    try:
        name = tell_apart(frame.image, [v.compiled.definition for v in close], frame.scale)
    except OcrUnavailable:
        return None
    return next((v for v in close if v.compiled.definition.name == name), None)


def _near(frame: "Frame", c: "Screen", j: int, dx: int, dy: int) -> tuple[float, int, int, Part | None]:
    """Anchor ``j`` of ``c`` at the working level, looked for NEAR working pixels around its place moved by the
    page's offset (dx, dy); as anchor_score (its whole search) where a cover lies over it."""
    t = c.anchors[j]
    x, y = t.x + dx, t.expected_y(frame.view_height, c.rec_view_h, frame.working_scale) + dy
    if frame.covered_share(x - NEAR, y - NEAR, t.w + 2 * NEAR, t.h + 2 * NEAR) > 0.0:
        return anchor_score(frame, t, c.rec_view_h)
    return (*frame.correlate(t.ink, t.std, x - NEAR, y - NEAR, x + NEAR, y + NEAR), None)


class _Window:
    """The frame's ink at FINE_SCALE around one anchor's place, made once for all its rivals (each a window's
    slice, not a resize of its own)."""

    REACH = 24  # view pixels around the anchor's box: rivals at its place (SHARED_NEAR_VIEW) and the search pad

    def __init__(self, frame: "Frame", t: "Template", place: tuple[int, int]) -> None:
        ws = frame.working_scale
        self.x0, self.y0 = place[0] / ws - self.REACH, place[1] / ws - self.REACH
        self.ink = frame.detail(self.x0, self.y0, t.w / ws + 2 * self.REACH, t.h / ws + 2 * self.REACH, FINE_SCALE)
        self.ws = ws

    def score(self, c: "Screen", i: int, place: tuple[int, int], templates: dict[tuple[str, int], np.ndarray]
              ) -> float | None:
        """As fine_score for anchor ``i`` of ``c`` found at ``place`` (working pixels); None off this window, or
        for an icon (compared smoothed: fine_score)."""
        if c.definition.anchors[i].icon:
            return None
        tpl = fine_template(c, i, templates)
        th, tw = tpl.shape
        pad = FINE_PAD_VIEW * FINE_SCALE
        x0 = round((place[0] / self.ws - self.x0) * FINE_SCALE - pad)
        y0 = round((place[1] / self.ws - self.y0) * FINE_SCALE - pad)
        x1, y1 = x0 + tw + round(2 * pad), y0 + th + round(2 * pad)
        if x0 < 0 or y0 < 0 or x1 > self.ink.shape[1] or y1 > self.ink.shape[0] or float(tpl.std()) < 1e-6:
            return None
        return float(np.nan_to_num(cv2.matchTemplate(self.ink[y0:y1, x0:x1], tpl, cv2.TM_CCOEFF_NORMED)).max())
