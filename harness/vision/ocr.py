"""Reading text on a frame with Tesseract: a target by its label, a title, a masked number, an account name.

OCR is slow next to template matching (tens to hundreds of milliseconds per
region), so it runs only on the regions a caller asks for, never on whole
frames as they arrive, and each reading is cached. The cache key is the
region's pixels (a hash), not the frame object: a handset driver may hand
out views of one reused screenshot buffer, and a key by identity would then
return the text of an older frame.

Tesseract wants dark text on a light page with letters some 20-40 pixels
tall, so a region is upscaled when its text is small (a 480x800 panel draws
body text 16-20 pixels tall), inverted when the page is dark (the dark
theme), and binarised (Otsu) before it is read. It knows nothing of where a
frame came from (an ADB screenshot or a rectified camera frame).

Tesseract is optional: Debian's ``tesseract-ocr`` (with a language package
per language, ``tesseract-ocr-eng``, ``tesseract-ocr-rus``) and the
``tesserocr`` module (``pip install 'handset-harness[ocr]'``). Without them
the first reading raises ``OcrUnavailable`` naming what to install.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.vision.definitions import Box
from harness.vision.ocr_image import READ_PX_PER_VIEW, blurred, prepare, shade

#: Windows Phone lays pages out 480 view pixels across (the scale when the caller does not say).
VIEW_WIDTH = 480
#: Readings kept (a flow asks a few regions of a few frames; a bound keeps a long run's memory flat).
CACHE_SIZE = 256
#: How alike two texts must be to count as the same label or title (0..1, after normalising).
SAME_TEXT = 0.8
#: Words under this confidence (0..100) are dropped: noise and icon edges read as letters.
MIN_CONFIDENCE = 30.0
#: Where Debian, Fedora, Homebrew and a source build put Tesseract's language data.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/*/tessdata", "/usr/share/tessdata", "/usr/local/share/tessdata",
                 "/opt/homebrew/share/tessdata")
INSTALL_HINT = ("install Debian's tesseract-ocr and tesseract-ocr-{lang} (apt-get install tesseract-ocr "
                "tesseract-ocr-{lang}) and the tesserocr module (pip install 'handset-harness[ocr]')")


class OcrUnavailable(HarnessError):
    """Tesseract (the tesserocr module or a language's data) is not installed; the message says what to install."""


@dataclass(frozen=True)
class Word:
    """One word read, with its box in device pixels of the frame and Tesseract's confidence (0..100)."""

    text: str
    box: Box
    confidence: float
    line: int


@dataclass(frozen=True)
class Reading:
    """What a region says: its words in reading order, and their lines joined (one line of text per line)."""

    region: Box
    words: tuple[Word, ...]

    @property
    def lines(self) -> list[str]:
        out: dict[int, list[str]] = {}
        for w in self.words:
            out.setdefault(w.line, []).append(w.text)
        return [" ".join(ws) for _, ws in sorted(out.items())]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# ---------------------------------------------------------------------- text comparison
def normalise(text: str) -> str:
    """Lower case, accents and punctuation off, runs of space as one: what a person would call the same words."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w@.+]+", " ", text).split())


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0..1, after ``normalise`` (OCR confuses a letter or two: l/I, rn/m)."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 1.0 if na == nb else 0.0
    return SequenceMatcher(None, na, nb, autojunk=False).ratio()


#: A word that begins with a lowercase l before a consonant other than l and y: no English word does ("lrina",
#: "lnstalled"), but a sans face draws a capital I as an l, and OCR reads one for the other.
_L_FOR_I = re.compile(r"(?<![^\s\"'(\[‘“])l(?=[b-df-hj-km-np-tv-xz])")   # (at a word's start: not in an address)


def capital_i(text: str) -> str:
    """``text`` with a word's first l that no English word begins with read as the capital I a sans face drew:
    People's "Irina Petrova" was listed as "lrina Petrova" on half the profiles, faces and themes over ADB."""
    return _L_FOR_I.sub("I", text)


def edits(a: str, b: str) -> int:
    """The fewest letters to change, add or take away to make ``a`` into ``b`` (Levenshtein's distance)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def same_text(a: str, b: str, threshold: float = SAME_TEXT) -> bool:
    """Whether OCR's ``a`` says ``b`` (``similarity`` at least ``threshold``)."""
    return similarity(a, b) >= threshold


# ---------------------------------------------------------------------- Tesseract
def tessdata_dir(lang: str) -> str:
    """The folder holding ``LANG.traineddata`` for every language of ``lang`` ("eng", "eng+rus")."""
    wanted = lang.split("+")
    env = os.environ.get("TESSDATA_PREFIX")
    candidates = ([env, os.path.join(env, "tessdata")] if env else []) + \
        [d for pattern in TESSDATA_DIRS for d in sorted(glob.glob(pattern), reverse=True)]
    for folder in candidates:
        if all(os.path.isfile(os.path.join(folder, f"{code}.traineddata")) for code in wanted):
            return folder
    missing = next(code for code in wanted
                   if not any(os.path.isfile(os.path.join(f, f"{code}.traineddata")) for f in candidates))
    raise OcrUnavailable(f"OCR: no Tesseract language data for {missing!r} (looked in "
                         f"{', '.join(candidates) or 'no folder'}): {INSTALL_HINT.format(lang=missing)}")


class _Engines(threading.local):
    """One Tesseract instance per thread and language set (an instance is not thread-safe; starting one costs ~0.1 s)."""

    def __init__(self) -> None:
        self.apis: dict[tuple[str, int, str], Any] = {}


_engines = _Engines()


def _api(lang: str, psm: int, only: str = "") -> Any:
    key = (lang, psm, only)
    api = _engines.apis.get(key)
    if api is None:
        try:
            import tesserocr
        except ImportError:
            raise OcrUnavailable(f"OCR: the tesserocr module is not installed: {INSTALL_HINT.format(lang=lang)}") from None
        try:
            api = tesserocr.PyTessBaseAPI(path=tessdata_dir(lang), lang=lang, psm=psm)
        except RuntimeError as exc:
            raise OcrUnavailable(f"OCR: Tesseract did not start for {lang!r} ({exc}): "
                                 f"{INSTALL_HINT.format(lang=lang)}") from None
        if only:
            api.SetVariable("tessedit_char_whitelist", only)
        _engines.apis[key] = api
    return api


# ---------------------------------------------------------------------- preprocessing
def _clip(image: np.ndarray, region: Box | None) -> Box:
    h, w = image.shape[:2]
    if region is None:
        return Box(0, 0, w, h)
    x0, y0 = max(0, region.x), max(0, region.y)
    x1, y1 = min(w, region.x + region.w), min(h, region.y + region.h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"region {region.as_list()} is off the {w}x{h} frame")
    return Box(x0, y0, x1 - x0, y1 - y0)


_cache: "OrderedDict[tuple[Any, ...], tuple[tuple[str, tuple[int, int, int, int], float, int], ...]]" = OrderedDict()
_cache_lock = threading.Lock()
_stats = {"hits": 0, "reads": 0}


def cache_stats() -> dict[str, int]:
    """How many readings came from the cache and how many ran Tesseract (for tests and reports)."""
    with _cache_lock:
        return dict(_stats)


def _recognise(binary: np.ndarray, lang: str, psm: int, only: str = "") -> tuple[tuple[str, tuple[int, int, int, int], float, int], ...]:
    api = _api(lang, psm, only)  # first: it says what to install when tesserocr is missing
    import tesserocr
    from PIL import Image

    api.SetImage(Image.fromarray(binary))
    api.Recognize()
    words = []
    line = -1
    iterator = api.GetIterator()
    level = tesserocr.RIL.WORD
    if iterator is None:
        return ()
    for item in tesserocr.iterate_level(iterator, level):
        if item.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
            line += 1
        try:
            text = item.GetUTF8Text(level)
        except RuntimeError:  # an empty word (a speck): nothing to read
            continue
        bbox = item.BoundingBox(level)
        if not text or not text.strip() or bbox is None:
            continue
        x0, y0, x1, y1 = bbox
        words.append((text.strip(), (x0, y0, x1 - x0, y1 - y0), float(item.Confidence(level)), max(line, 0)))
    return tuple(words)


def _cached(crop: np.ndarray, how: tuple[Any, ...], read: Any) -> Any:
    """``read()``'s answer for these pixels read this way, from the cache when it has them."""
    key = (hashlib.blake2b(crop.tobytes(), digest_size=16).hexdigest(), crop.shape, *how)
    with _cache_lock:
        raw = _cache.get(key)
        if raw is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return raw
    raw = read()
    with _cache_lock:
        _stats["reads"] += 1
        _cache[key] = raw
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return raw


def read_region(image: np.ndarray, region: Box | None = None, *, scale: float | None = None, lang: str = "eng",
                single_line: bool = False, min_confidence: float = MIN_CONFIDENCE, block: bool = False,
                zoom: float = 1.0) -> Reading:
    """The words in ``region`` (device pixels; None: the whole frame) of a decoded RGB frame.

    ``scale`` is device pixels per view pixel (default: frame width / 480);
    ``single_line`` reads the region as one line of text (a title, a field); a tall region is read as text
    anywhere on it, unless ``block`` says it is one block of lines (a list: Tesseract's sparse mode, given a
    list seen through a camera, once dropped two of its seventeen rows that its block mode read);
    words Tesseract is less sure of than ``min_confidence`` are left out; ``zoom`` reads it that many times
    larger than Tesseract's usual size (a short name's capitals).
    """
    box = _clip(image, region)
    scale = scale or image.shape[1] / VIEW_WIDTH
    factor = max(1.0, READ_PX_PER_VIEW * zoom / scale)
    crop = np.ascontiguousarray(image[box.y:box.y + box.h, box.x:box.x + box.w])
    psm = 7 if single_line else 6 if block or box.h < 4 * 40 * scale else 11  # a line / a block / text anywhere
    # soft or sharp is a property of the pixels the key already holds: told only when they are read, not on a hit
    raw = _cached(crop, (lang, psm, round(factor, 3), zoom),
                  lambda: _recognise(shade(crop, factor, zoom) if blurred(crop) else prepare(crop, factor, zoom), lang,
                                     psm))
    pad = 12
    words = tuple(Word(text, Box(box.x + round((x - pad) / factor), box.y + round((y - pad) / factor),
                                 max(1, round(w / factor)), max(1, round(h / factor))), conf, line)
                  for text, (x, y, w, h), conf, line in raw if conf >= min_confidence)
    return Reading(box, words)


def read_text(image: np.ndarray, region: Box | None = None, *, scale: float | None = None, lang: str = "eng",
              single_line: bool = False, zoom: float = 1.0) -> str:
    """What ``region`` says, one line of text per line on screen (see ``read_region``)."""
    return read_region(image, region, scale=scale, lang=lang, single_line=single_line, zoom=zoom).text


def read_title(image: np.ndarray, region: Box, *, scale: float | None = None, lang: str = "eng",
               min_confidence: float = MIN_CONFIDENCE) -> str:
    """A page title (one line): what tells apart two screens of one layout (backup vs about under DejaVu)."""
    return " ".join(read_region(image, region, scale=scale, lang=lang, single_line=True,
                                min_confidence=min_confidence).lines)
