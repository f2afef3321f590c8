"""What a text field shows, read from a frame: for a handset that types by tapping keys, the check that the taps
all landed (a tap a phone missed is a letter missing; one it took twice, a letter doubled).

The field is found from a point inside it (where the flow tapped it to give it focus): the box of even fill
around that point, the size of a one-line field. Its text is read with OCR; a masked field (a password) is
counted, not read: each mark is one blob of ink, and the count is all a check of a secret may look at.
Nothing here knows where the frame came from (a screenshot or a rectified camera frame).
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

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
#: A mark is at least this many grey levels darker than the field's evened-out fill at its core (noise: under 15).
MARK_DEPTH = 35
#: How a field's text is read, in the order tried: (letter height in pixels the line is scaled to, how much it is
#: sharpened, Tesseract's page mode: 7 a line, 8 one word, 13 a raw line). Through a camera the letters are
#: blurred (an r and a t, an i and an l differ by a pixel or two); each way errs elsewhere, and the readings are
#: weighed together (``typed_match``). Measured on camera frames of 8 bench seeds, both themes: the line cut
#: tight around its ink, its contrast stretched and sharpened, then read as grey (not cut into ink and fill).
WAYS: tuple[tuple[int, float, int], ...] = (
    (44, 1.0, 7), (31, 1.0, 7), (62, 1.0, 7), (62, 2.0, 7), (88, 1.0, 8), (88, 2.0, 13), (44, 2.0, 7),
    (31, 2.0, 7), (62, 1.0, 8))
#: The ink that bounds the line: darker than the fill by this share of the way to the darkest ink.
LINE_SHARE = 0.4

def _grey(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)


def field_box(frame: np.ndarray, point: tuple[int, int]) -> Box | None:
    """The box of the one-line text field holding ``point`` (frame pixels), or None when none is there
    (``Fields``: the frame made ready once, for many points)."""
    return Fields(frame).box(point)


class Fields:
    """A frame made ready to find its one-line text fields from points inside them.

    A field is grown from a seed of its fill: the point itself, or just above or below it when a glyph of the
    text already typed sits there. It is grown on the frame shrunk to WORK_WIDTH (averaging): at a camera
    frame's full size its JPEG noise and blur make steps between neighbours as large as the border's, so the
    fill stops short or leaks (a focused field in plain sight was not found, bench seed 842483 light); the box
    is then scaled back to frame pixels. The frame is shrunk and smoothed once for all the points asked."""

    def __init__(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        image = np.ascontiguousarray(frame[..., :3]) if frame.ndim == 3 else frame
        self.factor, self.width, self.height = w / WORK_WIDTH, w, h
        if self.factor > 1.01:
            image = cv2.resize(image, (WORK_WIDTH, max(1, round(h / self.factor))), interpolation=cv2.INTER_AREA)
        else:
            self.factor = 1.0
        self.image = cv2.medianBlur(image, 3)

    def box(self, point: tuple[int, int]) -> Box | None:
        """The box of the field holding ``point`` (frame pixels), or None."""
        f = self.factor
        if f == 1.0:
            return _grown(self.image, point)
        box = _grown(self.image, (round(point[0] / f), round(point[1] / f)))
        if box is None:
            return None
        x0, y0 = round(box.x * f), round(box.y * f)
        return Box(x0, y0, min(self.width, round((box.x + box.w) * f)) - x0,
                   min(self.height, round((box.y + box.h) * f)) - y0)


def _grown(image: np.ndarray, point: tuple[int, int]) -> Box | None:
    """The field's box grown in ``image`` (shrunk and smoothed: ``Fields``) from ``point``."""
    h, w = image.shape[:2]
    view = w / 480
    x0, y0 = int(point[0]), int(point[1])
    best: Box | None = None
    for dy in (0, -round(12 * view), round(12 * view), -round(20 * view), round(20 * view)):
        seed = (min(w - 1, max(0, x0)), min(h - 1, max(0, y0 + dy)))
        for fill_step in FILL_STEPS:
            mask = np.zeros((h + 2, w + 2), np.uint8)
            flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
            # in colour, an accent border as light as the page around it still parts them
            step = (fill_step,) * 3 if image.ndim == 3 else fill_step
            # floodFill counts the pixels it filled and bounds them: no pass over the mask
            filled, _, _, rect = cv2.floodFill(image, mask, seed, 0, step, step, flags)
            if filled == 0:
                break
            box = Box(*(int(v) for v in rect))
            if (box.w >= MIN_WIDTH_VIEW * view and MIN_HEIGHT_VIEW * view <= box.h <= MAX_HEIGHT_VIEW * view
                    and filled >= 0.6 * box.w * box.h and box.x <= x0 <= box.x + box.w):
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
    """How many separate blobs of ink the field ``box`` holds (a masked field: one per character typed).

    A pixel is ink where it is at least half as dark as the darkest ink near it (within the field's height, about
    two marks), and that is dark enough not to be noise: a glare spot over part of a field lifts its marks, and
    by one fixed contrast those under it went uncounted (a camera sign-in typed 12 marks and saw 9)."""
    inner = _inside(box, frame)
    crop = _flat(_grey(frame)[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w])
    depth = 255 - crop.astype(np.int16)
    k = max(3, inner.h | 1)
    near = cv2.dilate(depth, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)), borderType=cv2.BORDER_REPLICATE)
    ink = ((2 * depth >= near) & (near >= MARK_DEPTH)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    least = max(2, round(frame.shape[1] / 480 * 2)) ** 2  # camera noise is smaller than a mark
    return int(sum(1 for area in stats[1:count, cv2.CC_STAT_AREA] if area >= least))


class Line(NamedTuple):
    """A field's line of text: grey, ink dark on an even fill, cut to its ink and a margin."""

    grey: np.ndarray
    fill: float       # the fill's grey level
    darkest: float    # the darkest ink's
    tall: int         # the ink's height, pixels (ascender to descender)


def line_of(frame: np.ndarray, box: Box) -> Line | None:
    """The line of text in the field ``box`` of ``frame``; None when the field holds no ink."""
    inner = _inside(box, frame)
    flat = _flat(_grey(frame)[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w])
    fill, darkest = float(np.median(flat)), float(np.percentile(flat, 1))
    if fill - darkest < INK_CONTRAST:
        return None
    ink = (flat < fill - LINE_SHARE * (fill - darkest)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    least = max(2, round(frame.shape[1] / 480 * 2)) ** 2  # camera noise is smaller than a mark
    h, w = ink.shape

    def glyph(s: np.ndarray) -> bool:  # a field's border or a fill leaking past it touches the inner box's edge
        x, y, bw, bh, area = s
        return area >= least and x > 0 and y > 0 and x + bw < w and y + bh < h

    kept = [stats[i] for i in range(1, count) if glyph(stats[i])]
    if not kept:
        return None
    x0 = min(s[cv2.CC_STAT_LEFT] for s in kept)
    x1 = max(s[cv2.CC_STAT_LEFT] + s[cv2.CC_STAT_WIDTH] for s in kept)
    y0 = min(s[cv2.CC_STAT_TOP] for s in kept)
    y1 = max(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT] for s in kept)
    m = max(4, (y1 - y0) // 5)
    return Line(flat[max(0, y0 - m):y1 + m, max(0, x0 - m):x1 + m], fill, darkest, int(y1 - y0))


def read_field(frame: np.ndarray, box: Box, every_way: bool = False, only: str = "") -> list[str]:
    """The text the field ``box`` shows, read as one line (``[""]`` for an empty field): read the first of
    ``WAYS``, or with ``every_way`` every one of them (through a camera the readings differ by a letter or two,
    and a caller that knows what it looks for weighs them together). ``only``: the characters OCR may read."""
    return list(_readings(frame, box, WAYS if every_way else WAYS[:1], only))


#: The characters the phone's on-screen keyboard types (letters, digits, its symbol page, comma, full stop and
#: space): a field a robot typed into holds no others, so OCR is kept to them.
KEYBOARD_CHARS = "".join(sorted({ch for rows in PAGES.values() for row in rows for ch in row + row.upper()} | set(", .")))


def _readings(frame: np.ndarray, box: Box, ways: tuple[tuple[int, float, int], ...], only: str) -> Iterator[str]:
    """The field's readings, one per way, each read only when asked for (lazily)."""
    from harness.vision import ocr

    line = line_of(frame, box)
    if line is None:
        yield ""  # no ink: an empty field
        return
    soft, darkest, tall = line.grey.astype(np.float32), line.darkest, max(1, line.tall)
    span = max(1.0, line.fill - darkest)
    for height, sharpen, psm in ways:
        sharp = soft + sharpen * (soft - cv2.GaussianBlur(soft, (0, 0), 3 * tall / 44))
        stretched = np.clip((sharp - darkest) * 255.0 / span, 0, 255).astype(np.uint8)
        factor = height / tall
        sized = cv2.resize(stretched, None, fx=factor, fy=factor,
                           interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
        page = cv2.copyMakeBorder(sized, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)
        words = ocr._cached(page, ("eng", psm, "field", only),
                            lambda: ocr._recognise(page, "eng", psm, only))  # noqa: B023
        yield " ".join(text for text, _, _, _ in words)


def shows_typed(frame: np.ndarray, box: Box, typed: str) -> tuple[bool, str]:
    """Whether the field ``box`` shows ``typed``, and the reading nearest it: every way's reading weighed
    together against ``typed`` and each typing error of it (``typed_match.judge``), and the small marks (full
    stop, comma) counted from the ink (``field_marks``). OCR is kept to the keyboard's characters when
    ``typed`` holds no others."""
    from harness.vision.field_marks import marks_agree
    from harness.vision.typed_match import judge

    only = KEYBOARD_CHARS if set(typed) <= set(KEYBOARD_CHARS) else ""
    readings = list(_readings(frame, box, WAYS, only))
    verdict = judge(readings, typed)
    if not verdict.shown:
        return False, verdict.reading
    line = line_of(frame, box)
    if line is not None and not marks_agree(line, typed, readings):
        return False, verdict.reading
    return True, verdict.reading
