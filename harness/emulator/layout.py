"""Widgets and their places on the screen, in Windows Phone view pixels.

Windows Phone lays every page out 480 view pixels wide and scales it to the
panel; the emulator does the same, so one layout serves every resolution.
The renderer draws these widgets and the state machine hit-tests taps
against the very same rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import ImageFont

VIEW_WIDTH = 480
STATUS_BAR = 32
MARGIN = 24
CONTENT_WIDTH = VIEW_WIDTH - 2 * MARGIN

#: Font sizes in view pixels.
HEADER_SIZE = 20
TITLE_SIZE = 44
BODY_SIZE = 22
ITEM_SIZE = 32
SUB_SIZE = 19
BUTTON_SIZE = 22
FIELD_SIZE = 22


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font: identical on every machine, no system fonts needed."""
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


@lru_cache(maxsize=128)
def typeface(path: str | None, size: int) -> ImageFont.FreeTypeFont:
    """The face text is drawn with: a TrueType file (``--font``), else the bundled font.

    Only the glyphs change with it: pages are laid out (line breaks, widget places) with the bundled
    font's metrics whatever the face, as a layout designed once is drawn by another renderer.
    """
    if path is None:
        return font(size)
    return ImageFont.truetype(path, size)


def check_typeface(path: str) -> str:
    """``path`` if it is a font file Pillow can draw with, else ValueError in one line."""
    try:
        typeface(path, 12)
    except OSError as exc:
        raise ValueError(f"font {path}: not a TrueType/OpenType file Pillow can read ({exc})") from None
    return path


#: The mask of passwords and phone numbers. The bundled font has no glyph for it (it would draw an
#: empty box), so the renderer draws it as a disc and every measurement counts this advance for it.
BULLET = "\u2022"


def bullet_advance(size: int) -> float:
    """How far one bullet moves the pen at font size ``size`` (about a digit's width)."""
    return size * 0.55


@lru_cache(maxsize=4096)
def text_width(text: str, size: int) -> float:
    """The advance of ``text`` at font size ``size``, bullets included.

    Kept once measured: every frame lays its page out again (word wrap measures each line's candidates),
    and FreeType's measuring was most of a ``screencap -p`` of an unchanged screen on the device side."""
    plain = text.replace(BULLET, "")
    return (font(size).getlength(plain) if plain else 0.0) + text.count(BULLET) * bullet_advance(size)


