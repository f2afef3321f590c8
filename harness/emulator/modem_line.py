"""The V.250 side of the emulated modem: command lines, result codes and each port's settings.

ITU-T V.250 5.2-5.8: a command line is ``AT`` and then basic commands (``E0``,
``V1``, ``Z``, ``&F``, ``S3=13``, ``S0?``) and extended ones (``+CMGF=0``,
``+CPMS?``, ``+CNMI=?``, ``^CURC=0``) separated by ``;``; results are verbose
(``<CR><LF>OK<CR><LF>``) or numeric (``0<CR>``) by ``ATV``, suppressed by
``ATQ1``, and echo follows ``ATE``. ``ATZ`` restores the stored profile,
``AT&F`` the factory one and ``AT&W`` stores the current one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

#: Numeric forms of the basic result codes (V.250 table 1).
NUMERIC = {"OK": 0, "CONNECT": 1, "RING": 2, "NO CARRIER": 3, "ERROR": 4, "NO DIALTONE": 6, "BUSY": 7,
           "NO ANSWER": 8}
_EXTENDED_PREFIXES = "+^$#%*!"
_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!%-./:_")


@dataclass(frozen=True)
class Command:
    """One command of a command line: ``name`` ("E", "&F", "S3", "+CMGF", "^CURC"), its form and arguments."""

    name: str
    kind: str   # "action", "set", "read" or "test"
    args: str = ""

    def values(self) -> list[str]:
        """The comma-separated arguments, quotes removed ("" for an omitted one)."""
        out, cur, quoted = [], "", False
        for ch in self.args:
            if ch == '"':
                quoted = not quoted
            elif ch == "," and not quoted:
                out.append(cur)
                cur = ""
            else:
                cur += ch
        out.append(cur)
        return [v.strip() for v in out] if self.args else []


class LineError(ValueError):
    """A command line V.250 cannot take apart."""


def _strip_spaces(text: str) -> str:
    """Spaces outside quotes are ignored (V.250 5.2.1); letters outside quotes are case-insensitive."""
    out, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if quoted or ch == '"':
            out.append(ch)
        elif ch != " ":
            out.append(ch.upper())
    if quoted:
        raise LineError("unterminated string")
    return "".join(out)


def parse(body: str) -> list[Command]:
    """The commands in what follows ``AT`` on a command line."""
    text, i, out = _strip_spaces(body), 0, []
    while i < len(text):
        ch = text[i]
        if ch == ";":
            i += 1
            continue
        if ch in _EXTENDED_PREFIXES:
            j = i + 1
            while j < len(text) and text[j] in _NAME_CHARS:
                j += 1
            name = text[i:j]
            if len(name) < 2:
                raise LineError(f"bad command name at {i}")
            rest, end = text[j:], _end_of_extended(text, j)
            if rest.startswith("=?"):
                out.append(Command(name, "test"))
            elif rest.startswith("?"):
                out.append(Command(name, "read"))
            elif rest.startswith("="):
                out.append(Command(name, "set", text[j + 1:end]))
            else:
                out.append(Command(name, "action"))
            i = end
            continue
        if ch == "D":  # dial: the rest of the line is its string
            out.append(Command("D", "action", text[i + 1:]))
            break
        if ch == "S":
            j = i + 1
            while j < len(text) and text[j].isdigit():
                j += 1
            if j == i + 1:
                raise LineError(f"S without a register number at {i}")
            if text[j:j + 1] == "?":
                out.append(Command(text[i:j], "read"))
                i = j + 1
            elif text[j:j + 1] == "=":
                k = j + 1
                while k < len(text) and text[k].isdigit():
                    k += 1
                out.append(Command(text[i:j], "set", text[j + 1:k] or "0"))
                i = k
            else:
                raise LineError(f"S-register without = or ? at {i}")
            continue
        name_end = i + 2 if ch == "&" else i + 1
        if not text[i:name_end].replace("&", "").isalpha() or name_end > len(text):
            raise LineError(f"unexpected {ch!r} at {i}")
        j = name_end
        while j < len(text) and text[j].isdigit():
            j += 1
        out.append(Command(text[i:name_end], "set", text[name_end:j] or "0"))
        i = j
    return out


def _end_of_extended(text: str, j: int) -> int:
    quoted = False
    while j < len(text):
        if text[j] == '"':
            quoted = not quoted
        elif text[j] == ";" and not quoted:
            return j
        j += 1
    return j


@dataclass
class Settings:
    """What one port remembers between command lines: V.250's settings and the per-port 27.005/27.007 ones."""

    echo: bool = True
    verbose: bool = True
    quiet: bool = False
    sregs: dict[int, int] = field(default_factory=lambda: {0: 0, 3: 13, 4: 10, 5: 8, 6: 2, 7: 60, 8: 2, 10: 14})
    cmee: int = 0
    cmgf: int = 0       # 0 PDU mode, 1 text mode (27.005 3.2.3; PDU is the default)
    cscs: str = "GSM"
    csdh: int = 0
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)

    def copy(self) -> "Settings":
        return copy.deepcopy(self)

    @property
    def eol(self) -> str:
        return chr(self.sregs[3]) + chr(self.sregs[4])

    def info(self, *lines: str) -> str:
        """Information text (V.250 5.7.1): framed by S3 S4 in verbose form, ended by them in numeric form."""
        if self.verbose:
            return "".join(self.eol + line for line in lines) + (self.eol if lines else "")
        return "".join(line + self.eol for line in lines)

    def result(self, word: str) -> str:
        """A final result code; nothing under ATQ1; numeric under ATV0 (extended ones keep their text)."""
        if self.quiet:
            return ""
        if self.verbose:
            return self.eol + word + self.eol
        if word in NUMERIC:
            return f"{NUMERIC[word]}{chr(self.sregs[3])}"
        return word + self.eol
