"""Lines of text on a page found by their ink, not by OCR: each can then be read on its own. Through a camera,
Tesseract reading a whole region at once drops a line it is unsure of (a dim subject, or Settings'
"email+accounts" on a lumia-630 frame under glare) that it reads whole when given that line alone."""

from __future__ import annotations

import cv2
import numpy as np

from harness.vision.definitions import Box


#: Ink differs from the page by more than this many grey levels ...
INK = 40
#: ... or, on a camera's soft frame smoothed by FAINT_SMOOTH view pixels, by more than this: a glare spot left a
#: subject 28-46 levels from the page on a lumia-1320 frame (8 rows over INK, too few for a line, and the mail
#: went without its subject), where the smoothed noise of a blank part of the page reached 7.
FAINT_INK = 25
FAINT_SMOOTH = 0.7


def line_boxes(grey: np.ndarray, region: Box, scale: float, faint: bool = False) -> list[Box]:
    """The lines of text in ``region``, found by their ink: runs of rows with ink, split where rows are empty.
    ``faint``: the frame is a camera's (soft), and a line only fainter ink shows, once the noise is smoothed away,
    is added where no line was found (a line found anyway keeps its box: the reading of a line under glare
    changed with it, "last backups toctay" to "fast bux cockay")."""
    crop = grey[region.y:region.y + region.h, region.x:region.x + region.w].astype(np.int16)
    if crop.size == 0:
        return []
    boxes = _runs(np.abs(crop - int(np.median(crop))) > INK, region, scale)
    if not faint:
        return boxes
    smooth = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), FAINT_SMOOTH * scale)
    fainter = _runs(np.abs(smooth - float(np.median(smooth))) > FAINT_INK, region, scale)
    apart = [b for b in fainter if not any(b.y < o.y + o.h and o.y < b.y + b.h for o in boxes)]
    return sorted(boxes + apart, key=lambda b: b.y)


def _runs(ink: np.ndarray, region: Box, scale: float) -> list[Box]:
    """The boxes (frame pixels) of the runs of rows of ``region`` with ``ink`` that are tall enough for text."""
    rows = ink.any(axis=1)
    boxes: list[Box] = []
    y, n = 0, len(rows)
    while y < n:
        if not rows[y]:
            y += 1
            continue
        top = y
        while y < n and rows[y:y + max(1, round(2 * scale))].any():  # a gap of a pixel or two is inside a line
            y += 1
        if y - top >= 8 * scale:  # shorter is a divider or a speck, not text
            cols = np.flatnonzero(ink[top:y].any(axis=0))
            pad = round(4 * scale)
            x0, x1 = max(0, cols[0] - pad), min(region.w, cols[-1] + 1 + pad)
            y0, y1 = max(0, top - pad), min(region.h, y + pad)
            boxes.append(Box(region.x + int(x0), region.y + int(y0), int(x1 - x0), int(y1 - y0)))
    return boxes
