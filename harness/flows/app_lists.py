"""Reading an app's list from the screen: Outlook's inbox, People's contacts, Calendar's agenda, the Store's apps.

An 8.1 list entry is a line in the page's foreground colour (a sender, a
name, an event, an app) with, under it, a dimmer line (the subject, the
number, the time, the price). The flows read both with OCR from the part
of the frame between the page title and the application bar, tell them
apart by their ink (a dim line has clearly less contrast with the page than
the title has), and scroll the list a screenful at a time to its end: the
end is the swipe that changes nothing. Nothing here asks the handset what
it shows; it is what a person reads.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from harness.flows.list_scroll import Entry, following, scrolled_by
from harness.flows.runner import FlowError, FlowRunner
from harness.flows.signin import SETUP_SCREENS, finish_setup_without_account
from harness.vision import Recognition
from harness.vision.recognition import find_target
from harness.vision.definitions import Box
from harness.vision.labels import title_region
from harness.vision.masked_digits import soft_label
from harness.vision.text_lines import line_boxes
from harness.vision.ocr import MIN_CONFIDENCE, capital_i, normalise, read_region, similarity
from harness.vision.ocr_image import blurred
from harness.vision.wait import same_picture

#: A word OCR keeps on a list's line however unsure of it: a capitalised name is often no dictionary word, and
#: Tesseract was 8-29 sure of "Irina" in "Irina Petrova" (sure of "Petrova": 96), which dropped it from People.
NAME = re.compile(r"[A-Z][a-z]{2,}")
#: An e-mail address as a line shows it.
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

#: A line whose ink has less than this share of the title's contrast with the page is a dim (secondary) line.
DIM_SHARE = 0.8
#: On a soft frame, a gap between the lines' contrasts of at least this share of the brightest is the one between
#: the bright lines and the dim ones.
DIM_GAP = 0.25
#: On a soft frame a line is judged dim or bright against the lines whose middles are this near its own (view
#: pixels): the line above and the line below (an entry's two lines are 36-40 view px apart).
NEAR_VIEW = 50
#: Half the height of the application bar's round buttons, in view pixels (the bar starts this far above them).
APP_BAR_ABOVE_BUTTON = 36
#: Round buttons of application bars the library knows (their place says where the list ends).
APP_BAR_TARGETS = ("sync", "today", "add", "search")
#: The status bar's height in view pixels (a page without a title starts its list under it).
STATUS_BAR_VIEW = 32
#: Lines are read this much larger than OCR's default (Tesseract is surer of a short name's capitals so).
LINE_ZOOM = 1.8
#: Most swipes through one list before it is an error (a list that never ends, a swipe that never lands).
MAX_SWIPES = 40
#: Most swipes through the app list before an app not found there is an error.
APP_LIST_SWIPES = 4


def list_region(rec: Recognition) -> Box:
    """The part of the frame the list is in: under the page title, above the application bar (if it has one)."""
    assert rec.image is not None
    height, width = rec.image.shape[:2]
    title = title_region(rec.definition, width, height, rec.scale) if rec.definition is not None else None
    top = title.y + title.h if title is not None else round(STATUS_BAR_VIEW * rec.scale)
    bars = [y for name, (_, y) in rec.targets.items() if name in APP_BAR_TARGETS and y > height * 0.7]
    bottom = round(min(bars) - APP_BAR_ABOVE_BUTTON * rec.scale) if bars else height
    return Box(0, top, width, max(1, bottom - top))


def _contrast(grey: np.ndarray, box: Box) -> float:
    """How far a text's ink stands from the page around it (0..255)."""
    crop = grey[box.y:box.y + box.h, box.x:box.x + box.w].astype(np.int16)
    if crop.size == 0:
        return 0.0
    return float(np.percentile(np.abs(crop - np.median(crop)), 99))


