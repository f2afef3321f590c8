"""The handset's panel: which pixels it shows now (page, page turn, status bar clock, toasts).

A 1080x1920 frame is 8.3 MB as RGBA, the form ``screencap`` sends. The panel
keeps pages in that form, ready to send, and no more of them than a frame can
need (the page shown and, during a page turn, the one before it). What
changes from frame to frame on a still page (the clock, a toast) lies in a
band at the top, so a frame is that freshly drawn band followed by the
page's own rows, never a copy of the whole page.
"""

from __future__ import annotations

import io
import math
import random
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Callable

from PIL import Image

from harness.emulator.compositor import Compositor, centred, fitted_size, fit_into
from harness.emulator.layout import Page
from harness.emulator.renderer import Renderer

if TYPE_CHECKING:
    from harness.emulator.phone_options import PhoneOptions

#: How far down a toast reaches, in view pixels (a tap above it dismisses the toast).
TOAST_HEIGHT_VIEW = 64
#: The top band a frame draws afresh: the status bar and a toast, with room for the glyphs' descent.
BAND_HEIGHT_VIEW = TOAST_HEIGHT_VIEW + 16
_TOASTS = [("Messaging", "New message from +1 555 0199"), ("Store", "3 app updates are ready"),
           ("Outlook", "You have 2 new emails"), ("Calendar", "Team meeting in 15 minutes")]
#: Pages kept ready as RGBA: the one shown and, for a page turn, the one it turns from.
PAGES_KEPT = 2


def _ease(t: float) -> float:
    return 1 - (1 - t) ** 3


def page_turn(old: Image.Image, new: Image.Image, t: float, background: tuple[int, int, int]) -> Image.Image:
    """Windows Phone's page turn, simplified: the new page slides in (a quarter of its width) and fades up."""
    w, h = new.size
    shifted = Image.new("RGB", (w, h), background)
    shifted.paste(new, (int((1 - t) * w * 0.25), 0))
    return Image.blend(old, shifted, t)


class Frame:
    """One frame as RGBA8888 rows, held as the buffers it is made of (no joined copy of them), or as the
    image it was drawn as (a page turn's frame, drawn when first asked for); each form is made from the other
    on demand. ``draw(fitted)``, when given, draws the frame straight at a smaller size from its layers (what a
    recording asks for), instead of drawing it whole and scaling it."""

    def __init__(self, width: int, height: int, parts: tuple[bytes | memoryview, ...] = (),
                 image: Image.Image | None = None,
                 draw: Callable[[tuple[int, int]], Image.Image] | None = None) -> None:
        self.width, self.height = width, height
        self._parts = parts
        self._image = image
        self._draw = draw
        self._png: bytes | None = None
        self._at: tuple[tuple[int, int], Image.Image] | None = None   # the last size asked for, drawn

    @property
    def parts(self) -> tuple[bytes | memoryview, ...]:
        """The RGBA rows, in order, as a few buffers (what screencap sends)."""
        if not self._parts:
            self._parts = (self.image().tobytes("raw", "RGBA"),)
        return self._parts

    def rgba(self) -> bytes:
        """The whole frame in one bytes object (a copy: senders use ``parts``)."""
        return b"".join(self.parts)

    def image(self) -> Image.Image:
        """The frame as an RGB image at the panel's size (do not draw on it)."""
        if self._image is None:
            if self._parts:
                self._image = Image.frombytes("RGB", (self.width, self.height), self.rgba(), "raw", "RGBX")
            elif self._draw is not None:
                self._image = self._draw((self.width, self.height))
        if self._image is None:
            raise ValueError(f"a {self.width}x{self.height} frame with neither pixels nor a way to draw them")
        return self._image

    def at(self, size: tuple[int, int]) -> Image.Image:
        """The frame fitted into ``size`` (keeping its aspect, centred on black), as an RGB image of ``size``:
        drawn at that size from its layers when it can be, else scaled from the whole frame."""
        if size == (self.width, self.height):
            return self.image()
        if self._at is not None and self._at[0] == size:
            return self._at[1]
        if self._draw is None:
            image = fit_into(self.image(), size)
        else:
            image = centred(self._draw(fitted_size((self.width, self.height), size)), size)
        self._at = (size, image)
        return image

    def png(self) -> bytes:
        """The frame as PNG, made once per frame (what ``screencap -p`` sends)."""
        if self._png is None:
            buf = io.BytesIO()
            self.image().save(buf, format="PNG", compress_level=1)
            self._png = buf.getvalue()
        return self._png


