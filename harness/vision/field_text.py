"""What a text field shows, read from a frame: for a handset that types by tapping keys, the check that the taps
all landed (a tap a phone missed is a letter missing; one it took twice, a letter doubled).

The field is found from a point inside it (where the flow tapped it to give it focus): the box of even fill
around that point, the size of a one-line field. Its text is read with OCR; a masked field (a password) is
counted, not read: each mark is one blob of ink, and the count is all a check of a secret may look at.
Nothing here knows where the frame came from (a screenshot or a rectified camera frame).
"""

from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np

from harness.vision.definitions import Box
from harness.vision.keyboard import PAGES

#: The fill of a field's box varies by less than this many grey levels (camera light, noise) between neighbours;
#: where a camera's blur softens the field's border into steps as small, the fill leaks through it, so smaller
#: steps are tried next.
FILL_STEPS = (6, 4, 3)
#: A one-line field, in view pixels (an 8.1 page is 480 across): at least this wide, this tall, at most this tall.
MIN_WIDTH_VIEW, MIN_HEIGHT_VIEW, MAX_HEIGHT_VIEW = 120, 24, 90
#: A field's box is grown on the frame at this width (view pixels: an 8.1 page is 480 across).
WORK_WIDTH = 480
#: Ink differs from the field's fill by at least this many grey levels.
INK_CONTRAST = 60
#: Where ink is cut from the fill, as shares of the way from the fill to the darkest ink (glare moves the best).
INK_SHARES = (0.6, 0.45, 0.75)
#: Device pixels per view pixel a field's text is read at (its letters some 40 px tall).
READ_PX_PER_VIEW = 3.4
#: Marks a few pixels across that OCR drops or invents (not compared).
_SMALL = ".,'`\""
#: Letters OCR mixes up in a field's face, folded together before typed and read text are compared. Through a
#: camera's blur an '@' reads as B, S, 8 or & (a lost or doubled key still changes the length: it still counts).
_CONFUSED = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "8": "s", "2": "z", "6": "s",
                           "b": "s", "@": "s", "&": "s"})


def _grey(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)


def field_box(frame: np.ndarray, point: tuple[int, int]) -> Box | None:
    """The box of the one-line text field holding ``point`` (frame pixels), or None when none is there.

    The field is grown from a seed of its fill: ``point`` itself, or just above or below it when a glyph
    of the text already typed sits there. It is grown on the frame shrunk to WORK_WIDTH (averaging): at a
    camera frame's full size its JPEG noise and blur make steps between neighbours as large as the border's,
    so the fill stops short or leaks (a focused field in plain sight was not found, bench seed 842483 light);
    the box is then scaled back to frame pixels."""
    h, w = frame.shape[:2]
    factor = w / WORK_WIDTH
    if factor <= 1.01:
        return _grown(frame, point)
    small = cv2.resize(np.ascontiguousarray(frame[..., :3]) if frame.ndim == 3 else frame,
                       (WORK_WIDTH, max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    box = _grown(small, (round(point[0] / factor), round(point[1] / factor)))
    if box is None:
        return None
    x0, y0 = round(box.x * factor), round(box.y * factor)
    return Box(x0, y0, min(w, round((box.x + box.w) * factor)) - x0, min(h, round((box.y + box.h) * factor)) - y0)


def _grown(frame: np.ndarray, point: tuple[int, int]) -> Box | None:
    """field_box at the frame's own size."""
    image = cv2.medianBlur(np.ascontiguousarray(frame[..., :3]) if frame.ndim == 3 else frame, 3)
    h, w = image.shape[:2]
    view = w / 480
    x0, y0 = int(point[0]), int(point[1])
    best: Box | None = None
    for dy in (0, -round(12 * view), round(12 * view), -round(20 * view), round(20 * view)):
        seed = (min(w - 1, max(0, x0)), min(h - 1, max(0, y0 + dy)))
        for fill_step in FILL_STEPS:
            mask = np.zeros((h + 2, w + 2), np.uint8)
            flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
            step = (fill_step,) * 3 if image.ndim == 3 else fill_step  # in colour: an accent border light as
            cv2.floodFill(image, mask, seed, 0, step, step, flags)      # the page around it still parts them
            ys, xs = np.nonzero(mask[1:-1, 1:-1])
            if xs.size == 0:
                break
            box = Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
            if (box.w >= MIN_WIDTH_VIEW * view and MIN_HEIGHT_VIEW * view <= box.h <= MAX_HEIGHT_VIEW * view
                    and xs.size >= 0.6 * box.w * box.h and box.x <= x0 <= box.x + box.w):
                if best is None or box.w * box.h > best.w * best.h:
                    best = box
                break
            if box.h <= MAX_HEIGHT_VIEW * view:
                break  # not a leak (too small, or no field): a smaller step finds no field either
    return best


def _flat(grey: np.ndarray) -> np.ndarray:
    """The field's crop with its fill made even, ink dark on a light fill: through a camera the lamp falls off
    across a field and a glare spot saturates part of it, so one fill may span 80 grey levels, more than ink
    differs from it. The fill's light is what a closing (a max then a min filter) as tall as the crop leaves
    (no stroke or mark is that wide and tall at once); each pixel is divided by it."""
    if float(np.median(grey)) < 128:  # light text on a dark field
        grey = 255 - grey
    k = max(3, grey.shape[0] | 1)
    light = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)),
                             borderType=cv2.BORDER_REPLICATE)
    return np.clip(grey.astype(np.float32) * 255.0 / np.maximum(light, 1).astype(np.float32), 0, 255).astype(np.uint8)