@dataclass(frozen=True)
class Line:
    """One line of text in a list's region as read: its words, whether it is dim, where it is (device pixels), how
    far its ink stood from the page (0 when the region's edge cuts it: part of it is not there)."""

    text: str
    dim: bool
    box: Box
    ink: float = 0.0

    @property
    def centre(self) -> tuple[int, int]:
        return self.box.x + self.box.w // 2, self.box.y + self.box.h // 2


def read_lines(rec: Recognition, limit: int | None = None) -> list[Line]:
    """The lines of text in the list region of a recognised frame, top to bottom, each bright or dim (only the
    first ``limit`` lines when given: OCR is the cost)."""
    import cv2

    assert rec.image is not None
    image = rec.image
    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    title = title_region(rec.definition, image.shape[1], image.shape[0], rec.scale) if rec.definition else None
    region = list_region(rec)
    # a camera's frame (told by its title's edges): a 480-wide page's list region may measure sharp through one
    soft = blurred(grey[region.y:region.y + region.h, region.x:region.x + region.w]) or camera_frame(rec)
    boxes = line_boxes(grey, region, rec.scale, faint=soft)[:limit]
    if not boxes:
        return []
    contrasts = [_contrast(grey, box) for box in boxes]
    reference = _contrast(grey, title) if title is not None else max(contrasts)
    dim_below = DIM_SHARE * reference
    dims = [c < dim_below for c in contrasts]
    if soft:
        dims = _dim_near(boxes, contrasts, _dim_split(contrasts, dim_below), rec.scale)
    lines = []
    for box, contrast, dim in zip(boxes, contrasts, dims):
        cut = box.y <= region.y or box.y + box.h >= region.y + region.h
        reading = read_region(image, box, scale=rec.scale, zoom=LINE_ZOOM, single_line=True, min_confidence=0)
        text = " ".join(w.text for w in reading.words if w.confidence >= MIN_CONFIDENCE or NAME.fullmatch(w.text))
        if soft and "@" in reading.text:  # (its unsure words too)
            text = _address_line(image, box) or text
        elif soft or soft_label(image, box):  # (a 480-wide page's region may measure sharp, its lines soft)
            text = _soft_line(image, box, text)
        if text:
            lines.append(Line(capital_i(text), dim, box, 0.0 if cut else contrast))
    return lines


def _address_line(image: np.ndarray, box: Box) -> str:
    """A soft line with an address in it (an account's line) read as the field reader reads a typed address, every
    way, and the reading most of them agree on ("" when none has an address): a camera's small dim text read
    once gave "stice@outiook com" for alice@outlook.com, and the account went unknown."""
    from harness.vision.field_text import read_field

    readings = [r.strip() for r in read_field(image, box, every_way=True) if ADDRESS.search(r)]
    return max(readings, key=readings.count) if readings else ""


def camera_frame(rec: Recognition) -> bool:
    """Whether ``rec``'s frame is a camera's soft one (its title's edges), not a screenshot: 72 of 72 camera frames
    and 0 of 72 screenshots (six profiles, both themes, three faces)."""
    assert rec.image is not None
    height, width = rec.image.shape[:2]
    title = title_region(rec.definition, width, height, rec.scale) if rec.definition is not None else None
    return title is not None and soft_label(rec.image, title)


def _soft_line(image: np.ndarray, box: Box, first: str) -> str:
    """A soft line read every way the field reader reads one (harness.vision.field_text) besides ``first``, the
    usual reading, and the reading most of them agree on (``first`` on a tie): once, through the camera, a subject
    lost a word ("Your" for "Your receipt") or a letter ("Weicome"). The line is evened out first (``_evened``).
    bench_camera_lists, camera frames of 12 benches (lumia-520, 630, 930, htc-8x; both themes): mail subjects
    read as ADB reads them 186 -> 252 of 288; ADB's own readings unchanged (its lines are not soft)."""
    from collections import Counter

    from harness.vision.field_text import read_field

    line = _evened(image, box)
    ways = read_field(line, Box(0, 0, line.shape[1], line.shape[0]), every_way=True)
    readings = [r for r in (first.strip(), *(r.strip() for r in ways)) if r]
    if not readings:
        return first
    votes = Counter(normalise(r) for r in readings)
    return max(readings, key=lambda r: votes[normalise(r)])  # (max keeps the first of equals: ``first``)