class Display:
    """The panel of one handset; the phone calls it under its own lock.

    ``clock`` (seconds, monotonic) times page turns and toasts; a test of the panel itself passes one it steps,
    to look at any moment of a page turn however slowly the machine draws."""

    def __init__(self, width: int, height: int, scale: float, theme: str, accent: tuple[int, int, int],
                 options: "PhoneOptions", clock: Callable[[], float] = time.monotonic) -> None:
        self.width, self.height, self.scale = width, height, scale
        self.options = options
        self._clock = clock
        # The renderer keeps no pages itself: this panel keeps them, as RGBA ready to send.
        self.renderer = Renderer(width, height, scale, theme, accent, cache_size=0, font=options.font)
        self._theme = (theme, accent)
        # a recording's size: pages scaled once, each frame blended and decorated at that size
        self.compositor = Compositor(
            lambda size, k, th: Renderer(size[0], size[1], k, th[0], th[1], cache_size=0, font=options.font),
            width, height, scale)
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._band_rows = min(height, math.ceil(BAND_HEIGHT_VIEW * scale))
        self._anim_from: Page | None = None
        self._anim_start = 0.0
        self._rng = random.Random(options.toast_seed)
        self._next_toast = self._clock() + self._rng.expovariate(1 / options.toast_interval)
        self._toast: tuple[float, tuple[str, str]] | None = None
        self._frame: tuple[tuple, Frame] | None = None
        self._turn: tuple[tuple, Image.Image, Image.Image] | None = None

    def set_theme(self, theme: str, accent: tuple[int, int, int]) -> None:
        self.renderer.set_theme(theme, accent)
        self._theme = (theme, accent)
        self.compositor.clear()
        self._pages.clear()
        self._frame = None
        self._turn = None

    # ------------------------------------------------------------------ page turns
    def turn_from(self, page: Page) -> None:
        """A page turn starts now, away from ``page``."""
        self._anim_from = page
        self._anim_start = self._clock()

    def stop_turning(self) -> None:
        self._anim_from = None
        self._turn = None

    def animating(self) -> bool:
        return self._anim_from is not None and (self._clock() - self._anim_start) * 1000 < self.options.animation_ms

    # ------------------------------------------------------------------ toasts
    def current_toast(self) -> tuple[str, str] | None:
        if not self.options.toasts:
            return None
        now = self._clock()
        if self._toast is not None and now < self._toast[0]:
            return self._toast[1]
        self._toast = None
        if now >= self._next_toast:
            until = now + self.options.toast_duration
            self._toast = (until, self._rng.choice(_TOASTS))
            self._next_toast = until + self._rng.expovariate(1 / self.options.toast_interval)
            return self._toast[1]
        return None

    def dismiss_toast(self) -> None:
        self._toast = None

    # ------------------------------------------------------------------ frames
    def black(self) -> Frame:
        """The panel off: black, fully opaque."""
        key: tuple = ("black",)
        if self._frame is None or self._frame[0] != key:
            self._frame = (key, Frame(self.width, self.height, (b"\0\0\0\xff" * (self.width * self.height),),
                                      draw=lambda fitted: Image.new("RGB", fitted)))
        return self._frame[1]

    def frame(self, page: Page) -> Frame:
        """``page`` as shown now: mid page turn, or still with the status bar clock and any toast on top."""
        progress = 1.0
        if self._anim_from is not None:
            progress = (self._clock() - self._anim_start) * 1000 / max(1, self.options.animation_ms)
            if progress >= 1.0:
                self._anim_from = None
                progress = 1.0
        toast = self.current_toast()
        clock = self.options.clock or time.strftime("%H:%M")
        status_bar = page.name != "booting"
        if progress < 1.0:
            assert self._anim_from is not None
            return self._turn_frame(self._anim_from, page, _ease(progress), clock, toast, status_bar)
        self._turn = None
        key = (page.key(), clock, toast)
        if self._frame is not None and self._frame[0] == key:
            return self._frame[1]
        self._frame = None  # let the old frame go before the new one is made
        frame = self._decorated(self._rgba_page(page), clock, toast, status_bar, page.key())
        self._frame = (key, frame)
        return frame

    def _rgba_page(self, page: Page) -> bytes:
        key = page.key()
        rgba = self._pages.get(key)
        if rgba is None:
            rgba = self.renderer.page(page).tobytes("raw", "RGBA")
            self._pages[key] = rgba
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(key)
        return rgba

    def _turn_images(self, old: Page, new: Page) -> tuple[Image.Image, Image.Image]:
        """Both pages of the page turn under way as images, kept while it lasts (every frame of it needs them)."""
        key = (old.key(), new.key())
        if self._turn is None or self._turn[0] != key:
            self._turn = None
            images = tuple(Image.frombytes("RGB", (self.width, self.height), self._rgba_page(p), "raw", "RGBX")
                           for p in (old, new))
            self._turn = (key, images[0], images[1])
        return self._turn[1], self._turn[2]

    def _decorated(self, rgba: bytes, clock: str, toast: tuple[str, str] | None, status_bar: bool,
                   page_key: tuple = ()) -> Frame:
        """The band at the top drawn afresh over the page's, then the page's other rows as they are; at a
        recording's size, the page scaled once and the band drawn over it at that size."""
        cut = self._band_rows * self.width * 4
        band = Image.frombytes("RGB", (self.width, self._band_rows), rgba[:cut], "raw", "RGBX")
        band = self.renderer.decorate(band, clock, toast, status_bar=status_bar)
        theme, size = self._theme, (self.width, self.height)

        def draw(fitted: tuple[int, int]) -> Image.Image:
            page = self.compositor.layer((theme, page_key), fitted,
                                         lambda: Image.frombytes("RGB", size, rgba, "raw", "RGBX"))
            return self.compositor.renderer(fitted, theme).decorate(page, clock, toast, status_bar)
        return Frame(self.width, self.height, (band.tobytes("raw", "RGBA"), memoryview(rgba)[cut:]), draw=draw)

    def _turn_frame(self, old_page: Page, new_page: Page, t: float, clock: str, toast: tuple[str, str] | None,
                    status_bar: bool) -> Frame:
        """One frame of the page turn under way, drawn when first asked for: whole for a screenshot, or straight
        at a recording's size from both pages scaled once (not kept: the next frame differs)."""
        old, new = self._turn_images(old_page, new_page)
        keys, theme = (old_page.key(), new_page.key()), self._theme
        background, renderer = self.renderer.palette.background, self.renderer

        def draw(fitted: tuple[int, int]) -> Image.Image:
            if fitted == (self.width, self.height):
                return renderer.decorate(page_turn(old, new, t, background), clock, toast, status_bar)
            old_s, new_s = (self.compositor.layer((theme, key), fitted, lambda image=image: image)
                            for key, image in zip(keys, (old, new)))
            turned = page_turn(old_s, new_s, t, background)
            return self.compositor.renderer(fitted, theme).decorate(turned, clock, toast, status_bar)
        return Frame(self.width, self.height, draw=draw)