def wrap(text: str, size: int, width: float) -> list[str]:
    """Greedy word wrap measured with the view-pixel font (same breaks at every scale)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split(" ")
        line = ""
        for word in words:
            candidate = f"{line} {word}".strip()
            if line and text_width(candidate, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass(frozen=True)
class Widget:
    """One thing on a page. ``id`` is set for what a tap can reach."""

    kind: str  # header, title, text, field, button, item, tile, arrow, dots, logo
    rect: Rect
    text: str = ""
    id: str | None = None
    sub: str = ""
    lines: tuple[str, ...] = ()
    size: int = BODY_SIZE
    secret: bool = False
    focused: bool = False
    selected: bool = False
    primary: bool = False
    dim: bool = False
    error: bool = False


@dataclass
class Page:
    """A laid-out screen: its name and its widgets."""

    name: str
    widgets: list[Widget] = field(default_factory=list)

    def hit(self, x: float, y: float) -> Widget | None:
        for widget in reversed(self.widgets):
            if widget.id and widget.rect.contains(x, y):
                return widget
        return None

    def widget(self, wid: str) -> Widget | None:
        return next((w for w in self.widgets if w.id == wid), None)

    def key(self) -> tuple:
        """Everything that decides the pixels (the renderer caches on it)."""
        return (self.name, tuple(self.widgets))


class PageBuilder:
    """Stacks widgets top to bottom; buttons go in a row at the bottom."""

    def __init__(self, name: str, view_height: int) -> None:
        self.page = Page(name)
        self.view_height = view_height
        self.y = STATUS_BAR + 14

    def _add(self, widget: Widget) -> Widget:
        self.page.widgets.append(widget)
        return widget

    def header(self, text: str) -> None:
        self._add(Widget("header", Rect(MARGIN, self.y, CONTENT_WIDTH, HEADER_SIZE + 6), text.upper(), size=HEADER_SIZE))
        self.y += HEADER_SIZE + 14

    def title(self, text: str, size: int = TITLE_SIZE) -> None:
        lines = wrap(text, size, CONTENT_WIDTH)
        h = len(lines) * (size + 6)
        self._add(Widget("title", Rect(MARGIN - 2, self.y, CONTENT_WIDTH, h), text, lines=tuple(lines), size=size))
        self.y += h + 22

    def pivot(self, active: str, others: tuple[str, ...]) -> None:
        """A pivot's headers in one line at title size: the one shown, then the others dimmed (a tap opens one)."""
        h = TITLE_SIZE + 6
        w = text_width(active, TITLE_SIZE) + 8
        self._add(Widget("title", Rect(MARGIN - 2, self.y, w, h), active, lines=(active,), size=TITLE_SIZE))
        x = MARGIN - 2 + w + 20
        for other in others:
            ow = min(text_width(other, TITLE_SIZE) + 8, VIEW_WIDTH - x)
            self._add(Widget("pivot", Rect(x, self.y, ow, h), other, id=f"pivot:{other}", lines=(other,),
                             size=TITLE_SIZE))
            x += ow + 20
        self.y += h + 22

    def text(self, text: str, size: int = BODY_SIZE, dim: bool = False, error: bool = False) -> None:
        lines = wrap(text, size, CONTENT_WIDTH)
        h = len(lines) * (size + 8)
        self._add(Widget("text", Rect(MARGIN, self.y, CONTENT_WIDTH, h), text, lines=tuple(lines), size=size, dim=dim, error=error))
        self.y += h + 16

    def field(self, wid: str, label: str, value: str, secret: bool = False, focused: bool = False) -> None:
        self._add(Widget("text", Rect(MARGIN, self.y, CONTENT_WIDTH, SUB_SIZE + 6), label, lines=(label,), size=SUB_SIZE, dim=True))
        self.y += SUB_SIZE + 10
        self._add(Widget("field", Rect(MARGIN, self.y, CONTENT_WIDTH, 50), value, id=wid, secret=secret, focused=focused, size=FIELD_SIZE))
        self.y += 50 + 18

    def item(self, wid: str, text: str, sub: str = "", selected: bool = False, size: int = ITEM_SIZE) -> None:
        h = size + 16 + (SUB_SIZE + 6 if sub else 0)
        self._add(Widget("item", Rect(MARGIN, self.y, CONTENT_WIDTH, h), text, id=wid, sub=sub, selected=selected, size=size))
        self.y += h + 8

    def inline_button(self, wid: str, text: str, primary: bool = False) -> None:
        w = max(160.0, text_width(text, BUTTON_SIZE) + 48)
        self._add(Widget("button", Rect(MARGIN, self.y, w, 56), text, id=wid, primary=primary, size=BUTTON_SIZE))
        self.y += 56 + 16

    def buttons(self, *specs: tuple[str, str]) -> None:
        """A row of buttons at the bottom of the page (the first is the primary one)."""
        n = len(specs)
        gap = 12
        w = (CONTENT_WIDTH - gap * (n - 1)) / n
        y = self.view_height - 24 - 56
        for i, (wid, text) in enumerate(specs):
            self._add(Widget("button", Rect(MARGIN + i * (w + gap), y, w, 56), text, id=wid, primary=(i == 0), size=BUTTON_SIZE))

    def tiles(self, tiles: list[tuple[str, str]]) -> None:
        """Start-screen tiles, two medium tiles a row."""
        gap = 12
        size = (CONTENT_WIDTH - gap) / 2
        for i, (wid, text) in enumerate(tiles):
            x = MARGIN + (i % 2) * (size + gap)
            y = self.y + (i // 2) * (size * 0.62 + gap)
            self._add(Widget("tile", Rect(x, y, size, size * 0.62), text, id=wid, size=BODY_SIZE))
        rows = (len(tiles) + 1) // 2
        self.y += rows * (size * 0.62 + gap)

    def arrow(self, wid: str) -> None:
        """The round 'all apps' arrow at the bottom right of Start."""
        self._add(Widget("arrow", Rect(VIEW_WIDTH - MARGIN - 52, self.view_height - 24 - 52, 52, 52), "", id=wid))

    def logo(self, text: str) -> None:
        """The boot splash: a logo in the middle of a black screen."""
        self._add(Widget("logo", Rect(VIEW_WIDTH / 2 - 90, self.view_height / 2 - 90, 180, 180), text, size=TITLE_SIZE))

    def app_bar(self, buttons: tuple[tuple[str, str], ...], expanded: bool = False) -> None:
        """Windows Phone's application bar: a band at the bottom, round icon buttons centred, '...' at the right;
        '...' opens it a little taller, with each button's label under it."""
        height = 72 + (28 if expanded else 0)
        top = self.view_height - height
        self._add(Widget("appbar", Rect(0, top, VIEW_WIDTH, height)))
        n = len(buttons)
        for i, (wid, icon) in enumerate(buttons):
            x = VIEW_WIDTH / 2 - n * 40 + i * 80 + 16
            self._add(Widget("round", Rect(x, top + 12, 48, 48), icon, id=wid))
            if expanded:
                w = text_width(icon, 16)
                self._add(Widget("text", Rect(x + 24 - w / 2, top + 66, w + 2, 22), icon, lines=(icon,), size=16))
        self._add(Widget("dots", Rect(VIEW_WIDTH - 64, top, 56, 36), "...", id="app_bar_more"))

    def avatar(self, wid: str) -> None:
        """An Xbox avatar: a figure in a circle, 160 view pixels across."""
        self._add(Widget("avatar", Rect(MARGIN, self.y, 160, 160), "", id=wid))
        self.y += 160 + 16
