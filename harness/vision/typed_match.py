"""Whether OCR's readings of a field say the text typed, or a typing error of it.

A robot's typing goes wrong in few ways: a key the phone missed (a letter lost), a key it took twice (a letter
doubled), a neighbouring key hit (a letter swapped for one next to it on the keyboard). OCR of a blurred camera
frame goes wrong in many (i/l/1, rn/m, an '@' read as B or S, a glyph lost at the field's edge), but not the same
way in every reading: each reading of the field (another scale, another cut between fill and ink) errs
elsewhere. So the readings are not compared with the typed text alone but with it *and every single typing
error of it*: the typed text is taken only when, summed over all readings, it explains them better than each
of its typing errors by a margin. A field a key was lost from is then explained best by that error (every
reading shows it), while a correct field is explained best by the text typed (each reading's own slips point
to different errors). Any larger error is closer to some single error than to the typed text, so it fails too.

Costs are an edit distance where OCR's confusions (letters alike in a sans face) cost less than other
substitutions; they weigh the evidence, they cannot bias it: the text typed and an error of it are compared
on the same readings. Small marks (full stop, comma, quotes) are left out here: OCR drops and invents them;
``field_marks`` counts them from the ink instead. Case and spaces are left out too (shift and space are not
told apart by OCR through a camera).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from harness.vision.keyboard import PAGES

#: Marks a few pixels across that OCR drops or invents: not compared here (``field_marks`` counts them).
SMALL_MARKS = ".,'`\""
#: Groups of characters OCR mixes up in a field's sans face through a camera's blur (after casefolding).
CONFUSED_GROUPS = ("il1|!jtf[]", "o0aec", "s5$8b@&gq9eaz", "nh", "vy", "rtf", "z2", "g9q", "e3")
#: Runs of characters OCR reads as one glyph (or one glyph as a run), both ways.
CONFUSED_RUNS = (("rn", "m"), ("ri", "n"), ("ni", "m"), ("cl", "d"), ("ii", "u"), ("vv", "w"), ("ir", "w"),
                 ("li", "h"), ("in", "m"), ("iv", "w"), ("ri", "w"))
#: What an OCR confusion costs, against 1 for any other substitution, a lost or an extra character.
CONFUSION_COST = 0.25
#: How much better the typed text must explain the readings than each single typing error of it: the summed
#: edit costs' difference, as a share of what it would be were every reading for the typed text (the readings
#: for it less those against, when each reading is for one or the other).
MARGIN = 0.3
#: The best reading must be within this share of the typed text's length of it (else nothing was read).
MOST_OFF = 0.35

_SUB: dict[tuple[str, str], float] = {}
for _group in CONFUSED_GROUPS:
    for _a in _group:
        for _b in _group:
            if _a != _b:
                _SUB[(_a, _b)] = CONFUSION_COST
_RUNS = {(a, b) for a, b in CONFUSED_RUNS} | {(b, a) for a, b in CONFUSED_RUNS}


def fold(text: str) -> str:
    """``text`` as compared: case, spaces and small marks aside."""
    return "".join(ch for ch in text.casefold() if not ch.isspace() and ch not in SMALL_MARKS)


def _table(read: str, typed: str) -> list[list[float]]:
    """The edit-cost table from ``typed`` (rows) to ``read`` (columns): OCR's confusions cheaper than other
    edits, a run of typed read as another run (rn as m, or m as rn) one confusion."""
    n, m = len(typed), len(read)
    # the runs of typed ending at each i
    ending = [[(len(ta), rb) for ta, rb in _RUNS if i >= len(ta) and typed[i - len(ta):i] == ta] for i in range(n + 1)]
    prev = [float(j) for j in range(m + 1)]
    rows = [prev]
    for i in range(1, n + 1):
        a, runs = typed[i - 1], ending[i]
        row = [float(i)] + [0.0] * m
        for j in range(1, m + 1):
            b = read[j - 1]
            best = min(prev[j] + 1.0, row[j - 1] + 1.0, prev[j - 1] + (0.0 if a == b else _SUB.get((a, b), 1.0)))
            for la, rb in runs:
                lb = len(rb)
                if j >= lb and read[j - lb:j] == rb:
                    best = min(best, rows[i - la][j - lb] + CONFUSION_COST)
            row[j] = best
        rows.append(row)
        prev = row
    return rows


@lru_cache(maxsize=65536)
def cost(read: str, typed: str) -> float:
    """The edit cost from ``typed`` to ``read`` (both folded): OCR's confusions cheaper than other edits."""
    return _table(read, typed)[len(typed)][len(read)]


