"""The g-code an emulated GRBL 1.1 controller accepts, read as GRBL's parser reads a block.

Written from GRBL 1.1's documentation (commands.md, the error code table):
a block is letter/number words; the motion commands are G0 and G1, G4
dwells for P seconds, G53 moves in machine coordinates, G20/G21 set inches
or millimetres, G90/G91 absolute or incremental distances. What GRBL would
refuse is refused with its error code: an unknown command (20), two of one
modal group (21), a feed never set (22), a repeated word (25), a missing P
(28), G53 with another motion (30), unused words (36), a negative value (4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")
#: G commands by modal group (the non-modal group holds G4 and G53).
_GROUPS = {0: "motion", 1: "motion", 4: "non_modal", 53: "non_modal", 20: "units", 21: "units",
           90: "distance", 91: "distance", 94: "feed_mode", 17: "plane"}
_PROGRAM_END = {2, 30}


class GcodeError(Exception):
    """A block GRBL would answer with ``error:code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"error:{code}")
        self.code = code


@dataclass
class Modal:
    """The parser state a block leaves behind (GRBL's defaults at power-up and after a reset)."""

    motion: int = 0
    inches: bool = False
    incremental: bool = False
    feed: float | None = None


@dataclass
class Block:
    """What one block asks: a dwell, a move (to axis words, in mm, resolved against the modal state)."""

    motion: int | None = None
    dwell: float | None = None
    machine: bool = False
    axes: dict[str, float] = field(default_factory=dict)
    program_end: bool = False


def parse_words(line: str) -> list[tuple[str, float, str]]:
    """``(letter, value, digits)`` for each word of a block already stripped of spaces and comments."""
    words: list[tuple[str, float, str]] = []
    i = 0
    while i < len(line):
        letter = line[i]
        if not "A" <= letter <= "Z":
            raise GcodeError(1)
        found = _NUMBER.match(line, i + 1)
        if not found:
            raise GcodeError(2)
        words.append((letter, float(found.group()), found.group()))
        i = found.end()
    return words


def parse_block(line: str, modal: Modal) -> Block:
    """Read one block against ``modal`` (updated in place only when the block is valid); GcodeError otherwise."""
    words = parse_words(line)
    block = Block()
    groups: set[str] = set()
    values: dict[str, float] = {}
    state = Modal(modal.motion, modal.inches, modal.incremental, modal.feed)
    for letter, value, digits in words:
        if letter in "GM":
            if "." in digits or value < 0:
                raise GcodeError(20)  # G53.1, G-1 and the like: no such command here
            number = int(value)
            if letter == "M":
                if number not in _PROGRAM_END:
                    raise GcodeError(20)
                if "m_stop" in groups:
                    raise GcodeError(21)
                groups.add("m_stop")
                block.program_end = True
                continue
            group = _GROUPS.get(number)
            if group is None:
                raise GcodeError(20)
            if group in groups:
                raise GcodeError(21)
            groups.add(group)
            if number in (0, 1):
                state.motion = number
                block.motion = number
            elif number == 4:
                block.dwell = -1.0
            elif number == 53:
                block.machine = True
            elif number in (20, 21):
                state.inches = number == 20
            elif number in (90, 91):
                state.incremental = number == 91
        elif letter in "XYZFPN":
            if letter in values:
                raise GcodeError(25)
            values[letter] = value
        else:
            raise GcodeError(20)
    if "N" in values and not 0 <= values["N"] <= 9999999:
        raise GcodeError(27)
    scale = 25.4 if state.inches else 1.0
    if "F" in values:
        if values["F"] < 0:
            raise GcodeError(4)
        state.feed = values["F"] * scale
    axes = {axis: values[axis] * scale for axis in "XYZ" if axis in values}
    if block.dwell is not None:
        if "P" not in values:
            raise GcodeError(28)
        if values["P"] < 0:
            raise GcodeError(4)
        block.dwell = values["P"]
        if axes:
            raise GcodeError(36)
    elif "P" in values:
        raise GcodeError(36)
    if block.machine and block.motion is None and modal.motion not in (0, 1):
        raise GcodeError(30)
    if block.machine and not axes:
        raise GcodeError(26)
    if axes:
        block.motion = state.motion
        if block.motion == 1 and not state.feed:
            raise GcodeError(22)
        block.axes = axes
    else:
        block.motion = None
    modal.motion, modal.inches, modal.incremental, modal.feed = state.motion, state.inches, state.incremental, state.feed
    return block
