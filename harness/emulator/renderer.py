"""Draws laid-out pages the way Windows Phone 8.1 does, at the panel's resolution.

Black or white background by theme, accent-coloured buttons, tiles and
highlights, large lowercase titles, and a status bar whose clock shows the
real time. The static part of a page is cached; the clock and toasts are
drawn on top of each frame. ``font`` (a TrueType file) draws every text of
every page with another face, as another handset's renderer would; layout,
colours and sizes stay.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageDraw

from harness.emulator.layout import BULLET, STATUS_BAR, VIEW_WIDTH, Page, Widget, bullet_advance, check_typeface, typeface


@dataclass(frozen=True)
class Palette:
    background: tuple[int, int, int]
    foreground: tuple[int, int, int]
    dim: tuple[int, int, int]
    field: tuple[int, int, int]
    accent: tuple[int, int, int]
    error: tuple[int, int, int] = (232, 17, 35)

    @classmethod
    def for_theme(cls, theme: str, accent: tuple[int, int, int]) -> "Palette":
        if theme == "light":
            return cls((255, 255, 255), (0, 0, 0), (112, 112, 112), (222, 222, 222), accent)
        return cls((0, 0, 0), (255, 255, 255), (153, 153, 153), (191, 191, 191), accent)


class Renderer:
    """Renders pages for one panel (resolution and scale) and one palette."""

    def __init__(self, width: int, height: int, scale: float, theme: str, accent: tuple[int, int, int],
                 cache_size: int = 4, font: str | None = None) -> None:
        # A few pages are enough: a frame needs the current page and, mid-animation, the one before it.
        # Redrawing a page takes about 4 ms at 1080x1920; 24 cached pages cost 150 MiB per handset.
        self.width, self.height, self.scale = width, height, scale
        self.font = check_typeface(font) if font else None
        self.theme = theme
        self.palette = Palette.for_theme(theme, accent)
        self._cache: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._cache_size = cache_size

    def set_theme(self, theme: str, accent: tuple[int, int, int]) -> None:
        self.theme = theme
        self.palette = Palette.for_theme(theme, accent)
        self._cache.clear()

    # --------------------------------------------------------------- public
    def page(self, page: Page) -> Image.Image:
        """The page without the status bar (cached; do not draw on the result)."""
        key = page.key()
        image = self._cache.get(key)
        if image is None:
            image = self._draw_page(page)
            self._cache[key] = image
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return image

    def black(self) -> Image.Image:
        return Image.new("RGB", (self.width, self.height), (0, 0, 0))

    def decorate(self, image: Image.Image, clock: str, toast: tuple[str, str] | None, status_bar: bool = True) -> Image.Image:
        """A copy of ``image`` with the status bar clock and an optional toast on top."""
        frame = image.copy()
        draw = ImageDraw.Draw(frame)
        p = self.palette
        if status_bar:
            self._text(draw, VIEW_WIDTH - 16 - self._width(clock, 20), 6, clock, 20, p.foreground)
            for i in range(5):  # signal bars
                h = 4 + i * 3
                draw.rectangle(self._box(12 + i * 6, 24 - h, 4, h), fill=p.foreground)
            draw.rectangle(self._box(VIEW_WIDTH - 112, 10, 26, 13), outline=p.foreground, width=max(1, round(self.scale)))
            draw.rectangle(self._box(VIEW_WIDTH - 110, 12, 17, 9), fill=p.foreground)
        if toast is not None:
            app, text = toast
            draw.rectangle(self._box(0, 0, VIEW_WIDTH, 64), fill=p.accent)
            self._text(draw, 16, 8, app, 20, (255, 255, 255), bold=True)
            self._text(draw, 16, 34, text, 19, (255, 255, 255))
        return frame

    # --------------------------------------------------------------- drawing
    def _px(self, v: float) -> int:
        return round(v * self.scale)

    def _width(self, text: str, size: int) -> float:
        """The advance of ``text`` drawn at view size ``size``, in view pixels (bullets included)."""
        px_size = max(6, self._px(size))
        plain = text.replace(BULLET, "")
        pen = typeface(self.font, px_size).getlength(plain) if plain else 0.0
        return (pen + text.count(BULLET) * bullet_advance(px_size)) / self.scale

    def _box(self, x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
        """A view-pixel box in pixels, at least one pixel each way (a renderer for a small recording draws a
        signal bar of 4 view pixels at a scale of 1/8)."""
        x0, y0 = self._px(x), self._px(y)
        return x0, y0, max(x0, self._px(x + w) - 1), max(y0, self._px(y + h) - 1)

    def _text(self, draw: ImageDraw.ImageDraw, x: float, y: float, text: str, size: int,
              fill: tuple[int, int, int], bold: bool = False) -> None:
        px_size = max(6, self._px(size))
        f = typeface(self.font, px_size)
        pen, top = float(self._px(x)), self._px(y)
        for run in re.split(f"({BULLET}+)", text):
            if run.startswith(BULLET):  # drawn, not typeset: the font lacks the glyph
                _, x_top, _, x_bottom = f.getbbox("x")
                cy = top + (x_top + x_bottom) / 2
                r = px_size * 0.16
                step = bullet_advance(px_size)
                for _ in run:
                    cx = pen + step / 2
                    draw.ellipse((round(cx - r), round(cy - r), round(cx + r), round(cy + r)), fill=fill)
                    pen += step
            elif run:
                draw.text((round(pen), top), run, font=f, fill=fill,
                          stroke_width=1 if bold and self.scale >= 1.5 else 0, stroke_fill=fill)
                pen += f.getlength(run)

    def _draw_page(self, page: Page) -> Image.Image:
        p = self.palette
        image = Image.new("RGB", (self.width, self.height), (0, 0, 0) if page.name == "booting" else p.background)
        draw = ImageDraw.Draw(image)
        for widget in page.widgets:
            getattr(self, f"_w_{widget.kind}")(draw, widget)
        return image

    def _w_header(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        self._text(draw, w.rect.x, w.rect.y, w.text, w.size, self.palette.foreground, bold=True)

    def _w_title(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        for i, line in enumerate(w.lines):
            self._text(draw, w.rect.x, w.rect.y + i * (w.size + 6), line, w.size, self.palette.foreground)

    def _w_pivot(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        self._text(draw, w.rect.x, w.rect.y, w.text, w.size, self.palette.dim)

    def _w_text(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        p = self.palette
        colour = p.error if w.error else (p.dim if w.dim else p.foreground)
        for i, line in enumerate(w.lines):
            self._text(draw, w.rect.x, w.rect.y + i * (w.size + 8), line, w.size, colour)

    def _w_field(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        p = self.palette
        r = w.rect
        border = max(1, round(2 * self.scale))
        if w.focused:
            draw.rectangle(self._box(r.x, r.y, r.w, r.h), fill=(255, 255, 255), outline=p.accent, width=border)
        else:
            draw.rectangle(self._box(r.x, r.y, r.w, r.h), fill=p.field, outline=p.field, width=border)
        value = "•" * len(w.text) if w.secret else w.text
        self._text(draw, r.x + 10, r.y + 12, value, w.size, (0, 0, 0))

    def _w_button(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        p = self.palette
        r = w.rect
        border = max(2, round(3 * self.scale))
        if w.primary:
            draw.rectangle(self._box(r.x, r.y, r.w, r.h), fill=p.accent)
            colour = (255, 255, 255)
        else:
            draw.rectangle(self._box(r.x, r.y, r.w, r.h), outline=p.foreground, width=border)
            colour = p.foreground
        tw = self._width(w.text, w.size)
        self._text(draw, r.x + (r.w - tw) / 2, r.y + (r.h - w.size) / 2 - 2, w.text, w.size, colour)

    def _w_item(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        p = self.palette
        colour = p.accent if w.selected else p.foreground
        self._text(draw, w.rect.x, w.rect.y + 4, w.text, w.size, colour)
        if w.sub:
            self._text(draw, w.rect.x, w.rect.y + w.size + 12, w.sub, 19, p.dim)

    def _w_tile(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        r = w.rect
        draw.rectangle(self._box(r.x, r.y, r.w, r.h), fill=self.palette.accent)
        self._text(draw, r.x + 10, r.y + r.h - w.size - 10, w.text, w.size - 4, (255, 255, 255))

    def _w_arrow(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        r = w.rect
        fg = self.palette.foreground
        draw.ellipse(self._box(r.x, r.y, r.w, r.h), outline=fg, width=max(2, round(2 * self.scale)))
        cx, cy = r.center
        draw.line([(self._px(cx - 12), self._px(cy)), (self._px(cx + 12), self._px(cy))], fill=fg, width=max(2, round(3 * self.scale)))
        draw.line([(self._px(cx + 2), self._px(cy - 10)), (self._px(cx + 12), self._px(cy)),
                   (self._px(cx + 2), self._px(cy + 10))], fill=fg, width=max(2, round(3 * self.scale)))

    def _w_appbar(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        band = (33, 33, 33) if self.theme == "dark" else (223, 223, 223)
        draw.rectangle(self._box(w.rect.x, w.rect.y, w.rect.w, w.rect.h), fill=band)

    def _w_round(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        """A round application-bar button with its icon drawn in lines (the bundled font has no icon glyphs)."""
        r, fg = w.rect, self.palette.foreground
        line = max(2, round(2 * self.scale))
        draw.ellipse(self._box(r.x, r.y, r.w, r.h), outline=fg, width=line)
        cx, cy = r.center
        if w.text == "sync":  # two arcs with arrow heads
            box = self._box(cx - 12, cy - 12, 24, 24)
            draw.arc(box, 200, 340, fill=fg, width=line)
            draw.arc(box, 20, 160, fill=fg, width=line)
            draw.line([(self._px(cx + 11), self._px(cy - 8)), (self._px(cx + 12), self._px(cy - 1)),
                       (self._px(cx + 5), self._px(cy - 2))], fill=fg, width=line)
        elif w.text == "search":  # a magnifier: a ring and its handle
            draw.ellipse(self._box(cx - 10, cy - 12, 16, 16), outline=fg, width=line)
            draw.line([(self._px(cx + 3), self._px(cy + 2)), (self._px(cx + 11), self._px(cy + 11))], fill=fg,
                      width=line)
        elif w.text == "today":  # a calendar page: a box, its top band and a day in it
            draw.rectangle(self._box(cx - 12, cy - 11, 24, 22), outline=fg, width=line)
            draw.rectangle(self._box(cx - 12, cy - 11, 24, 6), fill=fg)
            draw.rectangle(self._box(cx - 4, cy, 8, 6), fill=fg)
        else:  # add: a plus
            draw.line([(self._px(cx - 11), self._px(cy)), (self._px(cx + 11), self._px(cy))], fill=fg, width=line)
            draw.line([(self._px(cx), self._px(cy - 11)), (self._px(cx), self._px(cy + 11))], fill=fg, width=line)

    def _w_backdrop(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        """The page under the keyboard: nothing to draw (it only catches taps that close the keyboard)."""

    def _w_keyboard(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        band = (31, 31, 31) if self.theme == "dark" else (210, 210, 210)
        draw.rectangle(self._box(w.rect.x, w.rect.y, w.rect.w, w.rect.h), fill=band)

    def _w_key(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        """A key of the on-screen keyboard: letter keys lighter than the band, shift, backspace, the page key and
        enter a shade between; shift in the accent colour while it holds. Icons are drawn in lines."""
        r, dark = w.rect, self.theme == "dark"
        fill = self.palette.accent if w.selected else (
            ((56, 56, 56) if dark else (255, 255, 255)) if not w.dim else ((44, 44, 44) if dark else (236, 236, 236)))
        ink = (255, 255, 255) if dark or w.selected else (0, 0, 0)
        draw.rectangle(self._box(r.x, r.y, r.w, r.h), fill=fill)
        cx, cy = r.center
        line = max(2, round(2 * self.scale))
        if w.text:
            tw = self._width(w.text, w.size)
            self._text(draw, cx - tw / 2, cy - w.size * 0.62, w.text, w.size, ink)
        elif w.sub == "shift":  # an upward arrow outline
            pts = [(cx, cy - 14), (cx + 13, cy), (cx + 6, cy), (cx + 6, cy + 12), (cx - 6, cy + 12), (cx - 6, cy),
                   (cx - 13, cy), (cx, cy - 14)]
            draw.line([(self._px(x), self._px(y)) for x, y in pts], fill=ink, width=line)
        elif w.sub == "backspace":  # a key cap pointing left with an x in it
            pts = [(cx - 20, cy), (cx - 10, cy - 11), (cx + 16, cy - 11), (cx + 16, cy + 11), (cx - 10, cy + 11),
                   (cx - 20, cy)]
            draw.line([(self._px(x), self._px(y)) for x, y in pts], fill=ink, width=line)
            for a, b in (((-4, -5), (6, 5)), ((-4, 5), (6, -5))):
                draw.line([(self._px(cx + a[0]), self._px(cy + a[1])), (self._px(cx + b[0]), self._px(cy + b[1]))],
                          fill=ink, width=line)
        elif w.sub == "enter":  # a return arrow: down from the top right, then left to a head
            pts = [(cx + 12, cy - 12), (cx + 12, cy + 4), (cx - 12, cy + 4)]
            draw.line([(self._px(x), self._px(y)) for x, y in pts], fill=ink, width=line)
            draw.line([(self._px(cx - 5), self._px(cy - 3)), (self._px(cx - 12), self._px(cy + 4)),
                       (self._px(cx - 5), self._px(cy + 11))], fill=ink, width=line)
        elif w.sub == "space":  # a short bracket under the middle
            draw.line([(self._px(cx - 30), self._px(cy + 4)), (self._px(cx - 30), self._px(cy + 10)),
                       (self._px(cx + 30), self._px(cy + 10)), (self._px(cx + 30), self._px(cy + 4))], fill=ink,
                      width=max(1, round(self.scale)))

    def _w_dots(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        cx, cy = w.rect.center
        for i in (-1, 0, 1):
            x = cx + i * 8
            draw.ellipse(self._box(x - 2, cy - 2, 4, 4), fill=self.palette.foreground)

    def _w_avatar(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        r, p = w.rect, self.palette
        draw.ellipse(self._box(r.x, r.y, r.w, r.h), fill=p.accent)
        cx = r.x + r.w / 2
        draw.ellipse(self._box(cx - 24, r.y + 28, 48, 48), fill=(255, 255, 255))  # head
        draw.chord(self._box(cx - 50, r.y + 86, 100, 110), 180, 360, fill=(255, 255, 255))  # shoulders

    def _w_logo(self, draw: ImageDraw.ImageDraw, w: Widget) -> None:
        r = w.rect
        pane = (r.w - 12) / 2
        for i in range(2):
            for j in range(2):
                draw.rectangle(self._box(r.x + i * (pane + 12), r.y + j * (pane * 0.8 + 12), pane, pane * 0.8), fill=(255, 255, 255))
        label = w.text
        tw = self._width(label, 28)
        self._text(draw, VIEW_WIDTH / 2 - tw / 2, r.y + r.h + 24, label, 28, (255, 255, 255))


STATUS_BAR_HEIGHT = STATUS_BAR
