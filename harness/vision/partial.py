"""The visible part of an anchor a cover lies over in part: a banner over the top rows of a title, a finger over
one end of a line. Its uncovered rows (or columns) are compared, and only where they stay clear of the cover.

An anchor's region holds blank margin around its words, so a banner whose edge reaches into that margin (or a page
shifted a few pixels under it) covers more than the few per cent that leave an anchor whole; counting such an
anchor as hidden throws away the words in full view below the edge. The part compared must hold most of the
anchor's ink (PART_MIN): a sliver of glyph bottoms says little about which words they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.vision.compiled import Template
from harness.vision.features import Frame

PART_MIN = 0.4     # share of an anchor's ink its uncovered part must hold to be compared
PART_EDGE = 1      # working pixels kept between the part compared and a cover (a cover's own edge is ink)


@dataclass(frozen=True)
class Part:
    """Rows [r0, r1) and columns [c0, c1) of an anchor's template that are compared, the share of its ink they
    hold, and the box its top-left corner is searched in (working pixels, inclusive)."""

    r0: int
    r1: int
    c0: int
    c1: int
    share: float
    box: tuple[int, int, int, int]


def _runs(free: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], free.view(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _along(free: np.ndarray, at: int, size: int, m: int, ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """Of the runs of free lines (rows or columns) over a search span that starts m before the anchor's place
    ``at`` (``free`` indexed from there), the one keeping most of the anchor's ink (``ink``: per line of the
    anchor; a finger over the blank end of a wide title leaves its words on the other side, the wider run): the
    anchor's lines [a, b) it keeps, and the range [lo, hi] of the part's start that keeps it within the run and m
    of its place."""
    best, kept = None, -1.0
    for s, e in _runs(free):
        s, e = s + PART_EDGE * (s > 0), e - PART_EDGE * (e < free.size)
        a, b = max(s, m) - m, min(e, m + size) - m
        if b > a and (held := float(ink[a:b].sum())) > kept:
            best, kept = (a, b, s, e), held
    if best is None:
        return None
    a, b, s, e = best
    lo, hi = max(at + a - m, at - m + s), min(at + a + m, at - m + e - (b - a))
    return (a, b, lo, hi) if hi >= lo else None


def visible_part(frame: Frame, t: Template, x: int, y: int, m: int) -> Part | None:
    """The part of template ``t`` (expected at x, y, searched m around it) that no cover touches anywhere it may
    be found: its uncovered rows across, or columns down, whichever holds more ink; None when neither holds
    PART_MIN of it."""
    fh, fw = frame.covered.shape
    area = np.ones((t.h + 2 * m, t.w + 2 * m), bool)  # the search span; off the frame counts as covered
    ya, xa = y - m, x - m
    sy0, sx0, sy1, sx1 = max(0, ya), max(0, xa), min(fh, ya + area.shape[0]), min(fw, xa + area.shape[1])
    if sy1 > sy0 and sx1 > sx0:
        area[sy0 - ya:sy1 - ya, sx0 - xa:sx1 - xa] = frame.covered[sy0:sy1, sx0:sx1]
    total = float(t.ink.sum())
    if total <= 0:
        return None
    options = []
    rows = _along(~area.any(axis=1), y, t.h, m, t.ink.sum(axis=1))
    if rows is not None:
        r0, r1, lo, hi = rows
        options.append(Part(r0, r1, 0, t.w, float(t.ink[r0:r1].sum()) / total, (x - m, lo, x + m, hi)))
    cols = _along(~area.any(axis=0), x, t.w, m, t.ink.sum(axis=0))
    if cols is not None:
        c0, c1, lo, hi = cols
        options.append(Part(0, t.h, c0, c1, float(t.ink[:, c0:c1].sum()) / total, (lo, y - m, hi, y + m)))
    best = max(options, key=lambda p: p.share, default=None)
    return best if best is not None and best.share >= PART_MIN else None


def match_part(frame: Frame, t: Template, part: Part) -> tuple[float, int, int]:
    """The part's best correlation in its box, and where the whole anchor's top-left corner then lies."""
    ink = np.ascontiguousarray(t.ink[part.r0:part.r1, part.c0:part.c1])
    score, px, py = frame.correlate(ink, float(ink.std()), *part.box)
    return score, px - part.c0, py - part.r0
