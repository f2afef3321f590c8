"""One screen against one frame: each anchor looked for near where it was recorded, the page's layout, and the
score that weighs them (``Verdict``), at the working level and, for screens alike there, closer (``closer``).

Anchors that do not agree are not counted against a screen when the rest
agree (something may cover them: a banner, a finger, a volume overlay), but
a screen must show most of what identifies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np

from harness.vision.compiled import Screen, Template
from harness.vision.features import Frame, crop_ink
from harness.vision.partial import Part, match_part, visible_part

ANCHOR_MARGIN_VIEW = 13     # view pixels searched around an anchor's recorded place
ANCHOR_FLOOR = 0.40         # every visible anchor must correlate at least this well ...
HIDDEN = 0.05               # (an anchor with more than this share under a cover is not visible)
HIDDEN_FLOOR = 0.75         # ... (every anchor, when some of the screen's anchors are hidden) ...
MIN_SHOWN = 0.5             # ... at least this share of a screen's anchor area must be visible ...
ACCEPT_SCORE = 0.70         # ... and its score at least this ...
THIN_EXTRA = 0.05           # ... (this much more for a page that is mostly the phone's data: less of it is compared)
FINE_SCALE = 0.75           # pixels per view pixel where anchors of screens alike in layout are compared
FINE_PAD_VIEW = 6           # ... around the place the working level found (and the working level's rounding)
#: fine pixels of Gaussian smoothing on both sides when an icon anchor (Anchor.icon) is compared closer: a camera
#: frame's sync ring (1 px drawn, 3 px seen) scored 0.46-0.59 sharp and 0.72-0.84 smoothed, while no other screen's
#: frame scored above 0.22 at its place either way (lumia-520 and 930, both themes, four benches). A camera that
#: draws the ring bolder (closer, softer) needs more: each smoothing is tried and the best kept. Over 6 profiles,
#: both themes, 4 benches: own ring lowest 0.55 -> 0.66 with 2 px tried too, any other page's highest 0.28 -> 0.35
ICON_BLURS = (1.0, 2.0)
LAYOUT_OTHER = 0.5          # a layout correlating less than this over the cells not covered rules a screen out
LAYOUT_ALONE = 0.95         # ... and at least this well when it decides alone (the anchors are hidden)
LAYOUT_MIN_SHOWN = 0.5      # share of a screen's layout cells that must be uncovered for the layout to count
LAYOUT_CONTENT = 0.1        # ... and share of its layout's contrast they must hold when it decides alone (a page
                            # left nearly blank by a cover fits any other nearly blank page: 0.96, 0.076 held)


@dataclass
class Verdict:
    """One screen against one frame: each anchor's score (NaN where a cover such as a banner or a finger hides
    it) and the whole page's layout correlation over the cells not covered (NaN: the screen has no layout)."""

    compiled: Screen
    scores: np.ndarray
    layout: float = float("nan")
    layout_shown: float = 0.0
    places: list[tuple[int, int]] = field(default_factory=list)  # where each anchor was found (working pixels)
    working: float = float("nan")  # the score at the working level, before a closer look (closer) replaced it
    parts: list[Part | None] = field(default_factory=list)  # the part compared of an anchor a cover lies over in part
    layout_content: float = 1.0  # share of the layout's contrast in the cells compared (Layouts.scores)
    #: anchors confirmed by their words read (harness.vision.anchor_text): they say which screen of a family this
    #: is, so they weigh as its own even where another screen's anchor looks alike (a paragraph a word apart)
    read: tuple[int, ...] = ()
    #: each anchor's score at the working level where it was found (``places``), as ``check`` found it before any
    #: closer look replaced it: the rivals at an anchor are compared with it there (harness.vision.contest)
    found: np.ndarray = field(default_factory=lambda: np.empty(0))

    @cached_property
    def weights(self) -> np.ndarray:
        """Each anchor's weight (Screen.weights), a full one for an anchor its words confirm."""
        weights = self.compiled.weights.copy()
        weights[list(self.read)] = 1.0
        return weights

    def part(self, i: int) -> Part | None:
        return self.parts[i] if i < len(self.parts) else None

    @property
    def in_part(self) -> bool:
        """Whether an anchor was compared by its visible part only (the words' shapes, not all of them: a closer
        look tells "add an account" from "email+accounts" there)."""
        return any(p is not None for p in self.parts)

    @cached_property
    def seen_share(self) -> np.ndarray:
        """How much of each anchor was compared: 1 whole, its part's share of ink, 0 hidden."""
        return np.array([0.0 if np.isnan(s) else (p.share if (p := self.part(i)) else 1.0)
                         for i, s in enumerate(self.scores)])

    @cached_property
    def visible(self) -> np.ndarray:
        return ~np.isnan(self.scores)

    @cached_property
    def shown(self) -> float:
        return float((self.compiled.areas * self.seen_share).sum() / self.compiled.areas.sum())

    @property
    def failed(self) -> list[int]:
        return [i for i, s in enumerate(self.scores) if not s >= ANCHOR_FLOOR]

    def _anchors(self) -> tuple[float | None, bool]:
        """The anchors' say: mean and weakest visible anchor (the weakest counts double: screens share headers,
        never every anchor), or None when too few are visible; and False when a visible one disagrees."""
        visible = self.visible
        seen = self.scores[visible]
        # two anchors at least, or one of the screen's own (not shared with other screens)
        if seen.size < min(2, self.scores.size) and not (self.weights[visible] >= 1.0).any():
            return None, True
        # the less of a screen is visible, the more what is visible must agree
        floor = ANCHOR_FLOOR if (self.seen_share >= 1.0).all() else HIDDEN_FLOOR
        if seen.min() < floor:
            return float(min(seen.min(), ANCHOR_FLOOR)), False
        # anchors other screens share (a header) say little about which of them this is
        weights = self.weights[visible]
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
            alone = self.has_layout and self.layout >= LAYOUT_ALONE and self.layout_content >= LAYOUT_CONTENT
            return self.layout if alone and weight >= 1.0 else 0.0
        seen = min(1.0, self.shown / MIN_SHOWN)
        if not self.has_layout:
            return anchors * seen
        # text of the phone's state (an address) may reflow the page below it: the layout weighs, it does not veto
        return (seen * anchors + weight * self.layout) / (seen + weight)

    @property
    def enough(self) -> bool:
        """Enough of the screen visible to decide: most of its anchors, or most of its layout."""
        return self.shown >= MIN_SHOWN or (self.has_layout and self.compiled.layout_weight >= 1.0)

    @property
    def need(self) -> float:
        """The score this screen must reach: a page that is mostly the phone's data (its layout weighs less) must
        show more of itself to be taken."""
        return ACCEPT_SCORE + (THIN_EXTRA if self.compiled.layout_weight < 1.0 else 0.0)


