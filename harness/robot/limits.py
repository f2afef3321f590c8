"""Where the stylus may go, checked before a move is sent: the bed's travel, the phone's area, the touch height.

GRBL refuses a target past its own soft limits only by raising an alarm
that locks the machine until it is reset; and it knows nothing of the phone
on its bed. So the driver checks every target itself first: inside the
bed's travel (the box the controller's ``$130``-``$132`` describe), inside the
area the phone occupies when one is set, and never lower than the touch
height found at calibration (pressing further would press the stylus into
the glass). Coordinates are machine millimetres (MPos).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from harness.robot.grbl import MoveRefused

Span = tuple[float, float]
Point = tuple[float, float, float]
#: Slack for float rounding (GRBL prints three decimals).
EPSILON = 1e-6


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in machine millimetres: ``(low, high)`` on each axis."""

    x: Span
    y: Span
    z: Span

    def __post_init__(self) -> None:
        for name, (low, high) in (("x", self.x), ("y", self.y), ("z", self.z)):
            if low > high:
                raise ValueError(f"{name}: low end {low} is above the high end {high}")

    @classmethod
    def from_travel(cls, x: float, y: float, z: float) -> "Box":
        """The travel GRBL allows after homing with its default directions: ``-travel .. 0`` on each axis."""
        return cls((-abs(x), 0.0), (-abs(y), 0.0), (-abs(z), 0.0))

    @classmethod
    def from_settings(cls, settings: Mapping[int, float]) -> "Box":
        """The travel a controller reports in its ``$$`` settings (``$130``-``$132``, max travel in mm)."""
        missing = [f"${n}" for n in (130, 131, 132) if n not in settings]
        if missing:
            raise ValueError(f"the controller's settings have no {', '.join(missing)} (max travel)")
        return cls.from_travel(settings[130], settings[131], settings[132])

    def outside(self, point: Point) -> str | None:
        """Which axis ``point`` leaves the box on, in words; None when it is inside."""
        for name, value, (low, high) in zip("xyz", point, (self.x, self.y, self.z)):
            if value < low - EPSILON or value > high + EPSILON:
                return f"{name}={value:g} is outside {low:g}..{high:g}"
        return None


@dataclass(frozen=True)
class Limits:
    """The checks every target passes before it is sent.

    ``area`` (x and y spans), when set, is where the phone lies: the stylus
    may come lower than the hover height nowhere else. ``touch_z`` is the
    lowest the stylus may go (the touch height); ``hover_z`` is where it
    travels between touches, clear of the glass and the phone's holder, and
    at or above it the whole bed is open (homing parks the stylus in a corner).
    """

    bed: Box
    touch_z: float
    hover_z: float
    area: tuple[Span, Span] | None = None

    def __post_init__(self) -> None:
        if self.hover_z < self.touch_z:
            raise ValueError(f"hover height {self.hover_z:g} is below the touch height {self.touch_z:g}")
        for name, z in (("touch height", self.touch_z), ("hover height", self.hover_z)):
            if not self.bed.z[0] - EPSILON <= z <= self.bed.z[1] + EPSILON:
                raise ValueError(f"{name} {z:g} is outside the bed's z travel {self.bed.z[0]:g}..{self.bed.z[1]:g}")

    def with_area(self, x: Span, y: Span) -> "Limits":
        """These limits with the phone's area set (calibration finds it)."""
        return replace(self, area=(x, y))

    def check(self, target: Point, asked: str) -> None:
        """MoveRefused naming ``asked`` and the broken limit when ``target`` may not be reached."""
        where = self.bed.outside(target)
        if where:
            raise MoveRefused(f"refused {asked}: {where} (the bed's travel)")
        if target[2] < self.touch_z - EPSILON:
            raise MoveRefused(f"refused {asked}: z={target[2]:g} is below the touch height {self.touch_z:g}")
        if self.area is not None and target[2] < self.hover_z - EPSILON:
            for name, value, (low, high) in zip("xy", target, self.area):
                if value < low - EPSILON or value > high + EPSILON:
                    raise MoveRefused(f"refused {asked}: {name}={value:g} is outside the phone's area "
                                      f"{low:g}..{high:g} (below the hover height {self.hover_z:g})")
