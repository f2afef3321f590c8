"""The keys of an on-screen keyboard found from the gaps between them, for frames where no one grey level is
the keyboard's band: a camera's uneven light, glare, blur and noise.

A keyboard's keys stand in rows parted by thin gaps of the band's colour: a gap between two rows runs the
whole width, a gap between two keys the height of its row. Along such a line the gap is a valley (darker
than the keys on both sides) however the light falls, and the median along the line keeps it while a
label's strokes, the stylus's tip or a glare spot, each covering a small part of the line, fall out. So rows
are found as three evenly spaced valleys of the median across the width, and each row's keys as the valleys
of the median along the row's height; the outer keys of a row end where the band begins. Keys lighter than
the band (an 8.1 keyboard in both themes) and, by the same code on the inverted frame, darker ones.

Glare can saturate light keys and their band alike over most of the keyboard (a light theme under a lamp):
there no gap is left, but the keys' labels are (ink is far darker than a gap). So the layout the gaps that
remain place is also checked by the labels: a key whose label sits inside it where the layout puts it counts,
and with most keys labelled a keyboard stands on a few gaps, or on two row gaps and the third inferred.

Works in work pixels (the frame at 480 across, as ``harness.vision.keyboard``): a box is (x, y, w, h).
"""

from __future__ import annotations

import cv2
import numpy as np

RowBoxes = list[list[tuple[int, int, int, int]]]

#: Wider than a gap between keys or rows (with a camera's blur), narrower than a key (work pixels).
VALLEY_SPAN = 15
#: The pitch of a keyboard's rows may be this short or long (work pixels; an 8.1 keyboard's is 74).
ROW_PITCH = (45, 110)
#: Rows of one keyboard are evenly spaced to this share of their pitch.
EVEN = 0.15
#: A gap between keys is a valley at every height of its row, a label's strokes make one at some: this
#: percentile of a column's valley depth over the row's height is high at a gap only.
KEY_GAP_PERCENTILE = 25
#: A gap between rows runs the whole width, where glare has not washed it out: this percentile across it.
ROW_GAP_PERCENTILE = 85
#: A valley counts when it is at least this share of the deepest one along the line, and this deep.
VALLEY_SHARE, MIN_VALLEY = 0.35, 1.5
#: ... and this many times the row's typical column (noise, a photo: valleys everywhere, none a gap).
ABOVE_FLOOR = 3.0
#: Share of all the gaps, and of each row's, that must be found where the layout puts them (glare can wash
#: out the gaps over two thirds of the keyboard, and all but one of a middle row's; the OCR of its rows
#: still says which page it is). Each row needs one gap at least.
MATCHED, ROW_MATCHED = 0.3, 0.1
#: A gap's width, as a share of a key's pitch (8.1: 6 of 48 view pixels).
GAP_SHARE = 0.125
#: Where glare saturates the light keys and the band alike, their gaps are gone but the keys' labels stay (ink
#: is darker than any gap): a key shows its label where the layout puts the key when ink this many grey levels
#: off the key's fill lies inside it, this share of its width and height clear of its sides ...
LABEL_INK, LABEL_MARGIN = 30, 0.12
#: ... and such a keyboard stands when this share of its keys show one (and this share of a row's, for a row
#: with no gap found where the layout puts one).
LABELLED = 0.6


def _peaks(profile: np.ndarray, least: float, apart: int) -> list[int]:
    """Indices of the local maxima of ``profile`` over ``least``, at least ``apart`` from a higher one."""
    order = np.argsort(profile)[::-1]
    taken: list[int] = []
    for i in order:
        if profile[i] < least:
            break
        if all(abs(int(i) - t) >= apart for t in taken):
            taken.append(int(i))
    return sorted(taken)