def check(frame: Frame, c: Screen, layout: tuple[float, float, float] = (float("nan"), 0.0, 1.0),
          templates: dict[tuple[str, int], np.ndarray] | None = None) -> Verdict:
    """Each anchor's best score near its place: of its visible part when a cover lies over it in part
    (harness.vision.partial); NaN when a cover hides too much of it. When a cover hides some, a whole anchor
    that neither agrees nor clearly differs at the working level (a small one: an application bar's button) is
    looked at closer (FINE_SCALE, ``templates`` as in ``closer``): there the stricter floor applies. An icon
    (Anchor.icon) not clearly agreeing at the working level is always looked at closer: at 17 working pixels a
    ring is mostly ink whatever it shows, and through a camera it scored at the floor on its own page."""
    scores = np.empty(len(c.anchors))
    places = []
    parts: list[Part | None] = []
    for i, t in enumerate(c.anchors):
        scores[i], px, py, part = anchor_score(frame, t, c.rec_view_h)
        places.append((px, py))
        parts.append(part)
    found = scores.copy()
    if templates is not None:
        hidden = bool(np.isnan(scores).any())
        for i in np.flatnonzero(scores < HIDDEN_FLOOR):  # (NaN: hidden, not looked at)
            icon = c.definition.anchors[i].icon  # shrunk to the working level, a thin ring is a blot: always closer
            if parts[i] is None and (icon or (hidden and scores[i] >= ANCHOR_FLOOR)):
                scores[i] = _fine(frame, c, i, places[i], None, templates, scores[i])
    return Verdict(c, scores, layout[0], layout[1], places=places, parts=parts, layout_content=layout[2],
                   found=found)


def anchor_score(frame: Frame, t: Template, rec_view_h: float) -> tuple[float, int, int, Part | None]:
    """One anchor's best score near its place, where it was found, and the part compared when a cover lies over
    it in part; NaN when a cover hides too much of it (or its part neither agrees nor clearly differs). Found
    once per frame: screens of a family share an anchor (one Template, harness.vision.compiled), and the
    shortlist holds several of a family."""
    key = (id(t), rec_view_h)
    known = frame.anchors_found.get(key)
    if known is not None and known[0] is t:
        return known[1]
    found = _anchor_score(frame, t, rec_view_h)
    frame.anchors_found[key] = (t, found)  # the template kept with it: its id is not another's while kept
    return found


