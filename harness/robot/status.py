"""GRBL 1.1's real-time status report (the answer to ``?``), parsed into a value the driver can wait on.

A report looks like ``<Idle|MPos:0.000,-1.000,-2.000|FS:0,0|WCO:0.000,0.000,0.000>``:
a machine state (with an optional ``:N`` sub-state), then ``|``-separated
fields. Which position it carries (MPos or WPos) depends on the
controller's ``$10`` setting, and the work offset (WCO) comes only now and
then, so the parser keeps whichever it is given and the driver asks for
the machine position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The machine states GRBL 1.1 reports.
STATES = ("Idle", "Run", "Hold", "Jog", "Alarm", "Door", "Check", "Home", "Sleep")


class StatusFormatError(ValueError):
    """A line that is not a GRBL 1.1 status report."""


Position = tuple[float, float, float]


@dataclass(frozen=True)
class Status:
    """One status report: the state, its sub-state, and the fields it carried."""

    state: str
    substate: int | None = None
    mpos: Position | None = None
    wpos: Position | None = None
    wco: Position | None = None
    feed: float | None = None
    speed: float | None = None
    pins: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def machine_position(self, wco: Position | None = None) -> Position | None:
        """MPos, or WPos plus the work offset (this report's, else ``wco`` from an earlier one)."""
        if self.mpos is not None:
            return self.mpos
        offset = self.wco or wco
        if self.wpos is None or offset is None:
            return None
        x, y, z = (w + o for w, o in zip(self.wpos, offset))
        return (x, y, z)


def _numbers(name: str, text: str, count: int | None) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise StatusFormatError(f"{name}: not numbers: {text!r}") from None
    if count is not None and len(values) != count:
        raise StatusFormatError(f"{name}: expected {count} values, got {len(values)}: {text!r}")
    return values


def _position(name: str, text: str) -> Position:
    # a 3-axis controller reports three axes; more (an A axis) are allowed, the first three are ours
    values = _numbers(name, text, None)
    if len(values) < 3:
        raise StatusFormatError(f"{name}: expected at least 3 axes, got {len(values)}: {text!r}")
    return (values[0], values[1], values[2])


def parse_status(line: str) -> Status:
    """Parse one status report; StatusFormatError saying what is wrong when it is not one."""
    line = line.strip()
    if not (line.startswith("<") and line.endswith(">")):
        raise StatusFormatError(f"not a status report (no <...>): {line[:80]!r}")
    parts = line[1:-1].split("|")
    state, _, sub = parts[0].partition(":")
    if state not in STATES:
        raise StatusFormatError(f"unknown machine state {parts[0]!r}")
    substate = None
    if sub:
        if not sub.isdigit():
            raise StatusFormatError(f"bad sub-state {parts[0]!r}")
        substate = int(sub)
    found: dict[str, str] = {}
    values: dict[str, object] = {}
    for part in parts[1:]:
        name, sep, text = part.partition(":")
        if not sep or not name:
            raise StatusFormatError(f"bad field {part!r}")
        found[name] = text
        if name in ("MPos", "WPos", "WCO"):
            values[name.lower()] = _position(name, text)
        elif name in ("FS", "F"):
            numbers = _numbers(name, text, 2 if name == "FS" else 1)
            values["feed"] = numbers[0]
            values["speed"] = numbers[1] if name == "FS" else None
        elif name == "Pn":
            values["pins"] = text
    return Status(state, substate, fields=found, **values)  # type: ignore[arg-type]