def _inside(box: Box, frame: np.ndarray) -> Box:
    """The box less a margin (its border, the fill's anti-aliased edge)."""
    m = max(2, round(3 * frame.shape[1] / 480))
    return Box(box.x + m, box.y + m, max(1, box.w - 2 * m), max(1, box.h - 2 * m))


def count_marks(frame: np.ndarray, box: Box) -> int:
    """How many separate blobs of ink the field ``box`` holds (a masked field: one per character typed)."""
    inner = _inside(box, frame)
    crop = _flat(_grey(frame)[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w])
    fill = float(np.median(crop))
    ink = (crop.astype(np.int16) < fill - INK_CONTRAST).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    least = max(2, round(frame.shape[1] / 480 * 2)) ** 2  # camera noise is smaller than a mark
    return int(sum(1 for area in stats[1:count, cv2.CC_STAT_AREA] if area >= least))


def read_field(frame: np.ndarray, box: Box, every_way: bool = False) -> list[str]:
    """The text the field ``box`` shows, read as one line: as Tesseract reads the grey field itself (upscaled
    so letters are some 40 px tall), and with ``every_way`` also sharpened and cut at several grey levels
    between the fill and the darkest ink: through a camera the letters are blurred and glare moves the level
    that parts them best, so a caller that knows what it looks for may try each (readings differ by a letter)."""
    ways = list(_WAYS[: 1 + len(INK_SHARES)] if every_way else _WAYS[:1])
    return list(_readings(frame, box, ways, ""))


#: How a field is read, in the order tried (scale in device px per view px, ink cut or None for the grey field,
#: Tesseract's page mode: 7 a line, 8 one word). After the line at 3.4 (grey and three cuts), one word: an
#: address is one word, and read as a line Tesseract may part it where it cannot read a glyph, as it read
#: alice@outlook.com through a blurred camera (bench seed 842483 light) as "alice outlook Com" with the '@'
#: lost; then larger, where a blurred glyph's strokes stand further apart.
_WAYS: tuple[tuple[float, float | None, int], ...] = (
    (READ_PX_PER_VIEW, None, 7), *((READ_PX_PER_VIEW, share, 7) for share in INK_SHARES),
    (READ_PX_PER_VIEW, None, 8), (READ_PX_PER_VIEW, INK_SHARES[0], 8),
    (1.5 * READ_PX_PER_VIEW, None, 8), (1.5 * READ_PX_PER_VIEW, INK_SHARES[0], 8),
    (1.5 * READ_PX_PER_VIEW, None, 7), (1.5 * READ_PX_PER_VIEW, INK_SHARES[0], 7))