def _anchor_score(frame: Frame, t: Template, rec_view_h: float) -> tuple[float, int, int, Part | None]:
    ws = frame.working_scale
    m = max(2, round(ANCHOR_MARGIN_VIEW * ws))
    y = t.expected_y(frame.view_height, rec_view_h, ws)
    covered = frame.covered_share(t.x, y, t.w, t.h)
    if covered <= HIDDEN:
        return (*frame.correlate(t.ink, t.std, t.x - m, y - m, t.x + m, y + m), None)
    if covered < 1.0 and (part := visible_part(frame, t, t.x, y, m)) is not None:  # (all covered: none)
        score, px, py = match_part(frame, t, part)
        if ANCHOR_FLOOR <= score < HIDDEN_FLOOR:  # a part that neither agrees nor clearly differs says nothing
            return float("nan"), px, py, None
        return score, px, py, part
    return float("nan"), t.x, y, None


def closer(frame: Frame, v: Verdict, templates: dict[tuple[str, int], np.ndarray]) -> Verdict:
    """The verdict again with each visible anchor checked at FINE_SCALE where the working level found it: two
    screens alike in layout (titles of other words) differ there. ``templates`` keeps the anchors' crops at
    FINE_SCALE across frames (screen name, anchor index)."""
    scores = v.scores.copy()
    for i, place in enumerate(v.places):
        if not np.isnan(scores[i]):
            scores[i] = _fine(frame, v.compiled, i, place, v.part(i), templates, scores[i])
    return Verdict(v.compiled, scores, v.layout, v.layout_shown, v.places, v.score, v.parts, v.layout_content,
                   found=v.found)


def _fine(frame: Frame, c: Screen, i: int, place: tuple[int, int], part: Part | None,
          templates: dict[tuple[str, int], np.ndarray], working: float) -> float:
    """Anchor ``i``'s score at FINE_SCALE around ``place`` (where the working level found it; only ``part`` of it
    when a cover lies over the rest); ``working`` where no closer look is possible (a list's rows, the edge)."""
    if c.definition.anchors[i].structure:  # a list's rows: no words to compare
        return working
    pad = FINE_PAD_VIEW
    tpl = fine_template(c, i, templates)
    ws = frame.working_scale
    x, y = place
    if part is not None:  # only the part compared at the working level, cut in proportion
        t = c.anchors[i]
        fy0, fy1 = round(part.r0 / t.h * tpl.shape[0]), round(part.r1 / t.h * tpl.shape[0])
        fx0, fx1 = round(part.c0 / t.w * tpl.shape[1]), round(part.c1 / t.w * tpl.shape[1])
        tpl = np.ascontiguousarray(tpl[fy0:fy1, fx0:fx1])
        x, y = x + part.c0, y + part.r0
    th, tw = tpl.shape
    window = frame.detail(x / ws - pad, y / ws - pad, tw / FINE_SCALE + 2 * pad, th / FINE_SCALE + 2 * pad, FINE_SCALE)
    if window.shape[0] < th or window.shape[1] < tw or float(tpl.std()) < 1e-6:
        return working  # at the frame's edge: the working level's score stands
    if c.definition.anchors[i].icon:  # a stroke's width is the renderer's and the lens's: both smoothed alike
        return max(_match(*(cv2.GaussianBlur(a, (0, 0), blur) for a in (window, tpl))) for blur in ICON_BLURS)
    return _match(window, tpl)


def _match(window: np.ndarray, tpl: np.ndarray) -> float:
    """The best normalised correlation of ``tpl`` anywhere in ``window``."""
    return float(np.nan_to_num(cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)).max())


def fine_template(c: Screen, i: int, templates: dict[tuple[str, int], np.ndarray]) -> np.ndarray:
    """Anchor ``i`` of ``c`` at FINE_SCALE, cut once and kept in ``templates`` (screen name, anchor index)."""
    key = (c.definition.name, i)
    if key not in templates:
        d = c.definition
        templates[key] = crop_ink(d.anchors[i].image, d.scale, FINE_SCALE)
    return templates[key]


def fine_score(frame: Frame, c: Screen, i: int, place: tuple[int, int], part: Part | None,
               templates: dict[tuple[str, int], np.ndarray]) -> float | None:
    """As ``_fine``, but None where no closer look is possible (the frame's edge, a list's rows)."""
    score = _fine(frame, c, i, place, part, templates, float("nan"))
    return None if np.isnan(score) else score
