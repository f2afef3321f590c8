"""GRBL 1.1's line protocol as the driver reads it: what each answer line is, and the typed errors it becomes.

A GRBL controller answers every line it is sent with ``ok`` or ``error:N``,
and reports trouble on its own with ``ALARM:N``; the numbers mean little to
whoever reads a failed test's log, so each error here carries the line the
robot was asked, the line it answered, and the meaning from GRBL 1.1's code
tables (doc/csv/error_codes_en_US.csv, alarm_codes_en_US.csv).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import DeviceUnavailable, HarnessError, HarnessTimeout, quote_seen

#: GRBL 1.1's ``error:N`` codes, in our words.
ERRORS: dict[int, str] = {
    1: "expected a command letter", 2: "bad number format", 3: "unsupported or invalid $ command",
    4: "negative value where a positive one is expected", 5: "homing is not enabled in the settings",
    6: "step pulse shorter than 3 microseconds", 7: "EEPROM read failed; defaults restored",
    8: "$ command only allowed while idle", 9: "g-code locked out during alarm or jog",
    10: "soft limits need homing enabled", 11: "line too long; not executed",
    12: "setting would exceed the maximum step rate", 13: "safety door open",
    14: "line too long for EEPROM; not stored", 15: "jog target exceeds machine travel; ignored",
    16: "invalid jog command", 17: "laser mode needs PWM output",
    20: "unsupported or invalid g-code command", 21: "two commands of the same modal group",
    22: "feed rate not set", 23: "command needs an integer value",
    24: "two commands in the block both need the axis words", 25: "repeated g-code word",
    26: "command needs axis words and none were given", 27: "invalid line number",
    28: "command is missing a required value word (P or L)", 29: "G59.x work coordinate systems unsupported",
    30: "G53 only allowed with G0 and G1", 31: "axis words that no command uses",
    32: "arc without an in-plane axis word", 33: "invalid motion target", 34: "invalid arc radius",
    35: "arc without an in-plane offset word", 36: "unused value words in the block",
    37: "tool length offset not on the tool length axis", 38: "tool number too large",
}

#: GRBL 1.1's ``ALARM:N`` codes, in our words; ``REHOME`` says which ones lose the machine position.
ALARMS: dict[int, str] = {
    1: "hard limit triggered; position lost", 2: "soft limit: motion target exceeds machine travel",
    3: "reset while in motion; position lost", 4: "probe not in the expected initial state",
    5: "probe did not make contact", 6: "homing cycle was reset", 7: "safety door opened during homing",
    8: "homing pull-off failed to clear the limit switch", 9: "homing could not find a limit switch",
    10: "homing: second dual-axis limit switch did not trigger",
}
REHOME = frozenset({1, 3, 6, 7, 8, 9, 10})

#: The longest line the driver keeps from the controller (GRBL's own lines are well under 100 bytes).
MAX_LINE = 256

_BANNER = re.compile(r"^Grbl (\S+) \[.*\]$")
_CODE = re.compile(r"^(error|ALARM):(\d{1,3})$")


@dataclass(frozen=True)
class Reply:
    """One line from the controller, classified: ``kind`` is ok, error, alarm, status, banner, message or other."""

    kind: str
    text: str
    code: int | None = None


def classify(line: str) -> Reply:
    """What one line (without its line ending) from a GRBL 1.1 controller is."""
    line = line.strip()
    if line == "ok":
        return Reply("ok", line)
    if line.startswith("<") and line.endswith(">"):
        return Reply("status", line)
    found = _CODE.match(line)
    if found:
        return Reply("error" if found.group(1) == "error" else "alarm", line, int(found.group(2)))
    if _BANNER.match(line):
        return Reply("banner", line)
    if line.startswith("[") and line.endswith("]") or line.startswith("$"):
        return Reply("message", line)
    return Reply("other", line)


class RobotError(HarnessError):
    """The robot did not do what it was asked."""


class MoveRefused(RobotError, ValueError):
    """A move the driver refused before sending it: outside the bed, the allowed area or below the touch height."""


class RobotCommandError(RobotError):
    """The controller answered a line with ``error:N``."""

    def __init__(self, robot: str, asked: str, code: int) -> None:
        self.asked, self.code = asked, code
        meaning = ERRORS.get(code, "unknown error code")
        super().__init__(f"robot {robot}: asked {quote_seen(asked)}, answered error:{code} ({meaning})")


class RobotAlarm(RobotError):
    """The controller raised ``ALARM:N`` (while running ``asked``, when known); it locks out g-code until cleared."""

    def __init__(self, robot: str, asked: str | None, code: int, note: str = "") -> None:
        self.asked, self.code = asked, code
        meaning = ALARMS.get(code, "unknown alarm code")
        doing = f"asked {quote_seen(asked)}, " if asked else ""
        super().__init__(f"robot {robot}: {doing}answered ALARM:{code} ({meaning}){note}")

    @property
    def position_lost(self) -> bool:
        """True when GRBL says the machine position is lost and only homing makes it trustworthy again."""
        return self.code in REHOME


class RobotTimeout(HarnessTimeout, RobotError):
    """The controller did not answer in time (it says what was asked and the last lines seen)."""


class RobotGone(RobotError, DeviceUnavailable):
    """The robot's port went away (unplugged, powered off) while the driver waited for it."""
