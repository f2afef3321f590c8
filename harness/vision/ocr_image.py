"""What Tesseract is given: a region of a frame upscaled, dark text on a light page, boxes and panels taken apart.

A screenshot's text is sharp, and a threshold of it (``prepare``) reads
best; a camera's rectified frame is soft, and Tesseract reads its grey
levels better than any threshold of them (``shade``); ``blurred`` tells
which a region is.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Device pixels per view pixel Tesseract reads best at (body text 16-20 view px becomes 40-50 px tall).
READ_PX_PER_VIEW = 2.5
#: A straight stroke longer than this (view pixels) is a box or a divider, never part of a glyph.
LINE_VIEW = 40
#: A straight stroke at least this thick (view pixels) is not a line: a divider or a box's edge is 1-3 thick.
LINE_THICK_VIEW = 4
#: Text whose steepest edges (99.5th percentile of the gradient) are under this share of its contrast is soft
SOFT_EDGES = 0.3
#: A block of ink at least this tall and wide (view pixels), mostly filled, is a panel (a button), not a glyph.
PANEL_VIEW = 30


def _dark_text(grey: np.ndarray) -> np.ndarray:
    """Binarised with the text black: a region whose most pixels are dark (the page) is inverted first.

    Otsu's threshold splits the page from the text, but where the text is blurred (a camera's frame) it lies in
    the glyphs' halo, and the glyphs come out bold and run together ("calculator" read "ceiculstor"). A stroke's
    edge is where it is half as dark as its core, so the threshold is at most halfway between the page (the
    median of the light side) and the strokes' core (the darkest tenth of the dark side); on sharp text the two
    agree."""
    if float(np.median(grey)) < 128:
        grey = 255 - grey
    otsu, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark, light = grey[grey <= otsu], grey[grey > otsu]
    if dark.size and light.size:
        edge = (float(np.percentile(dark, 10)) + float(np.median(light))) / 2
        if edge < otsu:
            _, binary = cv2.threshold(grey, edge, 255, cv2.THRESH_BINARY)
    return binary


def prepare(crop: np.ndarray, factor: float, zoom: float = 1.0) -> np.ndarray:
    """Grey, upscaled by ``factor``, binarised with dark text on white, boxes and panels taken apart from text.

    A filled button (white text on the accent colour) is one block of ink
    after a threshold made for the page, so each such panel is binarised again
    on its own; a button's outline, a field's box and dividers (straight
    strokes longer than any glyph) are wiped, as Tesseract reads boxed words badly.
    """
    return _prepared(crop, factor, zoom)[0]


def shade(crop: np.ndarray, factor: float, zoom: float = 1.0) -> np.ndarray:
    """``prepare``'s page in grey: dark text on a light page, each panel turned the same way, lines wiped.

    Tesseract's recogniser reads the grey levels of a glyph, not only our
    threshold's: a camera's small, blurred grey text ("Your statement is
    ready" under a sender's name) comes out of any threshold as blobs it
    cannot read, and in grey it reads it. Sharp text reads the same."""
    binary, grey, panels, wiped = _prepared(crop, factor, zoom)
    out = 255 - grey if float(np.median(grey)) < 128 else grey.copy()
    for x, y, w, h in panels:
        out[y:y + h, x:x + w] = _page_white(grey[y:y + h, x:x + w])
    out[cv2.dilate(wiped, np.ones((5, 5), np.uint8)) > 0] = 255  # a line's soft edges go with it
    return cv2.copyMakeBorder(out, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def blurred(crop: np.ndarray, edges: float = SOFT_EDGES) -> bool:
    """Whether ``crop``'s text is soft (a camera's frame, a blurred photo), so ``shade`` reads it and not ``prepare``:
    a screenshot's edges step from page to ink within two pixels (the steepest gradients half the contrast), a
    camera's rectified frame spreads them over eight or more (0.10-0.14 of it, seen); ``edges``: the share of the
    contrast under which they are soft."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2GRAY)
    low, high = np.percentile(grey, (1, 99))
    if high - low < 16:
        return False
    g = grey.astype(np.float32)
    steep = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) / 8
    return float(np.percentile(steep, 99.5)) < edges * float(high - low)


def _page_white(grey: np.ndarray) -> np.ndarray:
    """A panel's grey levels stretched so its fill (the median) is white and its ink (the darkest 1%) black, text
    dark whatever its colours: Tesseract drops a mid-grey block (a button) as a picture."""
    turned = (255 - grey) if float(np.median(grey)) < 128 else grey
    page, ink = float(np.median(turned)), float(np.percentile(turned, 1))
    if page - ink < 16:
        return turned.copy()
    stretched = (turned.astype(np.float32) - ink) * (255.0 / (page - ink))
    return np.clip(stretched, 0, 255).astype(np.uint8)


def _prepared(crop: np.ndarray, factor: float,
              zoom: float = 1.0) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, int]], np.ndarray]:
    """(binary page with a border, the upscaled grey, the panels found, the lines wiped) of ``crop``, upscaled by
    ``factor`` to ``zoom`` times READ_PX_PER_VIEW device pixels per view pixel: a panel and a line are as many
    view pixels at any zoom (a soft line read 1.8 times larger made its bold blurred letters panels: "Microsoft"
    read "icrosoft", "Fabrikam Bank" "Fabrikam nk")."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2GRAY)
    if factor > 1.05:
        grey = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    binary = _dark_text(grey)
    px = READ_PX_PER_VIEW * zoom  # pixels per view pixel of the upscaled crop
    panel = round(PANEL_VIEW * px)
    count, _, stats, _ = cv2.connectedComponentsWithStats(255 - binary, connectivity=8)
    panels = []
    for x, y, w, h, area in stats[1:count]:
        if h >= panel and w >= panel and area >= 0.6 * w * h:
            binary[y:y + h, x:x + w] = _dark_text(grey[y:y + h, x:x + w])
            panels.append((int(x), int(y), int(w), int(h)))
    ink = 255 - binary
    length = max(15, round(LINE_VIEW * px))
    thick = max(3, round(LINE_THICK_VIEW * px))
    wiped = np.zeros_like(binary)
    for along, across in (((length, 1), (1, thick)), ((1, length), (thick, 1))):
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along))
        # a long run inside a thick block of ink (a word a camera's blur ran together) is not a line
        lines &= ~cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, across))
        wiped |= lines
    binary = binary | wiped
    bordered = cv2.copyMakeBorder(binary, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)  # text at the edge reads too
    return bordered, grey, panels, wiped
