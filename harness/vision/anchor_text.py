"""Anchors confirmed by reading them: under a cover, a text anchor another font draws too differently to match.

Drawn in another font (or by a real phone's renderer), a paragraph anchor
correlates 0.57-0.66 with its recorded crop: enough while the screen's other
anchors show, too little when a banner or the volume overlay hides them and
what is left must agree (``HIDDEN_FLOOR``). Its words have not changed: a
definition records them (``text``, read from the recorded crop by
``harness.lab.anchor_texts``), and such an anchor is read by OCR where the
frame shows it, only its region, only for a covered frame the pixels left
unknown (readings are cached by the region's pixels, ``harness.vision.ocr``).
It is confirmed when the words read say its text (``SAME_TEXT``) and every
other text the library records less well by ``TEXT_MARGIN`` (screens of one
family differ in a word: "... to use Xbox Music." and "... Xbox Video."); it
then scores ``TEXT_SCORE``, as an anchor that agrees clearly, and weighs as the
screen's own (``Verdict.read``); a screen that records other words at that
place is ruled out, and one whose words there the reading says is brought in
(it may not have been among the best by its pixels). The one rule
(``harness.vision.contest.decide``) judges the frame again with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from harness.vision.compiled import SHARED_NEAR_VIEW
from harness.vision.contest import CLEAR
from harness.vision.definitions import Box
from harness.vision.ocr import SAME_TEXT, normalise, read_region, similarity
from harness.vision.verdict import HIDDEN_FLOOR, Verdict, check, closer

if TYPE_CHECKING:
    from harness.vision.compiled import Compiled
    from harness.vision.features import Frame

#: the score of an anchor its words confirm: an anchor that agrees clearly (rivals there are told apart by the
#: words, not by the pixels)
TEXT_SCORE = CLEAR
#: the words read must say the anchor's text this much better than any other text the library records
TEXT_MARGIN = 0.1
#: ... or, for a text alike (a word apart), this share of the way from the other's likeness to its own
TEXT_WAY = 0.5
#: view pixels read around the place the anchor was found (the working level's rounding)
READ_PAD_VIEW = 3
#: screens of the shortlist whose anchors may be read (best first)
READ_SCREENS = 3
#: a recorded crop's words are its text only when OCR is this sure of each (0..100) and they hold 3 letters
RECORD_CONFIDENCE = 80.0


def crop_text(crop: np.ndarray, scale: float) -> str:
    """The words a recorded anchor crop shows, its lines joined by spaces, as OCR reads them; "" when it shows
    none for certain (an icon, a glyph OCR doubts): such an anchor is matched by its pixels only."""
    reading = read_region(crop, None, scale=scale, block=True, min_confidence=0.0)
    if not reading.words or min(w.confidence for w in reading.words) < RECORD_CONFIDENCE:
        return ""
    text = " ".join(reading.lines)
    return text if sum(ch.isalpha() for ch in text) >= 3 else ""


def _region(frame: "Frame", lib: "Compiled", screen: int, i: int, place: tuple[int, int]) -> Box | None:
    """Device pixels of anchor ``i`` of a screen found at ``place`` (working pixels), padded; None when a cover
    touches it (its words would be read in part: a finger over "signing in" leaves "sign in")."""
    t, ws = lib.screens[screen].anchors[i], frame.working_scale
    pad = max(1, round(READ_PAD_VIEW * ws))
    if frame.covered_share(place[0] - pad, place[1] - pad, t.w + 2 * pad, t.h + 2 * pad) > 0.0:
        return None
    k = frame.scale / ws
    x0, y0 = max(0, round((place[0] - pad) * k)), max(0, round((place[1] - pad) * k))
    x1, y1 = min(frame.width, round((place[0] + t.w + pad) * k)), min(frame.height, round((place[1] + t.h + pad) * k))
    return Box(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def says(read: str, text: str, others: set[str]) -> bool:
    """Whether words ``read`` say ``text`` (SAME_TEXT) and none of ``others``: each says it TEXT_MARGIN less, or,
    for a text that differs from ``text`` in a word or two, ``TEXT_WAY`` of the way from it to ``text`` (where the
    words differ is all that tells "... Xbox Music." from "... Xbox Video."; the rest reads alike for both)."""
    mine = similarity(read, text)
    return mine >= SAME_TEXT and all(
        similarity(read, o) <= mine - min(TEXT_MARGIN, TEXT_WAY * (1.0 - similarity(text, o))) for o in others)


def _there(lib: "Compiled", screen: int, i: int) -> list[tuple[int, str]]:
    """Every anchor with words at the place of anchor ``i`` of ``screen`` (its own included): (screen index, its
    words normalised)."""
    t, near = lib.screens[screen].anchors[i], round(SHARED_NEAR_VIEW * lib.working_scale)
    return [(k, normalise(a.text)) for k, c in enumerate(lib.screens) for b, a in zip(c.anchors, c.definition.anchors)
            if a.text and abs(b.x - t.x) <= near and abs(b.y - t.y) <= near and b.align == t.align]


def _said(read: str, texts: set[str]) -> str | None:
    """The one text of ``texts`` that words ``read`` say (``says``), if one does."""
    best = max(texts, key=lambda t: similarity(read, t), default=None)
    return best if best is not None and says(read, best, texts - {best}) else None


def confirmed(frame: "Frame", lib: "Compiled", verdicts: list[Verdict], templates: dict[tuple[str, int], np.ndarray],
              layouts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[list[Verdict], set[str]] | None:
    """``verdicts`` again, best first, with each visible text anchor of the best few that agrees too little by its
    pixels (below HIDDEN_FLOOR) scored TEXT_SCORE where OCR reads its words (see the module's docstring), and the
    screens the words read rule out: those with other words recorded at that place. Words read that say another
    screen's anchor there bring that screen in (checked as the shortlist's were: ``layouts`` as ``check`` takes
    them, every screen's), to be read as well. None when no anchor was confirmed (OCR not installed: none is)."""
    from harness.vision.ocr import OcrUnavailable

    texts = {normalise(a.text) for c in lib.screens for a in c.definition.anchors if a.text}
    out, changed, ruled_out = list(verdicts), False, set[str]()
    queue, named = list(range(min(READ_SCREENS, len(out)))), {v.compiled.definition.name for v in out}
    while queue:
        n = queue.pop(0)
        v = out[n]
        anchors = v.compiled.definition.anchors
        if not any(a.text and v.part(i) is None and np.isfinite(v.scores[i]) for i, a in enumerate(anchors)):
            continue
        # every score at FINE_SCALE: a title that agrees at the working level may not closer (another font)
        looked = v if np.isfinite(v.working) else closer(frame, v, templates)
        scores, confirms = looked.scores.copy(), list(v.read)
        index = lib.place_of[id(v.compiled)]
        for i in np.flatnonzero(scores < HIDDEN_FLOOR):
            region = _region(frame, lib, index, i, v.places[i]) if anchors[i].text and v.part(i) is None else None
            if region is None:
                continue
            try:
                read = " ".join(read_region(frame.image, region, scale=frame.scale, block=True).lines)
            except OcrUnavailable:
                return None
            said, there = _said(read, texts), _there(lib, index, int(i))
            if said is None:
                continue
            if said == normalise(anchors[i].text):
                scores[i], changed = TEXT_SCORE, True
                confirms.append(int(i))
                ruled_out |= {lib.screens[k].definition.name for k, words in there if words != said}
            for k in sorted({k for k, words in there if words == said}):  # the screens whose words these are
                if (name := lib.screens[k].definition.name) not in named and len(out) < len(verdicts) + READ_SCREENS:
                    named.add(name)
                    out.append(check(frame, lib.screens[k], (layouts[0][k], layouts[1][k], layouts[2][k]), templates))
                    queue.append(len(out) - 1)
        if not np.array_equal(scores, looked.scores, equal_nan=True):
            out[n] = Verdict(v.compiled, scores, v.layout, v.layout_shown, v.places, looked.working, v.parts,
                             v.layout_content, tuple(confirms), v.found)
    if not changed:
        return None
    # a screen whose anchor's place reads another's words is not the one shown
    kept = [v for v in out if v.compiled.definition.name not in ruled_out]
    return (sorted(kept, key=lambda v: v.score, reverse=True), ruled_out) if kept else None
