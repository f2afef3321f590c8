"""The small marks of a field's line (full stops, commas), counted from its ink rather than read by OCR.

OCR drops and invents a full stop through a camera's blur (``outlookcom``, ``outlook. com``), so a key for one
that the phone missed or took twice is not seen in what OCR reads. Its ink is seen: a full stop is a blob far
smaller than a letter, on the line's baseline, apart from its neighbours (a comma too, reaching below it). The
ink is cut at several levels between the fill and the darkest ink (blur joins a mark to a neighbouring letter
at a light cut, a faint mark fades at a dark one); the marks agree with the text typed when a cut shows as many
as it holds, and none shows more (an extra mark is a key taken twice).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

#: Where ink is cut from the fill, as shares of the way from the fill to the darkest ink (blur pales a small
#: mark: a dark cut loses it, a light one joins it to its neighbour).
LEVELS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
#: Marks found at different cuts less than this share of the ink height apart are one (two full stops side by
#: side stand some 0.2 apart).
APART = 0.12
#: Above a mark (higher than this share of the ink height over the baseline, where every letter has ink) its
#: columns are no darker than this share of the mark's darkest pixel.
ABOVE, ALONE = 0.35, 0.5
#: A mark is at most this share of the line's ink height tall and wide (a letter's x-height is some 0.5).
MARK_SIZE = 0.3
#: A mark's bottom lies within this share of the ink height of the baseline (a comma's a little below it).
ON_BASELINE = 0.18
#: Marks counted: a full stop and a comma (the keyboard's bottom row).
MARKS = ".,"


def expected_marks(typed: str) -> int:
    """How many small marks ``typed`` shows (full stops and commas)."""
    return sum(typed.count(ch) for ch in MARKS)


def _baseline(line: Any) -> float | None:
    """The row the line's letters stand on: the median bottom of the blobs of ink as tall as letters."""
    grey, fill, darkest, tall = line.grey, line.fill, line.darkest, max(1, line.tall)
    ink = (grey < fill - 0.5 * (fill - darkest)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:count, cv2.CC_STAT_HEIGHT]
    bottoms = stats[1:count, cv2.CC_STAT_TOP] + heights
    letters = heights >= 0.4 * tall
    return float(np.median(bottoms[letters])) if letters.any() else None


def marks_on_line(line: Any, share: float) -> list[float]:
    """Where small marks stand (x of each) on the baseline of ``line`` (``field_text.Line``) with its ink cut at
    ``share`` of the way from the fill to the darkest ink: blobs small as a mark whose bottom is on the baseline
    and that stand alone in their columns (above a mark the columns are as light as the fill; the foot of a
    letter, cut off from it at a dark cut, has its letter above it)."""
    grey, fill, darkest, tall = line.grey, line.fill, line.darkest, max(1, line.tall)
    base = _baseline(line)
    if base is None:
        return []
    span = max(1.0, fill - darkest)
    dark = np.clip((fill - grey.astype(np.float32)) / span, 0, 1)
    above = dark[:max(1, round(base - ABOVE * tall))]
    ink = (dark > share).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    least = max(2, round(0.04 * tall)) ** 2  # noise is smaller than a mark
    size = MARK_SIZE * tall
    marks: list[float] = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if area < least or w > size or h > size or abs(y + h - base) > ON_BASELINE * tall:
            continue
        mid = slice(x + w // 3, x + w - w // 3)  # its middle columns: blur spreads a neighbour's ink to its edges
        if float(above[:, mid].max()) < ALONE * float(dark[y:y + h, x:x + w].max()):
            marks.append(x + w / 2)
    return marks


def count_marks(line: Any) -> int:
    """How many small marks ``line`` shows: those found at any cut, one per place (a mark is found apart from
    its neighbours at one cut or another, as blur and light have it)."""
    places = sorted(x for share in LEVELS for x in marks_on_line(line, share))
    count, last = 0, -1e9
    for x in places:
        if x - last > APART * max(1, line.tall):
            count += 1
        last = x
    return count


def marks_agree(line: Any, typed: str, readings: list[str] | None = None) -> bool:
    """Whether ``line`` shows as many small marks as ``typed`` holds. Fewer in its ink may be a mark blur joined
    to a letter or glare paled: then most of OCR's ``readings`` must show as many as ``typed`` (a lost mark is
    not read: on camera frames OCR read a field's full stop in at most 1 of 9 ways when it was not there).
    More in its ink is a mark too many; so is a mark more in most readings (two full stops side by side blur
    into one blob of ink, but OCR reads two)."""
    want, seen = expected_marks(typed), count_marks(line)
    shown = [sum(r.count(ch) for ch in MARKS) for r in readings or []]
    if sum(1 for n in shown if n > want) * 2 > len(shown):
        return False
    if seen >= want:
        return seen == want
    return sum(1 for n in shown if n == want) * 2 > len(shown)
