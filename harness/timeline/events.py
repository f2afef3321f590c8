"""Everything an artifacts folder holds, as events on one clock (seconds since the epoch).

The step log (``steps.jsonl``) is stamped with the wall clock to the
millisecond; the serial logs (``console.log``, ``modem.log``) and the
emulator's log with the local time of day, which is put on the same clock
with the run's date. Every text passes through the serial logs' masking
again (registered secrets and code-shaped digit runs), so an access code
that was read after a line was written still cannot show; every source is
bounded (the newest ``MAX_LINES`` lines of a log, the tail of a big file).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.serial_log import mask
from harness.timeline.video import INDEX_NAME, video_slots

#: The power actions on the run's handset that the host's power journal saw during the run (``harness power``).
POWER_EVENTS = "power-events.jsonl"
#: When the run began and its handset's power channels, written as it begins (``harness timeline`` reads them
#: for a run that was killed before it could pull its power events).
RUN_POWER = "power-channels.json"
#: Lanes of the time axis, top to bottom.
LANES = ("step", "action", "screenshot", "console", "modem", "power", "failure")
#: At most this many lines of one log become events (the newest; the page says how many were left out).
MAX_LINES = 3000
#: At most this much of the end of a log file is read.
MAX_READ = 4 << 20
#: A log line: its local time of day (milliseconds optional), then the text.
LOG_LINE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))? (.*)$")
#: Console and emulator lines that are power events (the emulated phone says "power: off", "boot: complete").
POWER_LINE = re.compile(r"\bpower: |powering (?:on|off)|boot: complete|console gap|\breboot|shutting down", re.IGNORECASE)
#: Modem lines that carry a message (its arrival, its header; the text itself is never logged).
MESSAGE_LINE = re.compile(r"\+CMTI|\+CMT:|\+CMGR:|\+CMGL:|\+CDS|<pdu |message", re.IGNORECASE)


@dataclass
class Event:
    """One thing that happened, at ``t`` (epoch seconds), on one lane of the axis."""

    t: float
    lane: str
    text: str
    source: str
    kind: str = ""
    screenshot: str | None = None  # a file of the folder, by name
    step: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}


@dataclass
class Timeline:
    """The events of one artifacts folder, oldest first, with the video's frame times."""

    folder: Path
    events: list[Event]
    frames: list[float]
    video: str | None
    fps: float
    left_out: dict[str, int]
    outcome: str
    #: the video frame each frame taken starts at (``video_slots`` for a real-time video, else one each)
    slots: list[int] = field(default_factory=list)

    @property
    def start(self) -> float:
        times = [e.t for e in self.events] + self.frames
        return min(times) if times else 0.0

    @property
    def end(self) -> float:
        times = [e.t for e in self.events] + self.frames
        return max(times) if times else 0.0


#: Fields of the step log that are coordinates or counts the harness wrote itself: shown as numbers, not masked.
NUMBERS = frozenset({"x", "y", "x1", "y1", "x2", "y2", "index", "after_step", "chars", "seconds", "score", "duration_ms"})


def _clean(text: Any) -> str:
    """One line of text, masked as a serial log masks it (secrets, code-shaped digits), bounded."""
    return mask(str(text).replace("\r", " ").replace("\n", " | "))


def _value(key: str, value: Any) -> str:
    if key in NUMBERS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return _clean(value)


def _tail_lines(path: Path) -> list[str]:
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - MAX_READ))
            data = fh.read(MAX_READ)
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[1:] if size > MAX_READ else lines  # the first line read may be cut


def _steps(folder: Path) -> Iterator[dict[str, Any]]:
    for line in _tail_lines(folder / "steps.jsonl"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("t"), (int, float)):
            yield entry


def _name(path: Any) -> str | None:
    return Path(str(path)).name if path else None


def _step_events(folder: Path) -> tuple[list[Event], str]:
    """Steps, actions, notes, power events and failures from ``steps.jsonl``; and the run's outcome."""
    events: list[Event] = []
    outcome = "passed"
    last_tap: str | None = None
    for e in _steps(folder):
        kind, t = str(e.get("kind", "")), float(e["t"])
        if kind == "step":
            target = last_tap if last_tap and last_tap in str(e.get("action", "")) else None
            text = f"{_clean(e.get('screen'))} (score {float(e.get('score', 0)):.2f}): {_clean(e.get('action', ''))}"
            events.append(Event(t, "step", text, "steps.jsonl", kind, _name(e.get("screenshot")),
                                int(e.get("index", 0)) or None,
                                {"screen": _clean(e.get("screen")), "score": e.get("score"), "action": _clean(e.get("action", "")),
                                 "target": _clean(target) if target else None, "seconds": e.get("seconds")}))
            last_tap = None
        elif kind == "tap":
            last_tap = str(e.get("target"))
            events.append(Event(t, "action", f"tap {_clean(e.get('target'))} on {_clean(e.get('screen'))} at "
                                             f"({float(e.get('x', 0)):.0f}, {float(e.get('y', 0)):.0f})", "steps.jsonl", kind))
        elif kind == "power":
            events.append(Event(t, "power", _clean(e.get("event", "")), "steps.jsonl", kind))
        elif kind in ("failure", "timeout") or (kind == "result" and e.get("outcome") in ("failed", "error")):
            outcome = "failed"
            what = e.get("error") or (f"the handset shows {e.get('screen')}" if e.get("screen") else e.get("outcome"))
            events.append(Event(t, "failure", _clean(f"{kind}: {what}"), "steps.jsonl", kind))
        else:
            rest = {k: v for k, v in e.items() if k not in ("t", "kind")}
            events.append(Event(t, "action", _clean(kind) + " " + ", ".join(f"{_clean(k)}={_value(k, v)}" for k, v in rest.items()),
                                "steps.jsonl", kind))
    return events, outcome


