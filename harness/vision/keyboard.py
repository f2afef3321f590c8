"""Finding a Windows Phone 8.1 on-screen keyboard in a frame, and the keys that type a text, by vision and OCR.

A handset reached through a camera and a tapping robot has no text input
but its keyboard: the robot types by tapping keys. Nothing here knows where
a keyboard is drawn: its keys are found as a stack of rows of filled
rectangles set apart from the keyboard's band (any resolution, either
theme), or, on a rectified camera frame where the band is no one grey
level, from the gaps between them (``harness.vision.keyboard_grid``); which
page it shows (letters, shifted letters, symbols) is read from the keys'
labels with OCR. What is
fixed is what every 8.1 phone's English keyboard has: the rows of each page
and where shift, backspace, the page key (``&123``/``abcd``), space and
enter sit among the keys found.

``keyboard_shown(frame)`` is the quick, OCR-free test (a flow closes the
keyboard when it covers the button it needs); ``find_keyboard(frame)`` gives a
``Keyboard`` whose ``taps_for(char)`` and ``plan(text)`` say which keys to tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

import cv2
import numpy as np

from harness.vision.definitions import Box
from harness.vision.keyboard_grid import rows_by_grid

#: The two pages of an 8.1 phone's English keyboard: the keys of the rows above the bottom one, left to right
#: (the letter page's third row sits between shift and backspace; the symbol page's before backspace).
PAGES = {"letters": ("qwertyuiop", "asdfghjkl", "zxcvbnm"), "symbols": ("1234567890", "@#$%&*-+()", "=!'\":;/?")}
#: The bottom row, on both pages: the page key, comma, space, full stop, enter.
BOTTOM_ROW = ("mode", ",", "space", ".", "enter")
#: Work at this width (the 8.1 layout's view pixels) to find the keys: fast, the same at every resolution.
WORK_WIDTH = 480
#: Grey levels within this of the band's count as the band in a frame drawn without a camera (one band level).
BAND_TOLERANCE = 10
#: Keys found per row, top to bottom, on each page (the letter page, the symbol page).
ROW_COUNTS = ((10, 9, 9, 5), (10, 10, 9, 5))
#: How alike OCR's reading of a row and a page's row must be (0..1) to say the keyboard shows that page.
SAME_ROW = 0.6
#: A label's ink differs from its key's fill by at least this share of the key's strongest contrast, and by this
#: many grey levels: glare over a light key lifts its label's strokes to within 60-80 levels of the fill.
LABEL_SHARE, LABEL_CONTRAST = 0.45, 24


class KeyboardUnknown(LookupError):
    """A character no page of the keyboard has, or a key the keyboard found does not have."""


@dataclass(frozen=True)
class Key:
    """One key: its name (a character, or shift, backspace, mode, space, enter) and its box in frame pixels."""

    name: str
    box: Box

    @property
    def center(self) -> tuple[int, int]:
        """Where to tap it."""
        return self.box.x + self.box.w // 2, self.box.y + self.box.h // 2


@dataclass(frozen=True)
class Keyboard:
    """A keyboard found in a frame: its band, the page it shows, and the box of every key place.

    ``rows`` are the key boxes found, top to bottom, left to right; both pages use the same places,
    so the keys of the page not shown are known too (``key(name, page)``).
    """

    region: Box
    page: str        # "letters" or "symbols"
    shifted: bool    # the letter page shows capitals (shift holds for the next letter)
    rows: tuple[tuple[Box, ...], ...]

    def keys(self, page: str | None = None) -> list[Key]:
        """Every key of ``page`` (default: the one shown) with its box: the boxes found for the page shown; for
        the other, its rows laid out as an 8.1 keyboard lays them, on the key pitch and gap of the keys found."""
        page = page or self.page
        names = _names(page)
        if page == self.page:
            return [Key(n, b) for row_names, boxes in zip(names, self.rows) for n, b in zip(row_names, boxes)]
        top = self.rows[0]
        pitch = (top[-1].x - top[0].x) / (len(top) - 1)
        gap = pitch - top[0].w
        middle = (top[0].x + top[-1].x + top[-1].w) / 2
        out: list[Key] = []
        for row_names, boxes in zip(names, self.rows):
            units = [_UNITS.get((page, n), 1.0) for n in row_names]
            x = middle - sum(units) * pitch / 2
            for n, u in zip(row_names, units):
                out.append(Key(n, Box(round(x + gap / 2), boxes[0].y, round(u * pitch - gap), boxes[0].h)))
                x += u * pitch
        return out

    def key(self, name: str, page: str | None = None) -> Key:
        """The key ``name`` ("q", "@", "shift", "space" ...) of ``page`` (default: the one shown)."""
        for k in self.keys(page):
            if k.name == name:
                return k
        raise KeyboardUnknown(f"the {page or self.page} page of the keyboard has no key {name!r}")

    def taps_for(self, char: str) -> list[Key]:
        """The keys to tap, from the state shown, to type ``char``: shift or the page key first where needed."""
        return _taps(self, char, self.page, self.shifted)[0]

    def plan(self, text: str) -> list[Key]:
        """The keys that type ``text`` from the state shown, following the keyboard through it: shift holds for
        one letter, the symbol page until ``abcd`` is tapped. A character no page has: ``KeyboardUnknown``."""
        taps: list[Key] = []
        page, shifted = self.page, self.shifted
        for char in text:
            more, page, shifted = _taps(self, char, page, shifted)
            taps += more
        return taps


#: Keys wider than a letter key, in letter-key widths (the rest are one wide).
_UNITS = {("letters", "shift"): 1.5, ("letters", "backspace"): 1.5, ("symbols", "backspace"): 2.0,
          ("letters", "mode"): 1.5, ("symbols", "mode"): 1.5, ("letters", "space"): 5.0, ("symbols", "space"): 5.0,
          ("letters", "enter"): 1.5, ("symbols", "enter"): 1.5}


def _names(page: str) -> list[list[str]]:
    """The key names of ``page``, row by row, left to right."""
    rows = PAGES[page]
    third = ["shift", *rows[2], "backspace"] if page == "letters" else [*rows[2], "backspace"]
    return [list(rows[0]), list(rows[1]), third, list(BOTTOM_ROW)]


def _taps(kb: Keyboard, char: str, page: str, shifted: bool) -> tuple[list[Key], str, bool]:
    """(keys, page after, shifted after) to type ``char`` from ``page``/``shifted``."""
    if char == " ":
        return [kb.key("space", page)], page, shifted
    if char in ",.":
        return [kb.key(char, page)], page, shifted
    lower = char.lower()
    if lower in "".join(PAGES["letters"]) and char.isalpha():
        taps = [kb.key("mode", page)] if page == "symbols" else []
        if char.isupper() != shifted:
            taps.append(kb.key("shift", "letters"))
        return taps + [kb.key(lower, "letters")], "letters", False
    if char in "".join(PAGES["symbols"]):
        taps = [kb.key("mode", page)] if page == "letters" else []
        return taps + [kb.key(char, "symbols")], "symbols", False
    raise KeyboardUnknown(f"no key of the keyboard types {char!r}")


# ---------------------------------------------------------------------- finding the keys
def _grey(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """The frame in grey at the work width, and frame pixels per work pixel."""
    grey = frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)
    factor = grey.shape[1] / WORK_WIDTH
    if abs(factor - 1) > 0.01:
        grey = cv2.resize(grey, (WORK_WIDTH, max(1, round(grey.shape[0] / factor))), interpolation=cv2.INTER_AREA)
    return cv2.medianBlur(grey, 3), factor


def _key_boxes(mask: np.ndarray, top: int, shape: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """Key-like boxes (x, y, w, h in work pixels): components of ``mask`` (which starts at row ``top``) of a key's
    size, mostly filled (a key's label makes holes in it)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    w_all, h_all = shape[1], shape[0]
    return [(int(x), int(y) + top, int(w), int(h)) for x, y, w, h, area in stats[1:count]
            if 0.04 * w_all <= w <= 0.7 * w_all and 0.035 * h_all <= h <= 0.15 * h_all and area >= 0.7 * w * h]


def _rows_of(boxes: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    """Boxes grouped into rows (tops and heights alike), each left to right; rows of fewer than four dropped."""
    rows: list[list[tuple[int, int, int, int]]] = []
    for box in sorted(boxes, key=lambda b: (b[1], b[0])):
        for row in rows:
            first = row[0]
            if abs(box[1] - first[1]) <= 0.25 * first[3] and abs(box[3] - first[3]) <= 0.25 * first[3]:
                row.append(box)
                break
        else:
            rows.append([box])
    return [sorted(row) for row in rows if len(row) >= 4]


def _rows_against(grey: np.ndarray, band: int, top: int) -> list[list[tuple[int, int, int, int]]]:
    """Rows of key-like boxes standing apart from one grey level ``band`` below ``top`` (a frame drawn without a
    camera: the band is one colour)."""
    mask = (np.abs(grey[top:].astype(np.int16) - band) > BAND_TOLERANCE).astype(np.uint8)
    return _rows_of(_key_boxes(mask, top, grey.shape))


def _stack(rows: list[list[tuple[int, int, int, int]]]) -> list[list[tuple[int, int, int, int]]] | None:
    """The bottom four rows if they make an 8.1 keyboard: equal heights, even pitch, the keys of one of its pages."""
    if len(rows) < 4:
        return None
    rows = sorted(rows, key=lambda r: r[0][1])[-4:]
    heights = [r[0][3] for r in rows]
    pitches = [b[0][1] - a[0][1] for a, b in zip(rows, rows[1:])]
    if max(heights) - min(heights) > 0.2 * max(heights) or max(pitches) - min(pitches) > 0.2 * max(pitches):
        return None
    if min(pitches) < max(heights):
        return None
    if tuple(len(r) for r in rows) not in ROW_COUNTS:  # a key missed (a stylus over it) names the rest wrongly
        return None
    return rows


def _find_rows(frame: np.ndarray) -> tuple[list[list[tuple[int, int, int, int]]], float] | None:
    """The keyboard's rows of keys: against one band level (a screenshot: the band is one of the most common
    grey levels down there), else from the gaps between keys (a camera frame: ``harness.vision.keyboard_grid``)."""
    grey, factor = _grey(frame)
    top = grey.shape[0] * 2 // 5  # the keyboard covers the lower part of the screen
    levels = np.bincount(grey[top:].ravel(), minlength=256)
    tried: set[int] = set()
    for level in np.argsort(levels)[::-1][:6]:
        level = int(level)
        if any(abs(level - t) <= BAND_TOLERANCE // 2 for t in tried):
            continue
        tried.add(level)
        rows = _stack(_rows_against(grey, level, top))
        if rows is not None:
            return rows, factor
    for lighter in (True, False):
        rows = _stack(rows_by_grid(grey, top, lighter))
        if rows is not None:
            return rows, factor
    return None


def keyboard_shown(frame: np.ndarray) -> bool:
    """Whether an on-screen keyboard covers the lower part of ``frame`` (an RGB frame; no OCR)."""
    return _find_rows(frame) is not None


def _box(b: tuple[int, int, int, int], factor: float) -> Box:
    x, y, w, h = b
    return Box(round(x * factor), round(y * factor), round(w * factor), round(h * factor))


def _row_text(frame: np.ndarray, boxes: tuple[Box, ...]) -> str:
    """What the keys of one row say, one character per key, read in one OCR pass over their glyphs side by side."""
    from harness.vision import ocr

    grey = frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)
    height = boxes[0].h
    factor = max(1.0, 64 / height)  # glyphs some 30-40 px tall, as Tesseract likes them
    pieces = []
    for b in boxes:
        inner = grey[b.y + b.h // 8:b.y + b.h - b.h // 8, b.x + b.w // 8:b.x + b.w - b.w // 8]
        if inner.size == 0:
            continue
        fill = float(np.median(inner))
        away = np.abs(inner.astype(np.int16) - fill)
        ink = away > max(LABEL_CONTRAST, LABEL_SHARE * float(np.percentile(away, 99.5)))
        cols = np.flatnonzero(ink.any(axis=0))
        piece = np.where(ink, 0, 255).astype(np.uint8)
        if cols.size:
            piece = piece[:, max(0, cols[0] - 2):cols[-1] + 3]
        pieces.append(piece)
        pieces.append(np.full((piece.shape[0], max(4, piece.shape[0] // 3)), 255, np.uint8))
    rows = min(p.shape[0] for p in pieces)
    line = np.hstack([p[:rows] for p in pieces])
    if factor > 1.05:
        line = cv2.resize(line, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        _, line = cv2.threshold(line, 127, 255, cv2.THRESH_BINARY)
    line = cv2.copyMakeBorder(line, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)
    words = ocr._cached(line, ("eng", 7, "keys"), lambda: ocr._recognise(line, "eng", 7))
    return "".join(text for text, _, _, _ in words).replace(" ", "")


def find_keyboard(frame: np.ndarray) -> Keyboard | None:
    """The on-screen keyboard in ``frame`` (an RGB frame of any resolution or theme), or None when none is shown
    or its keys read as no page an 8.1 keyboard has. Needs OCR (``harness.vision.ocr``) to tell the pages apart."""
    found = _find_rows(frame)
    if found is None:
        return None
    rows, factor = found
    boxes = tuple(tuple(_box(b, factor) for b in row) for row in rows)
    first, second = _row_text(frame, boxes[0]), _row_text(frame, boxes[1])
    best: tuple[float, str, bool] | None = None
    for page, (row1, row2, _) in PAGES.items():
        for shifted in ((False, True) if page == "letters" else (False,)):
            want1, want2 = (row1.upper(), row2.upper()) if shifted else (row1, row2)
            score = (_cased_similarity(first, want1) + _cased_similarity(second, want2)) / 2
            if best is None or score > best[0]:
                best = (score, page, shifted)
    if best is None or best[0] < SAME_ROW or [len(row) for row in boxes] != [len(row) for row in _names(best[1])]:
        return None  # a key not found (a stylus over it, a glare spot) would name every key after it wrongly
    x0, y0 = min(b.x for b in boxes[0] + boxes[3]), boxes[0][0].y
    x1 = max(b.x + b.w for row in boxes for b in row)
    y1 = boxes[3][0].y + boxes[3][0].h
    return Keyboard(Box(x0, y0, x1 - x0, y1 - y0), best[1], best[2], boxes)


def _cased_similarity(read: str, want: str) -> float:
    """How alike two rows of key labels are, letter case counting (it tells shifted letters apart)."""
    return SequenceMatcher(None, read, want, autojunk=False).ratio() if read and want else 0.0