#: The characters the phone's on-screen keyboard types (letters, digits, its symbol page, comma, full stop and
#: space): a field a robot typed into holds no others, so OCR is kept to them.
KEYBOARD_CHARS = "".join(sorted({ch for rows in PAGES.values() for row in rows for ch in row + row.upper()} | set(", .")))


def _readings(frame: np.ndarray, box: Box, ways: list[tuple[float, float | None, int]], only: str) -> Iterator[str]:
    """The field's readings, one per way, each read only when the one before did not do (lazily)."""
    from harness.vision import ocr

    inner = _inside(box, frame)
    flat = _flat(_grey(frame)[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w])
    fill, darkest = float(np.median(flat)), float(np.percentile(flat, 1))
    if fill - darkest < INK_CONTRAST:
        yield ""  # no ink: an empty field
        return
    scaled: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for per_view, share, psm in ways:
        factor = max(1.0, per_view / (frame.shape[1] / 480))
        if factor not in scaled:
            grey = flat if factor <= 1.05 else cv2.resize(flat, None, fx=factor, fy=factor,
                                                          interpolation=cv2.INTER_CUBIC)
            soft = grey.astype(np.float32)
            scaled[factor] = grey, np.clip(soft + (soft - cv2.GaussianBlur(soft, (0, 0), 2 * factor)), 0, 255)
        grey, sharp = scaled[factor]
        if share is None:
            line = cv2.copyMakeBorder(grey, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=round(fill))
        else:
            cut = np.where(sharp < fill - share * (fill - darkest), 0, 255).astype(np.uint8)
            line = cv2.copyMakeBorder(cut, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)
        words = ocr._cached(line, ("eng", psm, "field", only),
                            lambda: ocr._recognise(line, "eng", psm, only))  # noqa: B023
        yield " ".join(text for text, _, _, _ in words)


def shows_typed(frame: np.ndarray, box: Box, typed: str) -> tuple[bool, str]:
    """Whether the field ``box`` shows ``typed`` (``same_typed``) in any reading of it, and the reading that
    did (else the first): the ways are tried in turn until one does, so a field read at once costs one OCR;
    not when a reading before it showed a character of ``typed`` twice (``doubled``).
    OCR is kept to the keyboard's characters (when ``typed`` holds no others: an engine per character set);
    one-word readings only for a text of one word."""
    only = KEYBOARD_CHARS if set(typed) <= set(KEYBOARD_CHARS) else ""
    ways = [w for w in _WAYS if w[2] == 7 or not any(ch.isspace() for ch in typed.strip())]
    seen: list[str] = []
    for reading in _readings(frame, box, ways, only):
        if same_typed(reading, typed):
            # a reading before it that shows one character twice: the phone took a key twice, OCR lost one
            return not any(doubled(r, typed) for r in seen), reading
        seen.append(reading)
    return False, seen[0] if seen else ""


def same_typed(read: str, typed: str) -> bool:
    """Whether OCR's reading of a field is the text typed into it: every character, in order (none missing,
    none doubled), letters OCR confuses in this face (l/1/i, o/0) taken as one, case and spaces aside, and
    the marks too small to read for sure (full stop, comma, quotes) left out of both."""
    return bool(_fold(typed)) and _fold(read) == _fold(typed)


def _fold(text: str) -> str:
    """``text`` as ``same_typed`` compares it: confused letters as one, case, spaces and small marks aside."""
    return "".join(ch for ch in text.casefold().translate(_CONFUSED) if not ch.isspace() and ch not in _SMALL)


def doubled(read: str, typed: str) -> bool:
    """Whether OCR's reading shows ``typed`` with one of its characters twice in a row (a key the phone took
    twice): OCR drops a glyph more often than it makes one up, so a reading that shows one more is evidence
    against another reading that matches (a doubled 'l' read with its neighbour 'i' lost matched, as OCR's
    i/l are taken as one)."""
    r, t = _fold(read), _fold(typed)
    return len(r) == len(t) + 1 and any(r[i] == r[i + 1] and r[:i] + r[i + 1:] == t for i in range(len(t)))
