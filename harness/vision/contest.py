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
those rivals' titles. A screen seen by its layout alone (every anchor under a
cover) is taken only when no other screen's page fits the frame within
``LAYOUT_GAP`` of it and none is laid out alike where the frame shows the page
(``LAYOUT_TWIN``, the two recorded layouts compared there): two pages laid out
alike are told apart by their words, and those are under the cover. What is not told apart is unknown, never a
guess: the 0-wrong rule outranks recall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from harness.vision.partial import Part
from harness.vision.verdict import (FINE_PAD_VIEW, FINE_SCALE, HIDDEN, LAYOUT_ALONE, LAYOUT_MIN_SHOWN, LAYOUT_OTHER, Verdict,
                                    anchor_score, fine_score, fine_template)

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
#: a page fitting the frame within this of the best's, when the best is seen by its layout alone, is a rival
LAYOUT_GAP = 0.05


def rivals(frame: "Frame", lib: "Compiled", best: Verdict, templates: dict[tuple[str, int], np.ndarray],
           layouts: tuple[np.ndarray, np.ndarray]) -> list["ScreenDefinition"]:
    """Screens ``best`` is not told apart from by what the frame shows of it: empty when it is; else every page
    that fits as well (seen by its layout alone), or the first rival found at one of its anchors."""
    c = best.compiled
    layout, shown = layouts
    if best._anchors()[0] is None:  # seen by its layout alone
        near = (shown >= LAYOUT_MIN_SHOWN) & (layout >= best.layout - LAYOUT_GAP)
        index = lib.screens.index(c)
        twins = {k for k, r in lib.layout.alike(frame, HIDDEN, index).items() if r >= LAYOUT_TWIN}
        return [lib.screens[k].definition for k in sorted(twins | set(np.flatnonzero(near).tolist())) if k != index]
    looked = bool(np.isfinite(best.working))  # its scores are FINE_SCALE scores already
    # the nearest rivals are pages that fit the frame about as well as the best's or better; a screen whose page
    # fits clearly worse (where enough of it shows) is told apart by its layout already
    floor = max(LAYOUT_OTHER, best.layout - LAYOUT_RIVAL) if best.has_layout else LAYOUT_OTHER
    ruled_out = (shown >= LAYOUT_MIN_SHOWN) & ~(layout >= floor)
    for i, others in enumerate(c.rivals):
        if not others or not np.isfinite(best.scores[i]) or c.weights[i] < 1.0 or c.definition.anchors[i].structure:
            continue
        others = [(k, j) for k, j in others if not ruled_out[k] and not lib.screens[k].definition.anchors[j].structure]
        if not others:
            continue
        t = c.anchors[i]
        mine = best.scores[i] if looked else fine_score(frame, c, i, best.places[i], best.part(i), templates)
        if mine is None or mine >= CLEAR:
            continue
        window = _Window(frame, t, best.places[i])
        working, px, py, _ = anchor_score(frame, t, c.rec_view_h)
        # the page's offset where this anchor was found: its rivals are looked for with it, a pixel or two around
        dx, dy = px - t.x, py - t.expected_y(frame.view_height, c.rec_view_h, frame.working_scale)
        for k, j in others:
            o = lib.screens[k]
            score, x, y, part = _near(frame, o, j, dx, dy)
            if not score >= working - WORKING_GAP:  # (NaN: hidden) no nearer at the working level: no nearer closer
                continue
            theirs = window.score(o, j, (x, y), templates) if part is None else None
            if theirs is None:
                theirs = fine_score(frame, o, j, (x, y), part, templates)
            if theirs is not None and theirs >= mine - MARGIN:
                return [o.definition]
    return []


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
        """As fine_score for anchor ``i`` of ``c`` found at ``place`` (working pixels); None off this window."""
        tpl = fine_template(c, i, templates)
        th, tw = tpl.shape
        pad = FINE_PAD_VIEW * FINE_SCALE
        x0 = round((place[0] / self.ws - self.x0) * FINE_SCALE - pad)
        y0 = round((place[1] / self.ws - self.y0) * FINE_SCALE - pad)
        x1, y1 = x0 + tw + round(2 * pad), y0 + th + round(2 * pad)
        if x0 < 0 or y0 < 0 or x1 > self.ink.shape[1] or y1 > self.ink.shape[0] or float(tpl.std()) < 1e-6:
            return None
        return float(np.nan_to_num(cv2.matchTemplate(self.ink[y0:y1, x0:x1], tpl, cv2.TM_CCOEFF_NORMED)).max())
