"""Targets found by their label: where on a frame a target's words are, read by OCR (``harness.vision.ocr``).

A screen definition may give a target a ``label`` (the words it shows).
When its template is not found well enough (another renderer, a real
phone seen through a camera), ``find_target`` asks ``locate_labelled``,
which reads only the region where that target can be and looks for its
words there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from harness.vision.definitions import Box, ScreenDefinition, Target
from harness.vision.ocr import SAME_TEXT, Reading, Word, edits, normalise, read_region, read_title, similarity


@dataclass(frozen=True)
class LabelMatch:
    """Where a label was read: the box of its words (device pixels), what OCR read there and how alike it is."""

    box: Box
    read: str
    score: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box.x + self.box.w / 2, self.box.y + self.box.h / 2)


def _union(words: Iterable[Word]) -> Box:
    ws = list(words)
    x0, y0 = min(w.box.x for w in ws), min(w.box.y for w in ws)
    x1, y1 = max(w.box.x + w.box.w for w in ws), max(w.box.y + w.box.h for w in ws)
    return Box(x0, y0, x1 - x0, y1 - y0)


def _segments(words: Iterable[Word]) -> list[list[Word]]:
    """Words of one line, split where a gap is wider than the text is tall (two buttons side by side)."""
    out: list[list[Word]] = []
    last: Word | None = None
    for w in words:
        gap_wide = last is not None and w.box.x - (last.box.x + last.box.w) > 1.5 * max(w.box.h, last.box.h)
        if last is None or w.line != last.line or gap_wide:
            out.append([])
        out[-1].append(w)
        last = w
    return out


def find_label(image: np.ndarray, label: str, region: Box | None = None, *, scale: float | None = None,
               lang: str = "eng", threshold: float = SAME_TEXT) -> LabelMatch | None:
    """The run of words on one line in ``region`` that says ``label`` best, if it says it well enough.

    A label matches whole words: "next" is not found in "nextcloud", and
    "sign in" is found in "sign in" but not in "sign in later" when that is
    the only line (the extra word counts against it).
    """
    best = _best_label(read_region(image, region, scale=scale, lang=lang), label)
    if best is None or best.score < threshold:  # a tall region (a list) read as one block too (a short one is)
        again = _best_label(read_region(image, region, scale=scale, lang=lang, block=True), label)
        if again is not None and (best is None or again.score > best.score):
            best = again
    if best is None or best.score < threshold:  # each line alone: read with the rest, a camera's may be dropped
        best = max((b for b in (_best_label(read_region(image, line, scale=scale, lang=lang, single_line=True), label)
                                for line in _lines(image, region, scale)) if b is not None),
                   key=lambda b: b.score, default=best)
    if best is None or best.score < threshold:
        return None
    return best


def _lines(image: np.ndarray, region: Box | None, scale: float | None) -> list[Box]:
    """The lines of text in ``region`` of an RGB frame (the whole frame when None), found by their ink."""
    import cv2

    from harness.vision.text_lines import line_boxes

    h, w = image.shape[:2]
    box = region or Box(0, 0, w, h)
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    return line_boxes(grey, box, scale or w / 480)


def _best_label(reading: Reading, label: str) -> LabelMatch | None:
    """The run of words on one line of ``reading`` that says ``label`` best (None when it has no words)."""
    wanted = normalise(label)
    n = max(1, len(wanted.split()))
    best: LabelMatch | None = None
    for words in _segments(reading.words):
        for size in {n - 1, n, n + 1} - {0}:
            for i in range(0, max(0, len(words) - size) + 1):
                span = words[i:i + size]
                if not span:
                    continue
                text = " ".join(w.text for w in span)
                # the rest of the line counts a little: "sign in" beats "sign in later" for the label "sign in"
                rest = sum(len(w.text) for w in words) - sum(len(w.text) for w in span)
                score = similarity(text, wanted) - 0.05 * min(rest, 10)
                if best is None or score > best.score:
                    best = LabelMatch(_union(span), text, round(score, 3))
    return best


#: View pixels around a target's recorded place that OCR reads for its label (the matcher's band is 90 too).
LABEL_BAND_VIEW = 90
#: In a list the rows are other apps' and accounts', of any name. OCR changes a letter for a like one (l/I, 0/O),
#: so a whole-word likeness of SAME_TEXT lets a row differ by a fifth of its letters; but it lets a shorter name
#: that is mostly the label's tail pass too ("0ple", read "Ople", is 0.8 like "people", and a tap on app:people
#: opened that app). A list item's reading may differ from its label by at most this share of the label's letters.
LIST_EDITS = 0.2


def says_label(read: str, label: str) -> bool:
    """Whether a list row's reading is its label but for OCR's slips: at most LIST_EDITS of the label's letters
    changed, added or taken away (one at least)."""
    wanted = normalise(label)
    return edits(normalise(read), wanted) <= max(1, round(LIST_EDITS * len(wanted)))


def label_region(definition: ScreenDefinition, target: Target, frame_width: int, frame_height: int,
                 scale: float) -> Box:
    """Where on a frame (device pixels, ``scale`` per view pixel) a target's label is looked for.

    Its ``search`` region if it has one (one reaching the recorded bottom
    follows the frame's bottom), else a band around its recorded place; a
    place in the lower part of the screen keeps its distance to the bottom
    (Windows Phone keeps a page's buttons there on every screen height).
    """
    k = scale / definition.scale
    frame_view_h, rec_view_h = frame_height / scale, definition.height / definition.scale
    if target.search is not None:
        s = target.search
        bottom = frame_height if s.y + s.h >= definition.height - 2 else round((s.y + s.h) * k)
        return _clip_box(round(s.x * k), round(s.y * k), round((s.x + s.w) * k), bottom, frame_width, frame_height)
    r = target.region
    shift = (frame_view_h - rec_view_h) * scale if r.y / definition.scale > rec_view_h * 0.55 else 0.0
    pad_x, pad_y = 40 * scale, LABEL_BAND_VIEW * scale
    return _clip_box(round(r.x * k - pad_x), round(r.y * k + shift - pad_y), round((r.x + r.w) * k + pad_x),
                     round((r.y + r.h) * k + shift + pad_y), frame_width, frame_height)


def _clip_box(x0: int, y0: int, x1: int, y1: int, width: int, height: int) -> Box:
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    return Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0))


def locate_labelled(recognition: Any, name: str, found: tuple[float, float] | None = None
                    ) -> tuple[float, float] | None:
    """Where to tap ``name`` on a recognised screen: ``found`` (where its template was found) when the target has no
    label, or is not in a list, or its label is read there; else where OCR reads its label; else None.

    In a list every row is a tile and a word: at the template's level "phone" fits the "photos" row and
    "store" the "games" row (another font, installed apps moving the rows), so a list item's place is read
    before it is tapped (only now, only that row). ``recognition`` is a ``matcher.Recognition``.
    """
    definition: ScreenDefinition | None = getattr(recognition, "definition", None)
    image = getattr(recognition, "image", None)
    target = next((t for t in definition.targets if t.name == name), None) if definition is not None else None
    if target is None or not target.label or image is None or definition is None:
        return found
    height, width = image.shape[:2]
    if found is not None:
        if target.search is None or _label_at(image, definition, target, found, recognition.scale):
            return found
    found = find_label(image, target.label, label_region(definition, target, width, height, recognition.scale),
                       scale=recognition.scale)
    if found is None or (target.search is not None and not says_label(found.read, target.label)):
        return None
    cx, cy = found.centre
    k = recognition.scale / definition.scale
    return (round(cx + target.offset[0] * k, 1), round(cy + target.offset[1] * k, 1))


def _label_at(image: np.ndarray, definition: ScreenDefinition, target: Target, at: tuple[float, float],
              scale: float) -> bool:
    """Whether the row at ``at`` (a list item's tap point, device pixels) says the target's label; True when OCR
    is not installed (a harness without the ``ocr`` extra taps where the template was found, as it always did)."""
    from harness.vision.ocr import OcrUnavailable

    k = scale / definition.scale
    r, height, width = target.region, image.shape[0], image.shape[1]
    cx, cy = at[0] - target.offset[0] * k, at[1] - target.offset[1] * k
    half_w, half_h = r.w * k / 2 + 40 * scale, r.h * k / 2 + 4 * scale
    region = _clip_box(round(cx - half_w), round(cy - half_h), round(cx + half_w + r.w * k), round(cy + half_h),
                       width, height)
    try:
        read = find_label(image, target.label, region, scale=scale)
        return read is not None and says_label(read.read, target.label)
    except OcrUnavailable:
        return True


def title_region(definition: ScreenDefinition, frame_width: int, frame_height: int, scale: float) -> Box | None:
    """Where a definition's title is on a frame (device pixels), padded a little; None when it records no title."""
    if definition.title is None:
        return None
    r, k, pad = definition.title.region, scale / definition.scale, 8 * scale
    return _clip_box(round(r.x * k - pad), round(r.y * k - pad), round((r.x + r.w) * k + pad),
                     round((r.y + r.h) * k + pad), frame_width, frame_height)


#: View pixels: a title region taller than this holds two lines (a long title wraps: "that account doesn't / exist").
TITLE_ONE_LINE_VIEW = 80
#: A title's letters are about twice as tall as body text's: read at half OCR's zoom (DejaVu's "inbox" at the zoom
#: for body text reads "InNDOXx", at half of it "inbox").
TITLE_SIZE = 2.0


def title_score(image: np.ndarray, definition: ScreenDefinition, scale: float | None = None) -> float | None:
    """How well the frame's title says ``definition``'s title (0..1), by OCR; None when it records no title.

    For the matcher, when two screens of one layout score alike (backup and
    about under another font): the one whose title the frame says wins. A
    title recorded on two lines is read as a block (as one line, OCR reads
    half of it or nothing).
    """
    scale = scale or image.shape[1] / 480
    region = title_region(definition, image.shape[1], image.shape[0], scale)
    if region is None or definition.title is None:
        return None
    # every word read counts, however unsure Tesseract is of it ("email+taccounts" in DejaVu, confidence 11): it
    # is compared with titles the library knows, and only a close likeness says one
    zoom = scale * TITLE_SIZE
    if definition.title.region.h / definition.scale > TITLE_ONE_LINE_VIEW:
        said = " ".join(read_region(image, region, scale=zoom, min_confidence=0.0).lines)
    else:
        said = read_title(image, region, scale=zoom, min_confidence=0.0)
    return round(similarity(said, definition.title.text), 3)


def tell_apart(image: np.ndarray, definitions: Iterable[ScreenDefinition], scale: float | None = None) -> str | None:
    """Of screens alike in layout, the one whose title the frame says (``SAME_TEXT`` or better, and alone); else None."""
    scores = {d.name: s for d in definitions if (s := title_score(image, d, scale)) is not None}
    said = [name for name, s in scores.items() if s >= SAME_TEXT]
    return said[0] if len(said) == 1 else None
