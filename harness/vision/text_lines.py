"""Lines of text on a page found by their ink, not by OCR: each can then be read on its own. Through a camera,
Tesseract reading a whole region at once drops a line it is unsure of (a dim subject, or Settings'
"email+accounts" on a lumia-630 frame under glare) that it reads whole when given that line alone."""

from __future__ import annotations

import numpy as np

from harness.vision.definitions import Box


def line_boxes(grey: np.ndarray, region: Box, scale: float) -> list[Box]:
    """The lines of text in ``region``, found by their ink: runs of rows with ink, split where rows are empty."""
    crop = grey[region.y:region.y + region.h, region.x:region.x + region.w].astype(np.int16)
    if crop.size == 0:
        return []
    ink = np.abs(crop - int(np.median(crop))) > 40
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
