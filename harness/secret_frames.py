"""Keeping secrets off the frames a run keeps: the pictures' side of ``harness.secrets.redact``.

An access code shows its digits in its field, a password field its marks, and the keyboard lights the keys a
secret is typed with. A run keeps frames in several places (each step's screenshot, a wait's timeout frame,
the evidence of an error, the last frame of a failed test, the run's video), so hiding the secret in each is
not enough: whoever types a secret holds a veil over where it shows, in the run's folder, for as long as it
shows there, and every frame written into that folder (or a folder inside it) passes through ``veiled`` on
its way to disk. A veil is a box in shares of the frame (any size: a screenshot, a rectified camera frame);
a veil whose place is not known covers the whole frame.
"""

from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

#: The grey a veiled part of a frame is filled with.
VEIL_GREY = 128

#: (left, top, right, bottom) in shares of the frame's width and height.
Region = tuple[float, float, float, float]
WHOLE: Region = (0.0, 0.0, 1.0, 1.0)

_lock = threading.Lock()
_ids = itertools.count(1)
_held: dict[int, tuple[Path, Region]] = {}


def _folder(folder: str | Path) -> Path:
    return Path(folder).resolve()


def hold(folder: str | Path, region: Region | None = None) -> int:
    """Veil ``region`` (None: the whole frame) of every frame written into ``folder`` from now until ``release``."""
    with _lock:
        token = next(_ids)
        _held[token] = (_folder(folder), region or WHOLE)
        return token


def release(token: int | None) -> None:
    """Lift a veil ``hold`` gave (an unknown or None token: nothing)."""
    if token is not None:
        with _lock:
            _held.pop(token, None)


@contextmanager
def held(folder: str | Path, region: Region | None = None) -> Iterator[int]:
    """A veil over ``region`` of ``folder``'s frames for the time of a ``with`` block."""
    token = hold(folder, region)
    try:
        yield token
    finally:
        release(token)


def regions(folder: str | Path) -> list[Region]:
    """The veils over frames written into ``folder`` now (those held for it or for a folder holding it)."""
    path = _folder(folder)
    with _lock:
        return [region for where, region in _held.values() if path == where or where in path.parents]


def veiled(image: np.ndarray, folder: str | Path) -> np.ndarray:
    """``image`` as it may be written into ``folder``: each veil held for it filled with VEIL_GREY (a copy;
    the image itself when nothing is veiled)."""
    boxes = regions(folder)
    if not boxes:
        return image
    out = np.array(image, copy=True)
    h, w = out.shape[:2]
    for left, top, right, bottom in boxes:
        x0, x1 = max(0, int(np.floor(left * w))), min(w, int(np.ceil(right * w)))
        y0, y1 = max(0, int(np.floor(top * h))), min(h, int(np.ceil(bottom * h)))
        out[y0:y1, x0:x1] = VEIL_GREY
    return out


def band(y: float, height: float, frame_height: float, below: bool = False) -> Region:
    """The rows ``y`` +- ``height`` (frame pixels) across the whole width as a region; ``below``: and every row
    under them (the keyboard a secret is typed on)."""
    top = max(0.0, (y - height) / frame_height)
    return (0.0, top, 1.0, 1.0 if below else min(1.0, (y + height) / frame_height))
