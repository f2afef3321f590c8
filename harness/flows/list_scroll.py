"""Following a list from one screenful to the next: how far a swipe moved it, and which entries two screenfuls share.

A swipe's length on the glass is not how far the list moves (a phone's
scrolling has its own slop and momentum), so the move is measured from the
two frames' pixels: the lower part of the list before the swipe, found again
in the list after it. Entries at the same place in the list, once that move is
taken off, are the same entries, whatever OCR made of them; their readings are
merged, each line taken from the screenful that showed it clearest (through a
camera a glare spot washes out the lines under it, and a line under the glare
on one screenful is away from it on the next). Where the move cannot be
measured surely (a list too bare to match, a move past the whole band), the
overlap is found from the readings alone (``new_entries``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.vision.definitions import Box
from harness.vision.ocr import normalise, similarity

#: Two readings of an entry's main line at least this alike (ocr.similarity) may be of one line, in an overlap of
#: screenfuls where half the entries or more are read alike (``new_entries``).
NEAR_READING = 0.6
#: The part of the list before a swipe looked for after it, as shares of the list's height from its top: low in the
#: list (what a swipe up keeps on the glass), a few entries high (one entry alone may repeat elsewhere).
BAND = (0.6, 0.95)
#: A move is sure when the band matches there this well (normalised correlation of the frames' fine detail) ...
SURE_MATCH = 0.6
#: ... and this much better than anywhere else more than MATCH_APART view pixels away (another entry like it).
MATCH_MARGIN = 0.2
MATCH_APART = 15
#: The fine detail matched: the frame less its own blur this wide (view pixels); glare and uneven light go with it.
DETAIL_SIGMA = 6.0
#: Two entries are at the same place in the list when their tops are this near once the move is taken off (view
#: pixels: a camera's rectified frames measured a move within 6 device pixels of the screenshots').
SAME_PLACE = 15


@dataclass(frozen=True)
class Entry:
    """One list entry as read: its main line, its dim line ('' when it has none) and where it is (device pixels).
    ``ink`` is how far each line's ink stood from the page (0..255; 0 for a line cut by the list's edge or not
    there): how clearly the screenful showed it."""

    title: str
    sub: str
    box: Box
    ink: tuple[float, float] = (0.0, 0.0)

    @property
    def centre(self) -> tuple[int, int]:
        return self.box.x + self.box.w // 2, self.box.y + self.box.h // 2


def scrolled_by(before: np.ndarray, after: np.ndarray, scale: float) -> int | None:
    """How many device pixels a list's content moved up between two frames of its region (RGB, same size), or None
    when the pixels do not say surely: the band of ``before`` (BAND) found in ``after`` by its fine detail."""
    import cv2

    if before.shape != after.shape or before.shape[0] < 4:
        return None
    k = max(1.0, scale)
    size = (max(1, round(before.shape[1] / k)), max(1, round(before.shape[0] / k)))
    detail = []
    for frame in (before, after):
        grey = cv2.resize(cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY), size,
                          interpolation=cv2.INTER_AREA).astype(np.float32)
        detail.append(grey - cv2.GaussianBlur(grey, (0, 0), DETAIL_SIGMA))
    top, bottom = round(size[1] * BAND[0]), round(size[1] * BAND[1])
    band = detail[0][top:bottom]
    if band.shape[0] < 4 or float(band.std()) < 2.0:   # a bare band: nothing to find again
        return None
    scores = cv2.matchTemplate(detail[1], band, cv2.TM_CCOEFF_NORMED).ravel()
    at = int(scores.argmax())
    best = float(scores[at])
    elsewhere = np.concatenate([scores[:max(0, at - MATCH_APART)], scores[at + MATCH_APART + 1:]])
    if best < SURE_MATCH or (elsewhere.size and best - float(elsewhere.max()) < MATCH_MARGIN):
        return None
    return round((top - at) * before.shape[0] / size[1])


def following(seen: list[Entry], previous: list[Entry], page: list[Entry], moved: int | None,
              scale: float) -> list[Entry]:
    """The list read so far (``seen``, ending with the entries of ``previous``, the screenful before) with ``page``
    after it, the list having moved up ``moved`` device pixels in between (None: not measured)."""
    shared = _shared(previous, page, moved, scale) if moved is not None else None
    if shared is None or shared > len(seen):
        return seen + new_entries(seen, page)
    kept = seen[:len(seen) - shared]
    return kept + [_clearer(a, b) for a, b in zip(seen[len(seen) - shared:], page[:shared])] + page[shared:]


def _shared(previous: list[Entry], page: list[Entry], moved: int, scale: float) -> int | None:
    """How many entries ``page`` begins with that ended ``previous`` (by place), or None when places and readings
    disagree: each entry of ``page`` that was inside ``previous``'s span must be at the place of one there, in
    order, ending it; and at least half of them must have main lines read alike. (Both lists run top to bottom,
    so the entries inside that span are the first of ``page``.)"""
    if not previous:
        return 0
    near = SAME_PLACE * scale
    last = previous[-1].box.y
    inside = [e for e in page if e.box.y + moved <= last + near]
    k = len(inside)
    if k > len(previous):
        return None
    pairs = list(zip(previous[len(previous) - k:], inside))
    if any(abs(a.box.y - (b.box.y + moved)) > near for a, b in pairs):
        return None
    if 2 * sum(_named_alike(a, b) for a, b in pairs) < k:
        return None
    return k


def _clearer(a: Entry, b: Entry) -> Entry:
    """One entry read on two screenfuls: each line as the screenful that showed it clearer read it."""
    title = a.title if a.ink[0] > b.ink[0] else b.title
    sub = a.sub if a.ink[1] > b.ink[1] else b.sub
    return Entry(title, sub, b.box, (max(a.ink[0], b.ink[0]), max(a.ink[1], b.ink[1])))


def _alike(a: str, b: str) -> bool:
    """Two readings of one line: alike, or one holds the other (OCR may drop a word it is unsure of)."""
    na, nb = normalise(a), normalise(b)
    return similarity(na, nb) >= 0.8 or bool(na and nb and (na in nb or nb in na))


def _same(a: Entry, b: Entry) -> bool:
    """Two readings of one entry (the screenful before and after a swipe overlap at a list's end)."""
    return _alike(a.title, b.title) and _alike(a.sub, b.sub)


def _named_alike(a: Entry, b: Entry) -> bool:
    """Two readings of one entry's main line (a sender, a name: bright, and read surer than the dim line below)."""
    return _alike(a.title, b.title) or similarity(a.title, b.title) >= NEAR_READING


def new_entries(seen: list[Entry], page: list[Entry]) -> list[Entry]:
    """``page`` after what ``seen`` already holds, by the readings alone: the last screenful of a list overlaps the
    one before it. An overlap is of entries read alike; or of more than two whose main lines are all read alike and
    at least half of them whole: through a camera glare may wash out a dim line on one of the two screenfuls ("New
    achievements unlocked", then "°° i locked"), and Outlook's inbox was listed twice over from its fourth mail on."""
    for k in range(min(len(seen), len(page)), 0, -1):
        pairs = list(zip(seen[-k:], page[:k]))
        alike = sum(_same(a, b) for a, b in pairs)
        if alike == k or (k > 2 and 2 * alike >= k and all(_named_alike(a, b) for a, b in pairs)):
            return page[k:]
    return page
