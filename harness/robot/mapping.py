"""A slot's calibration: robot millimetres <-> screen pixels, the touch height, and the file a lab keeps.

The robot's bed and the phone's glass are parallel planes, so the map from
bed millimetres to screen pixels is affine (``BedMap``: rotation, scale,
shear of badly squared axes, a mirror when an axis runs the other way,
and the offset of the holder); it is fitted by least squares to points
where the stylus tip was seen, and its residual (pixels) says how well.
The file holds a ``[robot]`` table (``harness.robot.config``: travel, touch
and hover heights, the phone's area) and a ``[calibration]`` table (the
map, its residual, the profile, the screen's corners in the camera).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.errors import ConfigError
from harness.robot.config import robot_settings
from harness.robot.gestures import Feeds
from harness.robot.limits import Limits
from harness.tomlfile import read_toml, reject_unknown_keys

Pair = tuple[float, float]
_FIELDS = ("profile", "mm_to_px", "residual_px", "worst_px", "points", "screen_corners", "lens", "camera", "robot",
           "created")


@dataclass(frozen=True)
class BedMap:
    """``px = A @ (x, y) + b``: bed millimetres to screen pixels (``matrix`` is ``[A | b]``, 2x3)."""

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]]

    def to_px(self, x: float, y: float) -> Pair:
        (a, b, c), (d, e, f) = self.matrix
        return a * x + b * y + c, d * x + e * y + f

    def to_mm(self, px: float, py: float) -> Pair:
        (a, b, c), (d, e, f) = self.matrix
        det = a * e - b * d
        u, v = px - c, py - f
        return (e * u - b * v) / det, (-d * u + a * v) / det

    @property
    def px_per_mm(self) -> float:
        (a, b, _), (d, e, _) = self.matrix
        return math.sqrt(abs(a * e - b * d))

    @classmethod
    def fit(cls, mm: Sequence[Pair], px: Sequence[Pair]) -> tuple["BedMap", list[float]]:
        """The least-squares map through the pairs, and each pair's error in pixels; at least 3 pairs, not in a line."""
        if len(mm) != len(px) or len(mm) < 3:
            raise ValueError(f"a map needs 3 or more point pairs, got {len(mm)} and {len(px)}")
        src = np.column_stack([np.asarray(mm, np.float64), np.ones(len(mm))])
        dst = np.asarray(px, np.float64)
        if np.linalg.matrix_rank(src) < 3:
            raise ValueError("the points lie in a line: they cannot fix a map")
        sol, *_ = np.linalg.lstsq(src, dst, rcond=None)
        bed = cls(tuple(tuple(float(v) for v in row) for row in sol.T))  # type: ignore[arg-type]
        errors = [float(v) for v in np.linalg.norm(src @ sol - dst, axis=1)]
        return bed, errors


@dataclass(frozen=True)
class Calibration:
    """One slot: where its phone's screen is for the robot, how low to touch, how good the fit is."""

    profile: str
    bed_map: BedMap
    limits: Limits
    feeds: Feeds
    residual_px: float
    worst_px: float = 0.0
    points: int = 0
    screen_corners: list[Pair] = field(default_factory=list)  # camera pixels, TL TR BR BL
    lens: list[float] = field(default_factory=list)  # k1, k2, centre x, y, unit (harness.camera.lens.Lens)
    meta: dict[str, str] = field(default_factory=dict)  # camera, robot, created (what it was made with)

    def to_mm(self, px: float, py: float) -> Pair:
        return self.bed_map.to_mm(px, py)


def _num(v: float) -> str:
    return repr(round(float(v), 6))


def _arr(values: Sequence[float]) -> str:
    return "[" + ", ".join(_num(v) for v in values) + "]"


def write_calibration(path: str | Path, cal: Calibration) -> None:
    """Write ``cal`` as TOML (a new file, written whole then moved into place)."""
    lim, bed = cal.limits, cal.limits.bed
    lines = ["# A camera-and-robot slot's calibration (harness calibrate): see docs/camera-robot.md", "", "[robot]",
             f"travel = {_arr([-bed.x[0], -bed.y[0], -bed.z[0]])}",
             f"touch_z = {_num(lim.touch_z)}", f"hover_z = {_num(lim.hover_z)}"]
    if lim.area is not None:
        lines.append(f"area = [{_arr(lim.area[0])}, {_arr(lim.area[1])}]")
    lines += [f"press_feed = {_num(cal.feeds.press)}", f"swipe_feed = {_num(cal.feeds.swipe)}", "", "[calibration]",
              f"profile = {_quote(cal.profile)}",
              f"mm_to_px = [{_arr(cal.bed_map.matrix[0])}, {_arr(cal.bed_map.matrix[1])}]",
              f"residual_px = {_num(cal.residual_px)}", f"worst_px = {_num(cal.worst_px)}", f"points = {cal.points}",
              f"screen_corners = [{', '.join(_arr(p) for p in cal.screen_corners)}]"]
    if cal.lens:
        lines.append(f"lens = {_arr(cal.lens)}")
    lines += [f"{k} = {_quote(v)}" for k, v in cal.meta.items() if k in _FIELDS]
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(target)


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def calibration_from(data: dict[str, Any], path: str | Path) -> Calibration:
    """A calibration from decoded TOML (a file, an inventory slot); ConfigError naming the field when wrong."""
    robot, table = data.get("robot"), data.get("calibration")
    if not isinstance(robot, dict):
        raise ConfigError(path, "robot", "missing [robot] table")
    if not isinstance(table, dict):
        raise ConfigError(path, "calibration", "missing [calibration] table")
    limits, feeds = robot_settings(robot, path)
    reject_unknown_keys(path, table, _FIELDS, where="calibration")
    for key in ("profile", "mm_to_px", "residual_px"):
        if key not in table:
            raise ConfigError(path, f"calibration.{key}", "missing")
    rows = table["mm_to_px"]
    if (not isinstance(rows, list) or len(rows) != 2 or any(not isinstance(r, list) or len(r) != 3 for r in rows)
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for r in rows for v in r)):
        raise ConfigError(path, "calibration.mm_to_px", f"expected [[a, b, c], [d, e, f]], got {rows!r}")
    bed = BedMap(tuple(tuple(float(v) for v in r) for r in rows))  # type: ignore[arg-type]
    if bed.px_per_mm < 1e-6:
        raise ConfigError(path, "calibration.mm_to_px", "the map is singular (its points were in a line)")
    corners = table.get("screen_corners", [])
    if corners and (not isinstance(corners, list) or len(corners) != 4
                    or any(not isinstance(c, list) or len(c) != 2 for c in corners)):
        raise ConfigError(path, "calibration.screen_corners", f"expected four [x, y] camera pixels, got {corners!r}")
    lens = table.get("lens", [])
    if lens and (not isinstance(lens, list) or len(lens) != 5
                 or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in lens) or lens[4] <= 0):
        raise ConfigError(path, "calibration.lens", f"expected [k1, k2, centre x, centre y, unit > 0], got {lens!r}")
    return Calibration(profile=str(table["profile"]), bed_map=bed, limits=limits, feeds=feeds,
                       residual_px=float(table["residual_px"]), worst_px=float(table.get("worst_px", 0.0)),
                       points=int(table.get("points", 0)),
                       screen_corners=[(float(x), float(y)) for x, y in corners],
                       lens=[float(v) for v in lens],
                       meta={k: str(table[k]) for k in ("camera", "robot", "created") if k in table})


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration file written by ``harness calibrate``."""
    return calibration_from(read_toml(path), path)
