"""A handset's body in millimetres: its size, its screen's size and place, its capacitive keys.

A camera-and-robot slot works in millimetres (the robot) and the screen in
pixels (the profile); what ties them to the phone's own shape is this table,
the optional ``[body]`` of a device profile, taken from the model's spec
sheet. The screen's size follows from its diagonal and resolution (square
pixels); it sits centred across the body, ``top_mm`` below the body's top
edge; the keys (back, start, search, as Windows Phone has them) sit in a row
``key_row_mm`` below the screen's bottom edge, at fixed fractions of the
screen's width. Key places are also given in screen pixels extended past the
screen's bottom edge, so a calibration from robot mm to screen pixels reaches
them as it reaches any point of the screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

#: Where each capacitive key's centre sits across the screen's width (Windows Phone: back, start, search).
KEY_FRACTIONS: dict[str, float] = {"back": 0.18, "start": 0.5, "search": 0.82}
#: Half the size of a key's sensitive area, in mm (a fingertip-sized pad).
KEY_RADIUS_MM = 4.0

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "diagonal_in": (int, float), "width_mm": (int, float), "height_mm": (int, float),
    "thickness_mm": (int, float), "top_mm": (int, float), "key_row_mm": (int, float)}


@dataclass(frozen=True)
class PhoneBody:
    """The physical phone of one model; ``px_w``/``px_h`` are the profile's screen in pixels."""

    diagonal_in: float
    width_mm: float
    height_mm: float
    thickness_mm: float
    top_mm: float
    key_row_mm: float
    px_w: int
    px_h: int

    @property
    def screen_mm(self) -> tuple[float, float]:
        """The lit screen's width and height in mm, from its diagonal and resolution."""
        d = self.diagonal_in * 25.4 / math.hypot(self.px_w, self.px_h)
        return self.px_w * d, self.px_h * d

    @property
    def mm_per_px(self) -> float:
        return self.screen_mm[0] / self.px_w

    @property
    def screen_origin_mm(self) -> tuple[float, float]:
        """The screen's top-left corner in body mm (origin: the body's top-left corner, v down)."""
        return (self.width_mm - self.screen_mm[0]) / 2, self.top_mm

    def keys_px(self) -> dict[str, tuple[float, float]]:
        """Each capacitive key's centre in screen pixels (y past the screen's bottom edge)."""
        below = self.px_h + self.key_row_mm / self.mm_per_px
        return {name: (f * self.px_w, below) for name, f in KEY_FRACTIONS.items()}

    @property
    def key_radius_px(self) -> float:
        return KEY_RADIUS_MM / self.mm_per_px


def parse_body(path: Path, table: Any, px_w: int, px_h: int) -> PhoneBody:
    """Validate a profile's ``[body]`` table; a mistake is a one-line ``ConfigError`` naming the field."""
    if not isinstance(table, dict):
        raise ConfigError(path, "body", f"expected a table, got {type(table).__name__}")
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ConfigError(path, f"body.{unknown[0]}", f"unknown field (known: {', '.join(_FIELDS)})")
    values: dict[str, float] = {}
    for key, typ in _FIELDS.items():
        if key not in table:
            raise ConfigError(path, f"body.{key}", "missing")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, typ) or value <= 0:
            raise ConfigError(path, f"body.{key}", f"expected a positive number, got {value!r}")
        values[key] = float(value)
    body = PhoneBody(px_w=px_w, px_h=px_h, **values)
    sw, sh = body.screen_mm
    if sw >= body.width_mm:
        raise ConfigError(path, "body.width_mm", f"{body.width_mm} mm is narrower than the screen ({sw:.1f} mm)")
    if body.top_mm + sh + body.key_row_mm + KEY_RADIUS_MM > body.height_mm:
        raise ConfigError(path, "body.height_mm", f"{body.height_mm} mm cannot hold top_mm + screen "
                          f"({sh:.1f} mm) + key_row_mm + a key")
    return body
