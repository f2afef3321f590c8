"""The digits a masked number shows ("••••42" -> "42"), read from a screenshot or a camera's soft frame.

Two-step verification shows the end of the phone number on file, and a
flow checks it against the SIMs the modem holds before a code is sent.
Misread digits would stop a sign-in that would have worked, so a reading
here is given only when it is sure; "" (not read) lets the flow go on and
say so.

The mask glyphs (bullets, asterisks) read as letters or digits, so they go
first. On a screenshot every blob well under the tallest one's height is a
mask glyph. A camera's frame is told by the choice's label above the line
(the small digits' own line can have a screenshot's sharp edges on a
480-wide phone). There the thin, pale digits break into bits smaller than
the bold bullets, and a looser threshold runs the last bullet into the
first digit; so the mask is found as the leading run of like, evenly
spaced, square blobs, and only what follows it is read, stretched from its
own ink to its paper (with the bullets in view the digits' ink is faint
beside theirs), in grey at three smoothings: a reading is taken when two
of the three agree (one alone misread 9 as 0 and 8 as 6), and only with two
digits or more (one is a digit lost).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

import cv2
import numpy as np

from harness.vision.definitions import Box
from harness.vision.ocr import MIN_CONFIDENCE, VIEW_WIDTH, _cached, _clip, _recognise
from harness.vision.ocr_image import READ_PX_PER_VIEW, blurred, prepare, shade

#: A blob under this share of the tallest one's height is a mask glyph (a bullet, an asterisk), not a digit.
MASK_HEIGHT = 0.6
#: A mask glyph is about as wide as it is high (a digit is much higher), within this ratio either way.
MASK_ASPECT = 1.3
#: Gaussian smoothings (upscaled pixels) of a soft line's digits, each read; two readings must agree.
SMOOTHINGS = (0.5, 1.0, 1.5)
#: Of the way from the digits' darkest ink to the paper, the share from which a pixel is white.
WHITE_AT = 0.8
#: A label whose steepest edges are under this share of its contrast is soft: a screenshot's measure 0.53, the
#: emulated camera's 0.18-0.36 (the small, blurred digits' own line measures up to 0.54 on a camera).
SOFT_LABEL = 0.45
#: The border ``prepare`` and ``shade`` add around a crop (pixels).
BORDER = 12
DIGITS = "0123456789"
#: A number is shown with at least its last two digits; a soft line read as one has lost one ("6" for 65).
MIN_DIGITS = 2


def soft_label(image: np.ndarray, label: Box) -> bool:
    """Whether the text of ``label`` (a box of an RGB frame) is a camera's soft text, not a screenshot's."""
    box = _clip(image, label)
    return blurred(np.ascontiguousarray(image[box.y:box.y + box.h, box.x:box.x + box.w]), SOFT_LABEL)


def read_masked_digits(image: np.ndarray, region: Box, *, scale: float | None = None, soft: bool = False) -> str:
    """The digits of a masked number in ``region`` of an RGB frame; "" when none is read surely. ``soft``: the
    frame is a camera's (see ``soft_label``)."""
    box = _clip(image, region)
    factor = max(1.0, READ_PX_PER_VIEW / (scale or image.shape[1] / VIEW_WIDTH))
    crop = np.ascontiguousarray(image[box.y:box.y + box.h, box.x:box.x + box.w])

    def read() -> Any:
        binary = prepare(crop, factor)
        if not soft:
            return _digits(_recognise(_without_small_blobs(binary), "eng", 7, DIGITS))
        mask = _mask(binary)
        if mask is None:  # no mask seen: a threshold of the whole soft line misreads its digits
            return ""
        page = shade(crop, factor)
        readings = Counter(d for d in (_digits(_recognise(_stretched(page, mask, sigma), "eng", 7, DIGITS))
                                       for sigma in SMOOTHINGS) if len(d) >= MIN_DIGITS)
        ranked = readings.most_common(2)
        sure = ranked and ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[1][1] < ranked[0][1])
        return ranked[0][0] if sure else ""

    return str(_cached(crop, ("eng", 7, "masked digits", soft, round(factor, 3)), read))


def _digits(raw: Any) -> str:
    return "".join(text for text, _, conf, _ in raw if conf >= MIN_CONFIDENCE and text.isdigit())


def _without_small_blobs(binary: np.ndarray) -> np.ndarray:
    """``binary`` (dark on white) with every blob under MASK_HEIGHT of the tallest one's height whitened."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(255 - binary, connectivity=8)
    if count > 1:
        tallest = int(stats[1:, cv2.CC_STAT_HEIGHT].max())
        small = [i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] < MASK_HEIGHT * tallest]
        binary[np.isin(labels, small)] = 255
    return binary


def _stretched(page: np.ndarray, mask: Mask, sigma: float) -> np.ndarray:
    """What follows ``mask`` on ``page`` (white elsewhere, above and below the digits' rows too: bits of the lines
    around confuse Tesseract, "77" read "7"), smoothed and stretched from its darkest ink to black and its paper
    to white: a camera's pale digits under glare are 20 grey levels off the page, within the noise."""
    top, bottom = max(0, mask.top - mask.height), min(page.shape[0], mask.bottom + mask.height * 3 // 5)
    rest = cv2.GaussianBlur(page[top:bottom, mask.end:], (0, 0), sigma).astype(np.float32)
    ink, paper = float(np.percentile(rest, 0.3)), float(np.median(rest))
    out = np.full_like(page, 255)
    white = max(1.0, WHITE_AT * (paper - ink))  # the paper's noise white too, not specks read as one more "7"
    out[top:bottom, mask.end:] = np.clip((rest - ink) * (255 / white), 0, 255).astype(np.uint8)
    return out


class Mask(NamedTuple):
    """Where a masked number's mask ends (a column), and the rows its glyphs span."""

    end: int
    top: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


def _mask(binary: np.ndarray) -> Mask | None:
    """A masked number's mask, ending at the column just past it: a leading run of at least two blobs alike in size, about as
    wide as high and evenly spaced (None when the line does not start so). Blobs cut by the crop's top or bottom
    edge belong to the lines above and below. A blob where the next mask glyph is due, taller and wider than
    one, is the last glyph run into the first digit by the blur: the mask ends one glyph into it (they touch). A
    lone digit is at most as wide as a blurred glyph; a sharp one is twice its glyph's height or more."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(255 - binary, connectivity=8)
    rows = binary.shape[0]
    blobs = sorted((int(x), int(w), int(h), int(y)) for x, y, w, h, _ in stats[1:count]
                   if h >= 3 and y > BORDER + 1 and y + h < rows - BORDER - 1)
    if len(blobs) < 2 or not _square(blobs[0][1], blobs[0][2]):
        return None
    x0, w0, h0, y0 = blobs[0]
    pitch = blobs[1][0] - x0
    run = 1
    for x, w, h, _ in blobs[1:]:
        due = abs((x - blobs[run - 1][0]) - pitch) <= 0.3 * pitch
        if due and _square(w, h) and abs(w - w0) <= 0.3 * w0 and abs(h - h0) <= 0.3 * h0:
            run += 1
            continue
        if run >= 2 and due and w >= 1.5 * w0 and 1.2 * h0 <= h <= 2 * h0:
            return Mask(x + w0, y0, y0 + h0)
        break
    if run < 2:
        return None
    x, w, _, _ = blobs[run - 1]
    return Mask(x + w + max(1, (pitch - w0) // 2), y0, y0 + h0)


def _square(w: int, h: int) -> bool:
    return 1 / MASK_ASPECT <= w / h <= MASK_ASPECT
