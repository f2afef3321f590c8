"""What GRBL 1.1h answers, written down once from the firmware (grbl-sim) and asked of both controllers.

``test_grbl_emulator.py`` holds the emulated controller to these answers on
every run; ``test_grbl_firmware.py`` plays the same bytes to the real
firmware, when one is built, so the table itself is checked against GRBL
and not against our emulator. A ``Peer`` is a raw pyserial client with no
driver code in it.
"""

from __future__ import annotations

import re
import time

import serial

DEADLINE = 15.0
BANNER = "Grbl 1.1h ['$' for help]"
LOCKED = "[MSG:'$H'|'$X' to unlock]"

#: Blocks and the error GRBL 1.1h answers each with, in the Idle state (after ``$X``, homing and soft limits on).
BAD_BLOCKS = [
    ("G1 X-10", 22), ("G5 X-1", 20), ("G0 G1 X-1", 24), ("G20 G21", 21), ("G53 G4 P1", 21), ("G4", 28),
    ("X", 2), ("G0 X-", 2), ("G0 X-1 X-2", 25), ("1X", 1), ("G0 X-1.2.3", 1), ("G0 P1", 36), ("G0 X-1 R5", 36),
    ("G1 X-1 F-5", 4), ("G4 P-1", 4), ("G1 X-1 F0", 22), ("G53.1 X-1", 23), ("M3.5", 23), ("T256", 38),
    ("N99999999 G0 X-3", 27), ("$Q", 2), ("$$=1", 3), ("$999=1", 3), ("$1=-1", 4), ("$0=2", 6),
    ("G0X-1" + "Y-1" * 24 + "Z-1", 11)]  # the last: 80 characters, one past GRBL's line buffer

#: A line of exactly the 79 characters GRBL keeps (it repeats Y: error:25, so it was read whole).
FULL_LINE = "G0X-1" + "Y-1" * 23 + "Z-1.1"

#: Lines GRBL takes, from Idle at MPos 0 after ``$X``, with every line it answers.
GOOD_LINES = [
    (FULL_LINE, ["error:25"]),
    (FULL_LINE[:6] + " " * 40 + "(a comment longer than the line buffer)" + FULL_LINE[6:] + ";to the end", ["error:25"]),
    ("g0 x-2 (lower case) y-3", ["ok"]),
    ("G53", ["ok"]),
    ("G4 P0.01 X-3", ["ok"]),  # G4's axis words move in the modal motion mode (G0), after the dwell
    ("M3 S100", ["ok"]),
    ("M8", ["ok"]),
    ("$G", ["[GC:G0 G54 G17 G21 G90 G94 M3 M8 T0 F0 S100]", "ok"]),
    ("M2", ["[MSG:Pgm End]", "ok"]),
    ("$G", ["[GC:G1 G54 G17 G21 G90 G94 M5 M9 T0 F0 S100]", "ok"]),
    ("$I", ["[VER:1.1h.20190830:]", "[OPT:V,15,128]", "ok"]),
    ("$N", ["$N0=", "$N1=", "ok"]),
    ("$#", ["[G54:0.000,0.000,0.000]", "[G55:0.000,0.000,0.000]", "[G56:0.000,0.000,0.000]",
            "[G57:0.000,0.000,0.000]", "[G58:0.000,0.000,0.000]", "[G59:0.000,0.000,0.000]",
            "[G28:0.000,0.000,0.000]", "[G30:0.000,0.000,0.000]", "[G92:0.000,0.000,0.000]", "[TLO:0.000]",
            "[PRB:0.000,0.000,0.000:0]", "ok"]),
    ("$", ["[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]", "ok"]),
    ("$X", ["ok"]),  # not in Alarm: no message
    ("$C", ["[MSG:Enabled]", "ok"]),
    ("G0 X-50", ["ok"]),  # checked, not run
    ("$C", ["[MSG:Disabled]", "ok", "", BANNER]),  # leaving check mode is a reset
]

#: Settings as GRBL refuses or keeps them (from Idle, homing and soft limits on); each line with its answers.
SETTINGS = [
    ("$22=0", ["ok"]), ("$20=1", ["error:10"]), ("$22=1", ["ok"]), ("$20=1", ["ok"]), ("$10=2.7", ["ok"]),
]

_FIELD = re.compile(r"\|(\w+):")


class Peer:
    """A raw serial peer: write bytes, read answer lines with a deadline."""

    def __init__(self, path: str) -> None:
        self.port = serial.serial_for_url(path, timeout=0.05)
        self.buffer = b""

    def close(self) -> None:
        self.port.close()

    def line(self, deadline: float = DEADLINE) -> str:
        end = time.monotonic() + deadline
        while b"\n" not in self.buffer:
            assert time.monotonic() < end, f"no line from the controller in {deadline:g}s; saw {self.buffer!r}"
            self.buffer += self.port.read(256)
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("ascii").strip()

    def lines_until(self, last: str) -> list[str]:
        """Lines up to one starting with ``last`` (empty lines kept: the banner's blank line shows a reset)."""
        seen: list[str] = []
        while not seen or not seen[-1].startswith(last):
            seen.append(self.line())
        return seen

    def ask(self, text: str) -> list[str]:
        """Send a line; every non-empty line up to and including its answer (ok, error:N or ALARM:N)."""
        self.port.write(text.encode("ascii") + b"\n")
        seen: list[str] = []
        while not seen or not (seen[-1] == "ok" or seen[-1].startswith(("error:", "ALARM:"))):
            line = self.line()
            if line:
                seen.append(line)
        return seen

    def ask_all(self, text: str, last: str) -> list[str]:
        """Send a line; every line (empty ones too) up to one starting with ``last``."""
        self.port.write(text.encode("ascii") + b"\n")
        return self.lines_until(last)

    def status(self) -> str:
        self.port.write(b"?")
        while True:
            line = self.line()
            if line.startswith("<"):
                return line

    def reset(self) -> list[str]:
        """Ctrl-x; the lines up to the banner and what follows it up to the controller's next question."""
        self.port.write(b"\x18")
        return self.lines_until(BANNER)


def fields(report: str) -> list[str]:
    """The state and the names of a status report's fields: ``['Idle', 'MPos', 'FS', 'WCO']``."""
    return [report[1:].split("|", 1)[0]] + _FIELD.findall(report)
