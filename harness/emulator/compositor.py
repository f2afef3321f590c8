"""Frames drawn straight at the size a recording asks for, the way a phone's compositor scales its layers.

A phone does not draw its screen at full resolution and shrink the result for
``screenrecord --size``: its compositor scales each layer (the page, the one
turning away, the status bar) into the virtual display's buffer. This does
the same: a page is scaled to the asked size once (kept while frames need it)
and every frame of a page turn is blended at that size, with the clock and
toasts drawn on top by a renderer at the matching scale. A page turn's frame at
540x960 then costs a quarter of the pixels of one at 1080x1920, and no
scaling per frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from PIL import Image

from harness.emulator.renderer import Renderer

#: Scaled pages kept: the two of a page turn at two sizes (two recordings at once, e.g. a view and a test).
LAYERS_KEPT = 4
#: Renderers kept for decorations at a size (one per recording size and theme).
RENDERERS_KEPT = 4


def fitted_size(image_size: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """The largest size with ``image_size``'s aspect inside ``size`` (what a frame's picture takes of it)."""
    k = min(size[0] / image_size[0], size[1] / image_size[1])
    return max(1, round(image_size[0] * k)), max(1, round(image_size[1] * k))


def scale_to(image: Image.Image, fitted: tuple[int, int]) -> Image.Image:
    """``image`` scaled to ``fitted``: whole steps first (a box filter, a few ms at 1080x1920), then the rest."""
    if image.size == fitted:
        return image
    factor = min(image.width // fitted[0], image.height // fitted[1])
    if factor >= 2:
        image = image.reduce(factor)
    if image.size != fitted:
        image = image.resize(fitted, Image.BILINEAR)
    return image


def centred(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` centred on black in a ``size`` canvas (screenrecord's letterbox), or itself when it fills it."""
    if image.size == size:
        return image
    canvas = Image.new("RGB", size)
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


def fit_into(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A drawn frame scaled into ``size`` (keeping the aspect, centred on black): for frames with no layers."""
    return centred(scale_to(image, fitted_size(image.size, size)), size)


class Compositor:
    """Layers scaled once per size and renderers for each size, shared by every frame of one panel.

    Frames are drawn at a size by the thread that sends them (a recording), outside the phone's lock, so the
    caches here have their own. ``renderer_at(size, scale, theme)`` makes a renderer drawing at ``size`` and
    ``scale`` for ``theme`` (what the frame was made under: theme, accent)."""

    def __init__(self, renderer_at: Callable[[tuple[int, int], float, tuple], Renderer], width: int, height: int,
                 scale: float) -> None:
        self.width, self.height, self.scale = width, height, scale
        self._renderer_at = renderer_at
        self._lock = threading.Lock()
        self._layers: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._renderers: OrderedDict[tuple, Renderer] = OrderedDict()

    def clear(self) -> None:
        """Forget every scaled layer and renderer (the theme changed)."""
        with self._lock:
            self._layers.clear()
            self._renderers.clear()

    def fitted(self, size: tuple[int, int]) -> tuple[int, int]:
        return fitted_size((self.width, self.height), size)

    def layer(self, key: tuple, fitted: tuple[int, int], full: Callable[[], Image.Image]) -> Image.Image:
        """The layer ``key`` (a page) at ``fitted``, scaled from ``full()`` the first time it is asked for."""
        with self._lock:
            image = self._layers.get((key, fitted))
            if image is not None:
                self._layers.move_to_end((key, fitted))
                return image
        image = scale_to(full(), fitted)   # outside the lock: another size may be drawn meanwhile
        with self._lock:
            self._layers[(key, fitted)] = image
            while len(self._layers) > LAYERS_KEPT:
                self._layers.popitem(last=False)
        return image

    def renderer(self, fitted: tuple[int, int], theme: tuple) -> Renderer:
        """A renderer drawing at ``fitted`` (the panel's scale times the size's), for ``theme`` (theme, accent)."""
        key = (fitted, theme)
        with self._lock:
            renderer = self._renderers.get(key)
            if renderer is None:
                renderer = self._renderer_at(fitted, self.scale * fitted[1] / self.height, theme)
                self._renderers[key] = renderer
                while len(self._renderers) > RENDERERS_KEPT:
                    self._renderers.popitem(last=False)
            else:
                self._renderers.move_to_end(key)
            return renderer
