"""The g-code an emulated GRBL 1.1 controller accepts, read as GRBL 1.1h's parser reads a block.

Written from GRBL 1.1's documentation and checked against the firmware
itself (grbl-sim, see docs/camera-robot.md): a block is letter/number words,
read in one pass that already refuses a bad letter (1), a bad number (2), an
unknown command (20), a non-integer one (23), two motion commands (24), two
of one modal group (21), a repeated word (25), a negative F/N/P/S/T (4) and
a tool past 255 (38); then the block is checked as a whole: the line number
(27), G4's P (28), G53's motion mode (30), a feed rate for G1 (22), words no
command used (36). The emulator moves only along straight lines: G0, G1,
G4 dwells, G53 machine coordinates, G20/G21, G90/G91, G17-G19, G54-G59 (all
zero offsets), G40, G61, G94, M1-M5, M8, M9, M30. What the firmware has
beyond that (arcs, probing, G10/G28/G30/G92 offsets, G93, M0) is answered
``error:20`` here: a tapping robot's driver sends none of it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")
#: G commands the emulator runs, by modal group (GRBL's groups; "non_modal" holds G4 and G53).
_G_GROUPS = {0: "motion", 1: "motion", 4: "non_modal", 53: "non_modal", 17: "plane", 18: "plane", 19: "plane",
             20: "units", 21: "units", 40: "cutter", 54: "coord", 55: "coord", 56: "coord", 57: "coord",
             58: "coord", 59: "coord", 61: "path", 90: "distance", 91: "distance", 94: "feed_mode"}
#: M commands by group: program flow, spindle, coolant (M7 is off in GRBL's default build).
_M_GROUPS = {1: "flow", 2: "flow", 30: "flow", 3: "spindle", 4: "spindle", 5: "spindle", 8: "coolant", 9: "coolant"}
#: Value words GRBL reads; I J K L R belong to commands the emulator lacks, so they are always unused (36).
_VALUE_WORDS = "FIJKLNPRSTXYZ"
MAX_LINE_NUMBER = 9_999_999
MAX_TOOL_NUMBER = 255


class GcodeError(Exception):
    """A block GRBL would answer with ``error:code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"error:{code}")
        self.code = code


@dataclass
class Modal:
    """The parser state a block leaves behind (GRBL's defaults at power-up and after a reset); ``$G`` reports it."""

    motion: int = 0
    inches: bool = False
    incremental: bool = False
    feed: float = 0.0
    plane: int = 17
    coord: int = 54
    spindle: int = 5
    coolant: int = 9
    tool: int = 0
    speed: float = 0.0

    def report(self) -> str:
        """The ``$G`` line: ``[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]`` (F with one decimal in inches)."""
        feed = f"{self.feed / 25.4:.1f}" if self.inches else f"{self.feed:.0f}"
        return (f"[GC:G{self.motion} G{self.coord} G{self.plane} G{20 if self.inches else 21} "
                f"G{91 if self.incremental else 90} G94 M{self.spindle} M{self.coolant} T{self.tool} "
                f"F{feed} S{self.speed:.0f}]")

    def end_program(self) -> None:
        """M2/M30: GRBL puts back G1 G17 G90 G94 G54 M5 M9 (units, feed and tool stay)."""
        self.motion, self.plane, self.incremental, self.coord, self.spindle, self.coolant = 1, 17, False, 54, 5, 9


@dataclass
class Block:
    """What one block asks: a dwell, then a move (axis words in mm, resolved later against the position)."""

    motion: int | None = None
    dwell: float | None = None
    machine: bool = False
    axes: dict[str, float] = field(default_factory=dict)
    program_end: bool = False


def parse_words(line: str) -> list[tuple[str, float]]:
    """``(letter, value)`` for each word of a block already stripped of spaces and comments, upper case."""
    words: list[tuple[str, float]] = []
    i = 0
    while i < len(line):
        letter = line[i]
        if not "A" <= letter <= "Z":
            raise GcodeError(1)
        found = _NUMBER.match(line, i + 1)
        if not found:
            raise GcodeError(2)
        words.append((letter, float(found.group())))
        i = found.end()
    return words


def _command(letter: str, value: float, block: Block, state: Modal, groups: set[str], axis_command: bool) -> bool:
    """One G or M word, as GRBL's first pass reads it; True when it is an axis command (G0, G1)."""
    number = math.trunc(value)
    mantissa = round(100 * (value - number))
    if letter == "M":
        if mantissa > 0:
            raise GcodeError(23)
        group = _M_GROUPS.get(number) if value >= 0 else None
        if group is None:
            raise GcodeError(20)
    else:
        group = _G_GROUPS.get(number) if value >= 0 else None
        if group is None:
            raise GcodeError(20)
        if number in (0, 1) and axis_command:
            raise GcodeError(24)  # GRBL checks this before the modal group
        if number in (61, 90, 91) and mantissa:
            raise GcodeError(20)  # G61.1, G90.1 (GRBL has G91.1, arcs' IJK mode: the emulator draws no arcs)
        if mantissa > 0:
            raise GcodeError(23)
    if group in groups:
        raise GcodeError(21)
    groups.add(group)
    if letter == "M":
        if number in (2, 30):
            block.program_end = True
        elif group == "spindle":
            state.spindle = number
        elif group == "coolant":
            state.coolant = number
        return False
    if number in (0, 1):
        state.motion = block.motion = number
        return True
    if number == 4:
        block.dwell = -1.0
    elif number == 53:
        block.machine = True
    elif group == "plane":
        state.plane = number
    elif group == "units":
        state.inches = number == 20
    elif group == "coord":
        state.coord = number
    elif group == "distance":
        state.incremental = number == 91
    return False


def parse_block(line: str, modal: Modal) -> Block:
    """Read one block against ``modal`` (updated in place only when the block is valid); GcodeError otherwise."""
    block = Block()
    groups: set[str] = set()
    values: dict[str, float] = {}
    state = replace(modal)
    axis_command = False
    for letter, value in parse_words(line):
        if letter in "GM":
            axis_command = _command(letter, value, block, state, groups, axis_command) or axis_command
            continue
        if letter not in _VALUE_WORDS:
            raise GcodeError(20)
        if letter == "T" and value > MAX_TOOL_NUMBER:
            raise GcodeError(38)
        if letter in values:
            raise GcodeError(25)
        if letter in "FNPTS" and value < 0:
            raise GcodeError(4)
        values[letter] = value
    if "N" in values and math.trunc(values["N"]) > MAX_LINE_NUMBER:
        raise GcodeError(27)
    scale = 25.4 if state.inches else 1.0
    if "F" in values:
        state.feed = values.pop("F") * scale
    if block.dwell is not None:
        if "P" not in values:
            raise GcodeError(28)
        block.dwell = values.pop("P")
    axes = {axis: values.pop(axis) * scale for axis in "XYZ" if axis in values}
    if block.machine and state.motion not in (0, 1):
        raise GcodeError(30)
    if axes and state.motion == 1 and not state.feed:
        raise GcodeError(22)
    state.speed = values.pop("S", state.speed)
    state.tool = int(values.pop("T", state.tool))
    values.pop("N", None)
    if values:
        raise GcodeError(36)  # P without G4, and the words of commands the emulator lacks
    if axes:
        block.motion = state.motion
        block.axes = axes
    else:
        block.motion = None
    if block.program_end:
        state.end_program()
    modal.__dict__.update(state.__dict__)
    return block
