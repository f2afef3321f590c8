"""Decoding images that come from outside (files a user gives, frames a device sends) within a size limit.

A 140 KB PNG can announce 12000x12000 pixels and take 1.5 GiB once decoded.
Every image from outside is opened lazily, its announced size is checked
against a limit, and only then decoded; past the limit the error is one line.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from harness.errors import HarnessError

#: The most pixels an image from outside may have (16 megapixels: 48 MiB as RGB), larger than any phone screen.
MAX_PIXELS = 16 * 1024 * 1024


class ImageTooLarge(HarnessError, ValueError):
    """An image announces more pixels than the harness decodes."""


class NotAnImage(HarnessError, ValueError):
    """A file that Pillow cannot read as an image."""


def check_size(width: int, height: int, what: str, limit: int = MAX_PIXELS) -> None:
    """Refuse a size before decoding: ``what`` names the file or the frame in the one-line error."""
    if width <= 0 or height <= 0 or width * height > limit:
        raise ImageTooLarge(f"{what}: the image says {width}x{height} pixels, expected at most {limit} pixels "
                            f"(e.g. {int(limit ** 0.5)}x{int(limit ** 0.5)}); not decoded")


def load_rgb(path: str | Path, what: str | None = None, limit: int = MAX_PIXELS) -> np.ndarray:
    """An image file as an RGB ``uint8`` array, its size checked from the header before any pixel is decoded."""
    what = what or str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own, lower limit decides
            with Image.open(path) as image:
                check_size(image.width, image.height, what, limit)
                return np.asarray(image.convert("RGB"))
    except ImageTooLarge:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"{what}: {exc}; not decoded (limit {limit} pixels)") from None
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow reports broken files with these
        raise NotAnImage(f"{what}: not an image ({exc})") from None
