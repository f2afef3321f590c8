"""``timeline.html``: one page per artifacts folder with every event of the run on one time axis.

The page is plain HTML and JavaScript shipped with the package
(``timeline.html`` beside this module); the run's events are put into it as
JSON, and it links the folder's own screenshots and video by name, so the
folder can be moved or served as it is. The page is redacted as a whole
before it is written: no registered secret reaches the file.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

from harness.artifacts import new_file
from harness.secrets import redact
from harness.timeline.events import LANES, Timeline, collect

#: The file name every artifacts folder gets.
TIMELINE_NAME = "timeline.html"
_DATA = "/*TIMELINE-DATA*/null"


def _clock(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def render(timeline: Timeline, title: str | None = None) -> str:
    """The page for ``timeline`` (a string of HTML, already redacted)."""
    start = timeline.start
    data = {
        "title": title or timeline.folder.name,
        "outcome": timeline.outcome,
        "start": start,
        "end": timeline.end,
        "started": _clock(start) if start else "",
        "lanes": list(LANES),
        "video": timeline.video,
        "fps": timeline.fps,
        "frames": [round(t, 3) for t in timeline.frames],
        "slots": timeline.slots,
        "left_out": timeline.left_out,
        "events": [e.as_dict() for e in timeline.events],
    }
    # inside <script>, "</" would end it; as \u003c JSON reads the same
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    template = resources.files("harness.timeline").joinpath("timeline.html").read_text(encoding="utf-8")
    return redact(template.replace(_DATA, blob))


#: The outcome of a run that ended before its close (killed, crashed) and recorded no failure: not "passed".
ENDED_EARLY = "ended early"


def write_timeline(folder: str | Path, path: str | Path | None = None, title: str | None = None,
                   ended_early: bool = False) -> Path:
    """Collect the folder's events and write its ``timeline.html`` (into ``path``, a file the run claimed, if given);
    ``ended_early``: the run never reached its close, so without a recorded failure it did not pass either."""
    folder = Path(folder)
    target = Path(path) if path else new_file(folder, TIMELINE_NAME)
    timeline = collect(folder)
    if ended_early and timeline.outcome == "passed":
        timeline.outcome = ENDED_EARLY
    target.write_text(render(timeline, title), encoding="utf-8")
    return target
