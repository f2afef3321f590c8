"""The emulated GRBL 1.1 controller's ``$`` commands and settings, as GRBL 1.1h answers them.

Checked against the firmware (grbl-sim): which state each command needs
(``error:8`` otherwise), what it prints, and how a setting is refused: a
malformed ``$x=val`` is ``error:2``, an unknown number ``error:3``, a negative
value ``error:4``, a step pulse under 3 us ``error:6``, soft limits without
homing ``error:10``; turning homing off turns soft limits off too. Not
emulated (answered ``error:3``): jogging (``$J=``), sleep (``$SLP``), storing
startup lines or build info (``$Nx=``, ``$I=``) and ``$RST=``.
"""

from __future__ import annotations

import math
import re
from typing import Callable

from harness.emulator.grbl_gcode import Modal

#: A desk tapping robot's settings: mm/rev, rates (mm/min), accelerations, max travel (mm).
DEFAULT_SETTINGS: dict[int, float] = {
    0: 10, 1: 25, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 10: 1, 11: 0.010, 12: 0.002, 13: 0, 20: 1, 21: 1, 22: 1, 23: 0,
    24: 600.0, 25: 6000.0, 26: 250, 27: 1.0, 30: 1000, 31: 0, 32: 0, 100: 80.0, 101: 80.0, 102: 400.0,
    110: 12000.0, 111: 12000.0, 112: 6000.0, 120: 1000.0, 121: 1000.0, 122: 500.0, 130: 150.0, 131: 200.0, 132: 50.0}
#: Settings GRBL keeps in one byte (and prints as whole numbers); $30 and $31 it keeps as floats, printed rounded.
INTEGER = frozenset({0, 1, 2, 3, 4, 5, 6, 10, 13, 20, 21, 22, 23, 26, 32})
ROUNDED = frozenset({30, 31})
#: What ``$I`` prints for GRBL 1.1h's default build: variable spindle, 15 planner blocks, a 128-byte RX buffer.
BUILD_INFO = "[VER:1.1h.20190830:]\r\n[OPT:V,15,128]\r\n"
HELP = "[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]\r\n"
_OFFSETS = ("G54", "G55", "G56", "G57", "G58", "G59", "G28", "G30", "G92")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")


def setting_line(number: int, value: float) -> str:
    """One line of ``$$``: ``$0=10``, ``$11=0.010``."""
    if number in INTEGER:
        return f"${number}={math.trunc(value)}"
    return f"${number}={value:.0f}" if number in ROUNDED else f"${number}={value:.3f}"


def _number_at(text: str, at: int) -> tuple[float, int] | None:
    found = _NUMBER.match(text, at)
    return None if found is None else (float(found.group()), found.end())


class GrblSystem:
    """The ``$`` commands of the emulated controller (mixed into ``EmulatedGrbl``, which owns the state)."""

    settings: dict[int, float]
    state: str
    modal: Modal
    _write: Callable[[str], None]
    _state_now: Callable[[], str]
    _home: Callable[[Callable[[], bool]], "str | None"]
    _after: Callable[[], None] | None
    _soft_reset: Callable[[], None]

    def _system(self, line: str, cancelled: Callable[[], bool]) -> str | None:
        """Run one ``$`` line; its answer (``ok``, ``error:N``) or None when a reset answers for it."""
        state = self._state_now()
        command = line[1:2]
        if command == "":
            self._write(HELP)
            return "ok"
        if command == "J":
            return "error:8" if state != "Idle" else "error:3"  # jogging is not emulated
        if command in "$GCX":
            if len(line) != 2:
                return "error:3"
            return self._simple(command, state)
        if state not in ("Idle", "Alarm"):
            return "error:8"
        if line == "$#":
            self._write("".join(f"[{name}:0.000,0.000,0.000]\r\n" for name in _OFFSETS)
                        + "[TLO:0.000]\r\n[PRB:0.000,0.000,0.000:0]\r\n")
            return "ok"
        if command == "H":
            if not self.settings[22]:
                return "error:5"
            return self._home(cancelled) if line == "$H" else "error:3"  # no single-axis homing in the default build
        if line == "$I":
            self._write(BUILD_INFO)
            return "ok"
        if line == "$N":
            self._write("$N0=\r\n$N1=\r\n")
            return "ok"
        if command in "#INSR":
            return "error:3"  # the forms the emulator lacks ($SLP, $Nx=, $I=, $RST=) and malformed ones
        return self._store(line)

    def _simple(self, command: str, state: str) -> str:
        if command == "$":
            if state in ("Run", "Hold"):
                return "error:8"
            self._write("".join(setting_line(n, v) + "\r\n" for n, v in sorted(self.settings.items())))
        elif command == "G":
            self._write(self.modal.report() + "\r\n")
        elif command == "X":
            if self.state == "Alarm":
                self.state = "Idle"
                self._write("[MSG:Caution: Unlocked]\r\n")
        elif self.state == "Check":  # $C again: leave check mode by a reset, after this line's ok
            self._write("[MSG:Disabled]\r\n")
            self._after = self._soft_reset
        elif state != "Idle":
            return "error:8"
        else:
            self.state = "Check"
            self._write("[MSG:Enabled]\r\n")
        return "ok"

    def _store(self, line: str) -> str:
        """``$x=val``: read as GRBL reads it, then checked as GRBL checks each setting."""
        parameter = _number_at(line, 1)
        if parameter is None:
            return "error:2"
        number, at = parameter
        if line[at:at + 1] != "=":
            return "error:3"
        value = _number_at(line, at + 1)
        if value is None:
            return "error:2"
        amount, end = value
        if end != len(line) or number > 255:
            return "error:3"
        number = math.trunc(number)
        if amount < 0:
            return "error:4"
        if number not in self.settings:
            return "error:3"
        if number in INTEGER:
            amount = float(math.trunc(amount) % 256)  # GRBL keeps these in one byte
        if number == 0 and amount < 3:
            return "error:6"
        if number == 20 and amount and not self.settings[22]:
            return "error:10"
        if number == 22 and not amount:
            self.settings[20] = 0
        self.settings[number] = amount
        return "ok"