def _evened(image: np.ndarray, box: Box) -> np.ndarray:
    """The line in ``box`` as dark ink on white, its faintest ink stretched to black, with room around it: the field
    reader takes a field's border off its box and wants a clear contrast, and glare left a dim line 36 grey levels
    from the page ("last backup: today", lumia-630 light: read as no text at all)."""
    import cv2

    pad = max(4, box.h // 3)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, box.x - pad), max(0, box.y - pad), min(w, box.x + box.w + pad), min(h, box.y + box.h + pad)
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    if float(np.median(grey)) < 128:
        grey = 255.0 - grey
    page, ink = float(np.median(grey)), float(np.percentile(grey, 1))
    if page - ink < 8:
        return grey.astype(np.uint8)
    return np.clip((grey - ink) * 255.0 / (page - ink), 0, 255).astype(np.uint8)


def _dim_split(contrasts: list[float], otherwise: float) -> float:
    """The contrast under which a line of a soft (camera) frame is dim: in the widest gap between the lines'
    contrasts when it is a clear one (a blurred line's ink never reaches the big title's, so the title's share
    took every line for dim: bench 842483 light read no calendar entry), else ``otherwise``."""
    ordered = sorted(contrasts)
    if len(ordered) < 2:
        return otherwise
    gap, at = max((b - a, (a + b) / 2) for a, b in zip(ordered, ordered[1:]))
    return at if gap >= DIM_GAP * ordered[-1] else otherwise


def _dim_near(boxes: list[Box], contrasts: list[float], otherwise: float, scale: float) -> list[bool]:
    """Which lines of a soft (camera) frame are dim, each judged against the lines next to it (within NEAR_VIEW;
    with none there, twice as far; with none there either, against ``otherwise``): dim when under DIM_SHARE of
    the brightest of them. A glare spot takes contrast from every line under it, so no one level splits a
    frame's lines: on bench 842483 light the senders under the glare had 119-152 and the subjects beside them
    39-69, but the subjects away from it 112-124, and every sender under the glare was taken for a subject."""
    out = []
    for box, contrast in zip(boxes, contrasts):
        centre = box.y + box.h / 2
        for reach in (NEAR_VIEW, 2 * NEAR_VIEW):  # a line whose neighbour was not found: the next lines out
            near = [c for b, c in zip(boxes, contrasts)
                    if b is not box and abs(b.y + b.h / 2 - centre) <= reach * scale]
            if near:
                break
        out.append(contrast < DIM_SHARE * max(near + [contrast]) if near else contrast < otherwise)
    return out


def read_entries(rec: Recognition) -> list[Entry]:
    """The entries of the list a recognised frame shows, top to bottom (a dim line before any entry, such as
    Outlook's account line, is not one)."""
    entries: list[Entry] = []
    for line in read_lines(rec):
        box, text = line.box, line.text
        if not line.dim:
            entries.append(Entry(text, "", box, (line.ink, 0.0)))
        elif entries and not entries[-1].sub:
            last = entries[-1]
            x0, y0 = min(last.box.x, box.x), last.box.y
            x1, y1 = max(last.box.x + last.box.w, box.x + box.w), box.y + box.h
            entries[-1] = Entry(last.title, text, Box(x0, y0, x1 - x0, y1 - y0), (last.ink[0], line.ink))
    return entries


def settled(run: FlowRunner, screen: str, region: Box) -> Recognition:
    """The screen once two frames in a row agree inside ``region`` (a list still moving reads wrong)."""
    deadline = time.monotonic() + run.timeout
    rec = run.expect(screen)
    while True:
        again = run.handset.screenshot()
        assert rec.image is not None
        r = region
        if same_picture(again[r.y:r.y + r.h, r.x:r.x + r.w], rec.image[r.y:r.y + r.h, r.x:r.x + r.w], rec.scale):
            return rec
        if time.monotonic() > deadline:
            raise FlowError(f"the {screen} list kept moving for {run.timeout:.0f} s", screen, rec.score,
                            run.last_screenshot)
        rec = run.expect(screen, fresh=True, action=f"looked again: the {screen} list was still moving")


def read_list(run: FlowRunner, screen: str, skip: tuple[str, ...] = ()) -> list[Entry]:
    """Every entry of the list ``screen`` shows, scrolling it to its end (finger up a screenful at a time).

    ``skip`` names targets of the screen that sit in the list's place but are not entries (People's
    "what's new"): an entry over one of them is left out.
    """
    rec = run.expect(screen)
    region = list_region(rec)
    rec = settled(run, screen, region)
    w = rec.image.shape[1]  # type: ignore[union-attr]
    out: list[Entry] = []
    previous: list[Entry] = []
    moved: int | None = None
    for _ in range(MAX_SWIPES):
        skipped = [rec.targets[name][1] for name in skip if name in rec.targets]
        page = [e for e in read_entries(rec) if not any(e.box.y <= y <= e.box.y + e.box.h for y in skipped)]
        out, previous = following(out, previous, page, moved, rec.scale), page
        before = rec.image[region.y:region.y + region.h]  # type: ignore[index]
        run.swipe(w // 2, region.y + region.h * 3 // 4, w // 2, region.y + region.h // 5, 200)
        rec = settled(run, screen, region)
        after = rec.image[region.y:region.y + region.h]  # type: ignore[index]
        if same_picture(after, before, rec.scale):
            return out
        moved = scrolled_by(before, after, rec.scale)
    raise FlowError(f"the {screen} list was still moving after {MAX_SWIPES} swipes", screen, rec.score,
                    run.last_screenshot)


def find_entry(run: FlowRunner, screen: str, title: str) -> tuple[Recognition, Entry]:
    """Scroll the list ``screen`` shows until an entry whose main line says ``title``; FlowError at its end."""
    rec = run.expect(screen)
    region = list_region(rec)
    rec = settled(run, screen, region)
    w = rec.image.shape[1]  # type: ignore[union-attr]
    wanted = normalise(title)
    for _ in range(MAX_SWIPES):
        for entry in read_entries(rec):
            if similarity(entry.title, wanted) >= 0.85:
                return rec, entry
        before = rec.image[region.y:region.y + region.h]  # type: ignore[index]
        run.swipe(w // 2, region.y + region.h * 3 // 4, w // 2, region.y + region.h // 5, 200)
        rec = settled(run, screen, region)
        if same_picture(rec.image[region.y:region.y + region.h], before, rec.scale):  # type: ignore[index]
            break
    raise FlowError(f"no {title!r} in the {screen} list (read to its end)", screen, rec.score, run.last_screenshot)


def open_app(run: FlowRunner, target: str, then: list[str]) -> Recognition:
    """Start -> app list -> ``target`` (an app list target such as ``app:internet_explorer``) -> one of ``then``."""
    run.press("start")
    rec = run.expect("start", *SETUP_SCREENS)
    if rec.screen != "start":
        run.note(f"the phone shows {rec.screen}: set-up is not finished; finishing it without an account")
        finish_setup_without_account(run)
    rec = run.advance("start", "all_apps", ["app_list"])
    w, h = run.handset.info.width, run.handset.info.height
    for _ in range(APP_LIST_SWIPES):  # further down the list: swipe up until vision finds the app
        if _shows(rec, target):
            break
        run.swipe(w // 2, int(h * 0.75), w // 2, int(h * 0.3), 200)
        rec = run.expect("app_list")
    return run.advance("app_list", target, then)


def _shows(rec: Recognition, target: str) -> bool:
    """Whether the frame shows ``target`` where a tap would land: by its template, or by its label where a camera's
    blur leaves no template good enough (``find_target``: a list item's row is read before it counts)."""
    try:
        find_target(rec, target)
    except KeyError:
        return False
    return True
