"""What a text field shows, read from a frame: for a handset that types by tapping keys, the check that the taps
all landed (a tap a phone missed is a letter missing; one it took twice, a letter doubled).

The field is found from a point inside it (where the flow tapped it to give it focus): the box of even fill
around that point, the size of a one-line field. Its text is read with OCR; a masked field (a password) is
counted, not read: each mark is one blob of ink, and the count is all a check of a secret may look at.
Nothing here knows where the frame came from (a screenshot or a rectified camera frame).
"""

from __future__ import annotations

import cv2
import numpy as np

from harness.vision.definitions import Box

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
    from harness.vision import ocr

    inner = _inside(box, frame)
    grey = _flat(_grey(frame)[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w])
    fill, darkest = float(np.median(grey)), float(np.percentile(grey, 1))
    if fill - darkest < INK_CONTRAST:
        return [""]  # no ink: an empty field
    factor = max(1.0, READ_PX_PER_VIEW / (frame.shape[1] / 480))
    if factor > 1.05:
        grey = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    lines = [cv2.copyMakeBorder(grey, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=round(fill))]
    if every_way:
        soft = grey.astype(np.float32)
        sharp = np.clip(soft + (soft - cv2.GaussianBlur(soft, (0, 0), 2 * factor)), 0, 255)
        for share in INK_SHARES:
            cut = np.where(sharp < fill - share * (fill - darkest), 0, 255).astype(np.uint8)
            lines.append(cv2.copyMakeBorder(cut, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255))
    readings = []
    for line in lines:
        words = ocr._cached(line, ("eng", 7, "field"), lambda: ocr._recognise(line, "eng", 7))  # noqa: B023
        readings.append(" ".join(text for text, _, _, _ in words))
    return readings


def same_typed(read: str, typed: str) -> bool:
    """Whether OCR's reading of a field is the text typed into it: every character, in order (none missing,
    none doubled), letters OCR confuses in this face (l/1/i, o/0) taken as one, case and spaces aside, and
    the marks too small to read for sure (full stop, comma, quotes) left out of both."""
    def fold(text: str) -> str:
        return "".join(ch for ch in text.casefold().translate(_CONFUSED) if not ch.isspace() and ch not in _SMALL)

    return bool(fold(typed)) and fold(read) == fold(typed)