def _day_of(ref: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ref).replace(hour=0, minute=0, second=0, microsecond=0)


def _log_events(folder: Path, name: str, lane: str, ref: float, left_out: dict[str, int]) -> list[Event]:
    """Lines of a time-of-day stamped log on the run's clock (``ref``: a moment of the run)."""
    path = folder / name
    lines = _tail_lines(path)
    matched = [m for m in (LOG_LINE.match(line) for line in lines) if m]
    if len(matched) > MAX_LINES:
        left_out[name] = len(matched) - MAX_LINES
        matched = matched[-MAX_LINES:]
    day = _day_of(ref)
    events = []
    for m in matched:
        hh, mm, ss, ms, text = m.groups()
        t = (day + dt.timedelta(hours=int(hh), minutes=int(mm), seconds=int(ss), milliseconds=int(ms or 0))).timestamp()
        if t - ref > 43200:  # the run crossed midnight: a line from before it
            t -= 86400
        elif ref - t > 43200:
            t += 86400
        if lane == "emulator":
            if not POWER_LINE.search(text):
                continue
            this = "power"
        elif lane == "console" and POWER_LINE.search(text):
            this = "power"
        else:
            this = lane
        kind = "message" if lane == "modem" and MESSAGE_LINE.search(text) else "line"
        events.append(Event(t, this, _clean(text), name, kind))
    return events


def _frames(folder: Path) -> tuple[list[float], str | None, float, bool]:
    frames: list[float] = []
    video, fps, real = None, 10.0, False
    for line in _tail_lines(folder / INDEX_NAME):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "t" in entry:
            frames.append(float(entry["t"]))
        elif "fps" in entry:
            fps = float(entry["fps"])
        elif "video" in entry:
            video = _name(entry["video"])
            real = entry.get("timing") == "real"
    return frames, video if video and (folder / video).exists() else None, fps, real


def _power_events(folder: Path) -> list[Event]:
    """What was switched on the handset's power channels while the run ran: ``power off lcus:/dev/ttyUSB0#2 by ...``."""
    events = []
    for line in _tail_lines(folder / POWER_EVENTS):
        try:
            e = json.loads(line)
            t = float(e["t"])
        except (ValueError, KeyError, TypeError):
            continue
        text = f"power {e.get('action', '?')} on {e.get('channel', '?')} by {e.get('by', '?')}"
        # the journal holds only what harness power wrote (action, channel, command and pid), never a message
        # or a code: only registered secrets are masked, so the pid stays readable
        events.append(Event(t, "power", mask(text.replace("\r", " ").replace("\n", " | "), plain=True),
                            POWER_EVENTS, "power"))
    return events


def _screenshots(folder: Path, named: set[str]) -> list[Event]:
    """PNGs of the folder that no step names (taken at a failure, at a wait's timeout), at their file time."""
    events = []
    for path in sorted(folder.glob("*.png")):
        if path.name not in named:
            try:
                events.append(Event(path.stat().st_mtime, "screenshot", _clean(path.name), path.name, "screenshot",
                                    path.name))
            except OSError:
                continue
    return events


def collect(folder: str | Path) -> Timeline:
    """The timeline of one artifacts folder (whatever it holds: a crashed run leaves part of it)."""
    folder = Path(folder)
    events, outcome = _step_events(folder)
    frames, video, fps, real = _frames(folder)
    known = [e.t for e in events] + frames[:1]
    ref = min(known) if known else (folder.stat().st_mtime if folder.exists() else 0.0)
    left_out: dict[str, int] = {}
    for name, lane in (("console.log", "console"), ("modem.log", "modem"), ("emulator.log", "emulator")):
        events += _log_events(folder, name, lane, ref, left_out)
    events += _power_events(folder)
    shots = [e for e in events if e.lane == "step" and e.screenshot]
    events += [Event(e.t, "screenshot", e.screenshot or "", "steps.jsonl", "screenshot", e.screenshot, e.step) for e in shots]
    events += _screenshots(folder, {e.screenshot for e in shots if e.screenshot})
    events.sort(key=lambda e: (e.t, LANES.index(e.lane) if e.lane in LANES else len(LANES)))
    slots = video_slots(frames, fps) if real else list(range(len(frames)))
    return Timeline(folder, events, frames, video, fps, left_out, outcome, slots)