def _unlike(read: str, typed: str) -> set[int]:
    """The places of ``typed`` where a cheapest way to ``read`` does not simply match it (and the place after
    a character read that is not there): where a typing error could hide."""
    rows = _table(read, typed)
    i, j, places = len(typed), len(read), set()
    while i > 0 or j > 0:
        here = rows[i][j]
        if i > 0 and j > 0 and typed[i - 1] == read[j - 1] and rows[i - 1][j - 1] == here:
            i, j = i - 1, j - 1
            continue
        places.add(max(0, i - 1))
        if i > 0 and j > 0 and rows[i - 1][j - 1] + _SUB.get((typed[i - 1], read[j - 1]), 1.0) == here:
            i, j = i - 1, j - 1
        elif i > 0 and rows[i - 1][j] + 1.0 == here:
            i -= 1
        elif j > 0 and rows[i][j - 1] + 1.0 == here:
            places.add(min(i, len(typed) - 1))
            j -= 1
        else:  # a run read as another run
            for ta, rb in _RUNS:
                la, lb = len(ta), len(rb)
                if (i >= la and j >= lb and typed[i - la:i] == ta and read[j - lb:j] == rb
                        and abs(rows[i - la][j - lb] + CONFUSION_COST - here) < 1e-9):
                    places.update(range(i - la, i))
                    i, j = i - la, j - lb
                    break
            else:  # cannot happen: every cell comes from one of the above
                i, j = max(0, i - 1), max(0, j - 1)
    return places


#: Where each row's first key sits, in key widths from the left, per page (the 8.1 keyboard's rows are
#: staggered: the second letter row half a key in, the third after the shift key).
ROW_OFFSETS = {"letters": (0.0, 0.5, 1.5), "symbols": (0.0, 0.0, 1.0)}
#: Keys whose centres lie at most this many key widths apart are neighbours (beside, or diagonally below).
NEAR_KEYS = 1.2


def _neighbours() -> dict[str, str]:
    """Each key's neighbours on the keyboard's pages (the keys a tap off by up to a key's width lands on)."""
    near: dict[str, set[str]] = {}
    for page, rows in PAGES.items():
        places = {ch: (ROW_OFFSETS[page][r] + i, float(r)) for r, row in enumerate(rows) for i, ch in enumerate(row)}
        for ch, (x, y) in places.items():
            near.setdefault(ch, set()).update(o for o, (ox, oy) in places.items()
                                              if o != ch and (ox - x) ** 2 + (oy - y) ** 2 <= NEAR_KEYS ** 2)
    return {ch: "".join(sorted(others)) for ch, others in near.items()}


NEIGHBOURS = _neighbours()


def typing_errors(typed: str, at: Iterable[int] | None = None) -> set[str]:
    """Every text one typing error away from ``typed`` (folded): a key lost, a key taken twice, a neighbour's
    key hit instead (at the places ``at``, else anywhere); ``typed`` itself is not among them."""
    out: set[str] = set()
    for i in sorted(set(range(len(typed)) if at is None else at) & set(range(len(typed)))):
        ch = typed[i]
        out.add(typed[:i] + typed[i + 1:])
        out.add(typed[:i] + ch + typed[i:])
        for other in NEIGHBOURS.get(ch, ""):
            out.add(typed[:i] + other + typed[i + 1:])
    out.discard(typed)
    return out


@dataclass(frozen=True)
class Verdict:
    """What the readings say: ``shown`` when the typed text explains them best by the margin; else the
    error that came closest (``rival``) and the reading nearest the typed text."""

    shown: bool
    reading: str
    rival: str = ""
    advantage: float = 0.0  # the typed text's over its best-explaining typing error (-1..1, ``MARGIN``)


def judge(readings: Sequence[str], typed: str) -> Verdict:
    """Whether ``readings`` (OCR of one field, several ways) show ``typed`` rather than a typing error of it."""
    want = fold(typed)
    if not want or not readings:
        return Verdict(False, readings[0] if readings else "")
    weights = Counter(fold(r) for r in readings)  # ways often agree: each distinct reading costed once
    own = {r: cost(r, want) for r in weights}
    nearest = min(readings, key=lambda r: own[fold(r)])
    if own[fold(nearest)] > MOST_OFF * len(want):
        return Verdict(False, nearest)
    total = sum(own[r] * n for r, n in weights.items())
    # an error where every reading simply matches the typed text is explained worse by each of them (by a
    # confusion's cost at least): only errors at the places some reading does not match are weighed
    places = {p + d for r in weights for p in _unlike(r, want) for d in (-1, 0, 1)}
    rival, share = "", 1.0
    for error in typing_errors(want, places):
        apart = cost(error, want)  # what one reading for the typed text and against the error is worth
        s = (sum(cost(r, error) * n for r, n in weights.items()) - total) / (len(readings) * apart)
        if s < share:
            rival, share = error, s
    return Verdict(share >= MARGIN, nearest, rival, share)

