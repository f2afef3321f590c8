"""A robot's limits and feeds as a lab writes them: a ``[robot]`` table in a TOML file (a slot's calibration).

```toml
[robot]
travel = [150, 200, 50]      # $130-$132, mm: the bed is -travel..0 after homing
touch_z = -40.5              # the touch height calibration found
hover_z = -30.0              # where the stylus travels between touches
area = [[-120, -20], [-180, -20]]   # x and y spans the phone occupies (optional)
press_feed = 3000            # mm/min (optional)
swipe_feed = 6000            # mm/min (optional)
```

Every field is checked here, so a typo or a touch height under the bed is a
one-line ConfigError naming the file and the field, before the robot moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from harness.errors import ConfigError
from harness.robot.gestures import Feeds
from harness.robot.limits import Box, Limits
from harness.tomlfile import read_toml, reject_unknown_keys

KEYS = ("travel", "touch_z", "hover_z", "area", "press_feed", "swipe_feed")


def _number(path: str | Path, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(path, field, f"expected a number, got {value!r}")
    return float(value)


def _pair(path: str | Path, field: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ConfigError(path, field, f"expected [low, high], got {value!r}")
    low, high = (_number(path, field, v) for v in value)
    if low > high:
        raise ConfigError(path, field, f"low end {low:g} is above the high end {high:g}")
    return low, high


def robot_settings(table: Mapping[str, Any], path: str | Path = "(robot table)") -> tuple[Limits, Feeds]:
    """The limits and feeds a ``[robot]`` table gives; ConfigError naming the field when one is wrong."""
    reject_unknown_keys(path, table, KEYS, where="robot")
    for key in ("travel", "touch_z", "hover_z"):
        if key not in table:
            raise ConfigError(path, f"robot.{key}", "missing")
    travel = table["travel"]
    if not isinstance(travel, list) or len(travel) != 3:
        raise ConfigError(path, "robot.travel", f"expected [x, y, z] in mm, got {travel!r}")
    x, y, z = (_number(path, "robot.travel", v) for v in travel)
    if min(x, y, z) <= 0:
        raise ConfigError(path, "robot.travel", f"each axis's travel must be positive, got {travel!r}")
    area = table.get("area")
    if area is not None and (not isinstance(area, list) or len(area) != 2):
        raise ConfigError(path, "robot.area", f"expected [[x_low, x_high], [y_low, y_high]], got {area!r}")
    try:
        limits = Limits(Box.from_travel(x, y, z), _number(path, "robot.touch_z", table["touch_z"]),
                        _number(path, "robot.hover_z", table["hover_z"]),
                        None if area is None else (_pair(path, "robot.area", area[0]), _pair(path, "robot.area", area[1])))
        feeds = Feeds(_number(path, "robot.press_feed", table.get("press_feed", Feeds.press)),
                      _number(path, "robot.swipe_feed", table.get("swipe_feed", Feeds.swipe)))
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(path, "robot", str(exc)) from None
    return limits, feeds


def load_robot_settings(path: str | Path) -> tuple[Limits, Feeds]:
    """The ``[robot]`` table of a TOML file (a calibration, an inventory slot)."""
    data = read_toml(path)
    table = data.get("robot")
    if not isinstance(table, dict):
        raise ConfigError(path, "robot", "missing [robot] table")
    return robot_settings(table, path)
