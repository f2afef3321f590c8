"""Screen definitions: what identifies a screen (anchors), where to tap (targets), what to ignore.

One TOML file per screen (read here; written by ``harness.vision.recording``) in a library folder, with the image crops next to
it. Coordinates are device pixels of the recorded screenshot; the recorded
screen's size says how to scale them to any other handset (Windows Phone
lays out 480 view pixels across).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError, HarnessError
from harness.images import load_rgb
from harness.resources import SCREENS_DIR
from harness.tomlfile import read_toml, reject_unknown_keys

#: The shipped screen library, found through the package (see harness.resources).
DEFAULT_LIBRARY = SCREENS_DIR
_TOP_KEYS = {"name", "description", "recorded", "anchor", "target", "ignore", "title", "layout"}
_TITLE_KEYS = {"text", "region"}
#: View pixels per pixel of the layout picture: the whole recorded screen, small (see ``layout`` below).
LAYOUT_SCALE = 0.5
_RECORDED_KEYS = {"width", "height", "profile", "theme"}
_ANCHOR_KEYS = {"image", "region", "align", "structure", "text", "icon"}
#: Longest text an anchor may record (a title or the lines of a paragraph its crop shows).
TEXT_MAX = 200
ALIGNS = ("top", "center", "bottom")
_TARGET_KEYS = {"name", "image", "region", "offset", "search", "label"}
#: Longest label a target may have (a button or list item, not a paragraph).
LABEL_MAX = 80
#: A screen name is also a file name in the library folder: no path separators, no leading dot.
SCREEN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")
#: A target name is what flows tap by (``sign_in``, ``key:a``).
TARGET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,79}")


def check_name(path: str | Path, field_name: str, value: Any, pattern: "re.Pattern[str]" = SCREEN_NAME) -> str:
    """``value`` if it is a valid screen (or target) name, else a ConfigError naming the field."""
    if not isinstance(value, str) or not value:
        raise ConfigError(path, field_name, "missing")
    if not pattern.fullmatch(value) or ".." in value:
        raise ConfigError(path, field_name, f"{value!r} is not a valid name (letters, digits, _ . -"
                          f"{' :' if pattern is TARGET_NAME else ''}; no / or ..; at most 80 characters)")
    return value


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass
class Anchor:
    """A crop that identifies the screen; ``align`` says which edge of the screen it keeps its distance to.

    ``structure``: the crop stands for the page's structure (where a list's rows are), not for its words (the
    rows show the phone's data: installed apps): it is compared at the working level only, never glyph by glyph.
    """

    image: np.ndarray  # RGB crop, recorded pixels
    region: Box
    file: str
    align: str = "top"
    structure: bool = False
    #: the words the crop shows, as OCR reads the recording (``harness.lab.anchor_texts`` writes it): under a cover,
    #: an anchor another font draws too differently to match by its pixels is confirmed by reading it
    #: (``harness.vision.anchor_text``); "" for a crop without words (an icon, a list's rows)
    text: str = ""
    #: the crop is a drawn shape of thin strokes (an application bar's round button), not words: how wide a stroke
    #: looks is the renderer's and the lens's (a camera's blur doubles a 1 px ring), so closer it is compared
    #: with both sides smoothed alike (``harness.vision.verdict``), where words keep their sharp shapes
    icon: bool = False


@dataclass
class Target:
    """Tap here: the centre of ``image`` where it is found (searched within ``search``), plus ``offset``.

    ``label`` is the text the target shows ("sign in"): when the template is
    not found well enough (another font, a real phone's renderer), OCR looks
    for the label in the same place (``harness.vision.ocr``). A target may
    have a label and no image at all (a lab marks it by its words).
    """

    name: str
    image: np.ndarray | None
    region: Box
    offset: tuple[int, int] = (0, 0)
    search: Box | None = None  # where to look (recorded pixels); None: a band around ``region``
    file: str = ""
    label: str = ""


@dataclass(frozen=True)
class Title:
    """A page's title as a person reads it ("backup") and where it is (recorded pixels)."""

    text: str
    region: Box


@dataclass
class ScreenDefinition:
    name: str
    width: int
    height: int
    anchors: list[Anchor]
    targets: list[Target] = field(default_factory=list)
    ignore: list[Box] = field(default_factory=list)
    path: str = ""
    description: str = ""
    title: Title | None = None  # the page title's words and place: what OCR tells look-alike screens apart by
    #: the whole recorded screen, grey, at LAYOUT_SCALE pixels per view pixel: where the page has text lines,
    #: boxes and blank space (optional; the matcher then also compares whole pages, not only the anchors)
    layout: np.ndarray | None = field(default=None, repr=False)

    @property
    def scale(self) -> float:
        return self.width / 480.0


def _box(path: Path, where: str, value: Any, width: int, height: int) -> Box:
    if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ConfigError(path, where, f"expected [x, y, w, h] of integers, got {value!r}")
    x, y, w, h = value
    if w <= 0 or h <= 0:
        raise ConfigError(path, where, f"empty region {value}")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise ConfigError(path, where, f"region {value} is off the recorded {width}x{height} screen")
    return Box(x, y, w, h)


def _crop(path: Path, where: str, name: Any, box: Box) -> np.ndarray:
    if not isinstance(name, str) or not name:
        raise ConfigError(path, where, "missing crop file name")
    file = path.parent / name
    if Path(name).is_absolute() or not file.resolve().is_relative_to(path.parent.resolve()):
        raise ConfigError(path, where, f"crop file {name} is outside the library folder {path.parent}")
    if not file.exists():
        raise ConfigError(path, where, f"crop file {name} does not exist")
    try:
        image = load_rgb(file, f"crop file {name}", limit=box.w * box.h)
    except HarnessError as exc:
        raise ConfigError(path, where, str(exc)) from None
    if image.shape[:2] != (box.h, box.w):
        raise ConfigError(path, where, f"crop {name} is {image.shape[1]}x{image.shape[0]}, region says {box.w}x{box.h}")
    return image


def check_label(path: str | Path, field_name: str, value: Any) -> str:
    """``value`` if it is a usable label (the words a target shows, one line), else a ConfigError naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, field_name, f"expected the words the target shows, got {value!r}")
    if len(value) > LABEL_MAX or not value.isprintable():
        raise ConfigError(path, field_name, f"a label is one line of at most {LABEL_MAX} printable characters")
    return value.strip()


def load_definition(path: str | Path) -> ScreenDefinition:
    """Load one screen definition; a mistake gets a one-line ConfigError naming the file and field."""
    path = Path(path)
    data = read_toml(path)
    reject_unknown_keys(path, data, sorted(_TOP_KEYS))
    name = check_name(path, "name", data.get("name"))
    rec = data.get("recorded")
    if not isinstance(rec, dict):
        raise ConfigError(path, "recorded", "missing table with width and height of the recorded screen")
    reject_unknown_keys(path, rec, sorted(_RECORDED_KEYS), "recorded")
    width, height = rec.get("width"), rec.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width < 240 or height <= width:
        raise ConfigError(path, "recorded.width", f"impossible recorded size {width}x{height}")
    anchors_raw = data.get("anchor")
    if not isinstance(anchors_raw, list) or not anchors_raw:
        raise ConfigError(path, "anchor", "missing: a screen needs at least one [[anchor]]")
    anchors = []
    for i, a in enumerate(anchors_raw):
        where = f"anchor[{i}]"
        reject_unknown_keys(path, a, sorted(_ANCHOR_KEYS), where)
        box = _box(path, f"{where}.region", a.get("region"), width, height)
        align = a.get("align", "bottom" if box.y > height * 0.55 else "top")
        if align not in ALIGNS:
            raise ConfigError(path, f"{where}.align", f"must be one of {', '.join(ALIGNS)}, got {align!r}")
        structure = a.get("structure", False)
        if not isinstance(structure, bool):
            raise ConfigError(path, f"{where}.structure", f"expected true or false, got {structure!r}")
        icon = a.get("icon", False)
        if not isinstance(icon, bool) or (icon and structure):
            raise ConfigError(path, f"{where}.icon", f"expected true or false (and not with structure), got {icon!r}")
        text = a.get("text", "")
        if not isinstance(text, str) or len(text) > TEXT_MAX or not (text == "" or text.strip() and text.isprintable()):
            raise ConfigError(path, f"{where}.text", f"expected the words the crop shows, one line of at most {TEXT_MAX} "
                              f"printable characters, got {text!r}")
        anchors.append(Anchor(_crop(path, f"{where}.image", a.get("image"), box), box, a.get("image"), align, structure,
                              text.strip(), icon))
    targets = []
    seen: dict[str, str] = {}
    labels: dict[str, str] = {}
    for i, t in enumerate(data.get("target", [])):
        where = f"target[{i}]"
        reject_unknown_keys(path, t, sorted(_TARGET_KEYS), where)
        tname = check_name(path, f"{where}.name", t.get("name"), TARGET_NAME)
        if tname in seen:  # a flow taps by name: two targets of one name would make the tap a guess
            raise ConfigError(path, f"{where}.name", f"duplicate target {tname!r} (also {seen[tname]})")
        seen[tname] = where
        box = _box(path, f"{where}.region", t.get("region"), width, height)
        offset = t.get("offset", [0, 0])
        if not (isinstance(offset, list) and len(offset) == 2 and all(isinstance(v, int) for v in offset)):
            raise ConfigError(path, f"{where}.offset", f"expected [dx, dy] of integers, got {offset!r}")
        search = _box(path, f"{where}.search", t["search"], width, height) if "search" in t else None
        label = check_label(path, f"{where}.label", t["label"]) if "label" in t else ""
        if label:  # OCR finds a label by its words: two targets saying the same would make the tap a guess
            key = " ".join(label.casefold().split())
            if key in labels:
                raise ConfigError(path, f"{where}.label", f"duplicate label {label!r} (also {labels[key]})")
            labels[key] = where
        if "image" not in t and not label:
            raise ConfigError(path, f"{where}.image", "missing: a target needs an image (a crop) or a label (its text)")
        image = _crop(path, f"{where}.image", t.get("image"), box) if "image" in t else None
        targets.append(Target(tname, image, box, (offset[0], offset[1]), search, t.get("image", ""), label))
    ignore = [_box(path, f"ignore[{i}].region", g.get("region") if isinstance(g, dict) else None, width, height)
              for i, g in enumerate(data.get("ignore", []))]
    title = None
    if "title" in data:
        t = data["title"]
        if not isinstance(t, dict):
            raise ConfigError(path, "title", 'expected [title] with text = "..." and region = [x, y, w, h]')
        reject_unknown_keys(path, t, sorted(_TITLE_KEYS), "title")
        title = Title(check_label(path, "title.text", t.get("text")), _box(path, "title.region", t.get("region"), width, height))
    layout = None
    if "layout" in data:
        size = Box(0, 0, round(width / (width / 480) * LAYOUT_SCALE), round(height / (width / 480) * LAYOUT_SCALE))
        layout = _crop(path, "layout", data["layout"], size)[:, :, 0]
    return ScreenDefinition(name, width, height, anchors, targets, ignore, str(path), str(data.get("description", "")),
                            title, layout)