def _smooth(profile: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(profile.astype(np.float32).reshape(1, -1), (0, 0), 1.2).ravel()


def _row_gaps(across: np.ndarray, y0: int, y1: int, pitch: float) -> list[int]:
    """Where the valleys along the row between lines y0 and y1 are: the gaps between its keys, and maybe a
    valley a label or the band's edge makes (the layout's fit leaves those out)."""
    part = across[y0 + (y1 - y0) // 10:y1 - (y1 - y0) // 10]
    profile = _smooth(np.percentile(part, KEY_GAP_PERCENTILE, axis=0))
    edge = VALLEY_SPAN // 2 + 1
    profile[:edge] = profile[-edge:] = 0  # a closing next to the frame's edge sees half a valley
    floor = float(np.median(profile))  # a key's fill is flat: along a row of keys most columns are no valley
    least = max(MIN_VALLEY, VALLEY_SHARE * float(profile.max()), ABOVE_FLOOR * floor)
    return _peaks(profile, least, apart=max(8, round(0.4 * pitch)))


#: Where each row's gaps lie, in key widths from the keyboard's middle, on each page of an 8.1 keyboard
#: (rows of ten one-wide keys, nine, shift and backspace one and a half wide, a space bar five wide).
LAYOUT_GAPS = {
    "letters": ((-4, -3, -2, -1, 0, 1, 2, 3, 4), (-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5),
                (-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5), (-3.5, -2.5, 2.5, 3.5)),
    "symbols": ((-4, -3, -2, -1, 0, 1, 2, 3, 4), (-4, -3, -2, -1, 0, 1, 2, 3, 4),
                (-4, -3, -2, -1, 0, 1, 2, 3), (-3.5, -2.5, 2.5, 3.5)),
}
#: A gap found this close to where the layout puts one (in key widths) is that gap.
FIT = 0.15


def _fit(found: list[list[int]], width: int) -> tuple[float, float] | None:
    """(middle, key width) of the keyboard from the gaps found in its top and bottom rows (the same on every
    page), starting from a keyboard as wide as the screen (ten keys) and centred on it, as 8.1's is."""
    middle, unit = width / 2, width / 10
    places = (*LAYOUT_GAPS["letters"][0], *LAYOUT_GAPS["letters"][3])
    for _ in range(3):  # give each gap found its place in the layout, then solve x = middle + place * unit
        pairs = [(p, x) for row, row_places in ((found[0], places[:9]), (found[3], places[9:])) for x in row
                 for p in row_places if abs(x - (middle + p * unit)) <= 2 * FIT * unit]
        if len({p for p, _ in pairs}) < 3:
            return None
        unit, middle = (float(v) for v in np.polyfit([p for p, _ in pairs], [x for _, x in pairs], 1))
        if not 0.05 * width <= unit <= 0.15 * width:
            return None
    return middle, unit


def _matched(gaps: list[int], places: tuple[float, ...], middle: float, unit: float) -> int:
    return sum(1 for p in places if any(abs(g - (middle + p * unit)) <= FIT * unit for g in gaps))


def _laid_out(gaps: tuple[float, ...], middle: float, unit: float, y: int, h: int) -> list[tuple[int, int, int, int]]:
    """The boxes of one row's keys: between its gaps, its outer keys out to the keyboard's edges (5 keys wide
    to either side of the middle), less half a gap each side."""
    edges = [-5.0, *gaps, 5.0]
    trim = GAP_SHARE * unit / 2
    return [(round(middle + a * unit + trim), y, round((b - a) * unit - 2 * trim), h) for a, b in zip(edges, edges[1:])]


def _labelled(grey: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether the key ``box`` shows a label: ink off the key's fill, all of it inside the key's middle (a line
    of text crossing the box, or a stylus, reaches its sides). Lines along a whole side (a gap that glare left
    standing, the band) are not ink."""
    x, y, w, h = box
    crop = grey[max(0, y):y + h, max(0, x):x + w].astype(np.int16)
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return False
    ink = np.abs(crop - int(np.median(crop))) > LABEL_INK
    ink[:, ink.mean(axis=0) > 0.6] = False
    ink[ink.mean(axis=1) > 0.6, :] = False
    ys, xs = np.nonzero(ink)
    if xs.size < 4:
        return False
    mx, my = round(LABEL_MARGIN * crop.shape[1]), round(LABEL_MARGIN * crop.shape[0])
    return bool(xs.min() >= mx and xs.max() < crop.shape[1] - mx and ys.min() >= my and ys.max() < crop.shape[0] - my)


def _evenly_spaced(lines: list[int], profile: np.ndarray) -> list[tuple[int, int, int, bool]]:
    """Triples of lines a row pitch apart (and whether one of them was inferred), the lowest first (the keyboard
    is at the bottom of the screen), the deeper valleys first among triples ending on one line; then triples
    with one line inferred from the other two, where glare washed a whole row gap out (the keys' labels must
    then show the keyboard)."""
    triples, inferred = [], []
    for c in lines:
        for b in lines:
            step = c - b
            if ROW_PITCH[0] <= step <= ROW_PITCH[1]:
                triples += [(a, b, c, False) for a in lines if abs((b - a) - step) <= EVEN * step]
                inferred += [(b - step, b, c, True), (b, c, c + step, True)]
            elif 2 * ROW_PITCH[0] <= step <= 2 * ROW_PITCH[1]:
                inferred.append((b, (b + c) // 2, c, True))
    inferred = [t for t in inferred if 0 <= t[0] and t[2] < len(profile) and t[:3] not in {u[:3] for u in triples}]

    def order(t: tuple[int, int, int, bool]) -> tuple[int, float]:
        return -t[2], -float(profile[list(t[:3])].sum())

    return sorted(triples, key=order) + sorted(set(inferred), key=order)


def rows_by_grid(grey: np.ndarray, top: int, lighter: bool = True) -> RowBoxes:
    """Candidate rows of keys (four, top to bottom) below line ``top`` of ``grey`` (work pixels), from the
    lowest three evenly spaced row gaps that part rows of keys; [] when there are none."""
    part = grey[top:] if lighter else 255 - grey[top:]
    part = cv2.GaussianBlur(part, (0, 0), 1.0)
    down = cv2.morphologyEx(part, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, VALLEY_SPAN)))
    along = cv2.morphologyEx(part, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (VALLEY_SPAN, 1)))
    row_valleys = cv2.subtract(down, part)
    key_valleys = cv2.subtract(along, part).astype(np.float32)
    profile = _smooth(np.percentile(row_valleys, ROW_GAP_PERCENTILE, axis=1))
    floor = float(np.median(profile))  # most lines cross keys or the page, not a gap (noise: valleys everywhere)
    lines = _peaks(profile, max(MIN_VALLEY, ABOVE_FLOOR * floor), apart=ROW_PITCH[0] // 2)
    for a, b, c, inferred in _evenly_spaced(lines, profile):
        pitch = (c - a) / 2
        gap = max(2, round(0.08 * pitch))
        spans = [(round(a - pitch) + gap, a - gap), (a + gap, b - gap), (b + gap, c - gap),
                 (c + gap, round(c + pitch) - gap)]
        if spans[0][0] < 0 or spans[-1][1] > part.shape[0]:
            continue
        found = [_row_gaps(key_valleys, y0, y1, pitch) for y0, y1 in spans]
        fitted = _fit(found, part.shape[1])
        if fitted is None:
            continue
        middle, unit = fitted
        laid = {page: [_laid_out(places, middle, unit, y0, y1 - y0 + 1) for places, (y0, y1) in zip(layout, spans)]
                for page, layout in LAYOUT_GAPS.items()}
        labels = {page: [sum(_labelled(grey[top:], b) for b in row) for row in rows] for page, rows in laid.items()}

        def evidence(page: str) -> int:  # gaps and labels where the page's layout puts them, in its middle rows
            return sum(_matched(g, p, middle, unit) for g, p in zip(found[1:3], LAYOUT_GAPS[page][1:3])) + \
                sum(labels[page][1:3])

        best = max(LAYOUT_GAPS, key=evidence)
        layout, rows, labelled = LAYOUT_GAPS[best], laid[best], labels[best]
        matched = [_matched(g, p, middle, unit) for g, p in zip(found, layout)]
        by_gaps = sum(matched) >= MATCHED * sum(map(len, layout))
        by_labels = sum(labelled) >= LABELLED * sum(map(len, rows))
        bare = any(m < ROW_MATCHED * len(p) and n < LABELLED * len(r)  # a row with neither gaps nor labels
                   for m, p, n, r in zip(matched, layout, labelled, rows))
        if bare or not (by_labels or (by_gaps and not inferred)):
            continue
        return [[(x, y + top, w, h) for x, y, w, h in row] for row in rows]
    return []
