"""The recording of one run (a test, a ``harness signin``/``demo``), from its first frame to its timeline.

Both front doors use it the same way: ``handset()`` wraps the handset the
flow drives, ``close(failed)`` keeps or drops the video and writes
``timeline.html``. Closing never raises over the run's own outcome: a video
that cannot be written is noted in the step log (and so on the timeline),
and its spooled frames stay in the folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from harness.artifacts import Artifacts
from harness.handset import Handset
from harness.timeline.events import POWER_EVENTS, RUN_POWER
from harness.timeline.page import TIMELINE_NAME, write_timeline
from harness.timeline.recorded import RecordedHandset
from harness.timeline.video import RecordingError, RecordMode, VideoRecorder


class RunRecording:
    """The video recorder (None under ``never``) and the claimed ``timeline.html`` of one artifacts folder."""

    def __init__(self, artifacts: Artifacts, mode: RecordMode | str = "failures", title: str | None = None) -> None:
        self.artifacts = artifacts
        self.title = title
        self.recorder = None if mode == "never" else VideoRecorder(artifacts.dir, mode)  # type: ignore[arg-type]
        self.timeline: Path = artifacts.claim(TIMELINE_NAME)  # claimed now: its path is known before it is written
        self.closed = False
        self.started = time.time()
        self._power_channels: set[str] = set()

    @property
    def power_channels(self) -> set[str]:
        """The journal names of the handset's power channels (``harness.lab.power_journal``): at the end, what was
        switched on them while the run ran (``harness power`` from anywhere on this host) joins its timeline."""
        return self._power_channels

    @power_channels.setter
    def power_channels(self, channels: set[str]) -> None:
        # kept in the folder at once, so `harness timeline` finds them for a run killed before its end
        self._power_channels = set(channels)
        if channels:
            path = self.artifacts.claim(RUN_POWER)
            path.write_text(json.dumps({"started": self.started, "channels": sorted(channels)}) + "\n", encoding="utf-8")

    def handset(self, handset: Handset) -> Handset:
        """``handset`` with every screenshot also a frame of the video (itself under ``never``)."""
        if self.recorder is None or isinstance(handset, RecordedHandset):
            return handset
        return RecordedHandset(handset, self.recorder, self.artifacts)

    def add_frame(self, image: Any) -> None:
        """A frame taken outside the flow (the screenshot at a failure)."""
        if self.recorder is not None:
            self.recorder.add(image)

    def _note(self, text: str) -> None:
        try:
            self.artifacts.record("note", text=text)
        except OSError:  # the step log cannot be written either: nothing more to keep
            pass

    def _power_events(self) -> None:
        """The power actions on this handset's channels during the run, into the folder's ``power-events.jsonl``."""
        if self.power_channels:
            pull_power_events(self.artifacts.dir, self.power_channels, self.started, time.time())

    def close(self, failed: bool) -> Path:
        """Keep the video if ``failed`` (or always), drop it otherwise; write the timeline; return its path."""
        if self.closed:
            return self.timeline
        self.closed = True
        try:
            if self.recorder is not None:
                if self.recorder.stopped:
                    self._note(f"the video stopped early at {self.recorder.stopped}")
                self.recorder.finish(keep=failed)
        except (RecordingError, OSError) as exc:
            self._note(f"video not kept: {exc}")
        finally:
            try:
                self._power_events()
                write_timeline(self.artifacts.dir, self.timeline, self.title)
            except OSError as exc:  # a full disk: the run's own outcome still stands
                self._note(f"timeline not written: {exc}")
        return self.timeline


def pull_power_events(folder: Path, channels: set[str], start: float, end: float) -> int:
    """The host journal's actions on ``channels`` from ``start`` to ``end`` into ``folder``'s ``power-events.jsonl``,
    each once (a folder whose run closed has some already); returns how many were added."""
    from harness.lab import power_journal

    path = folder / POWER_EVENTS
    try:
        have = {line for line in path.read_text(encoding="utf-8").splitlines() if line}
    except FileNotFoundError:
        have = set()
    new = [line for line in (json.dumps(e) for e in power_journal.events(channels, start, end)) if line not in have]
    if new:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in new))
    return len(new)


def pull_killed_run_power(folder: Path) -> int:
    """For a run that ended before its close (killed): the journal's power actions on its handset's channels
    (``power-channels.json``, written when the run began) from its start to the last thing it wrote."""
    try:
        kept = json.loads((folder / RUN_POWER).read_text(encoding="utf-8")[:65536])
        started, channels = float(kept["started"]), {str(c) for c in kept["channels"]}
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    from harness.timeline.events import collect

    # the newest moment the run's own records show (steps, frames, log lines, power events pulled before): not a
    # file's time, which `harness timeline` itself moves when it makes the video
    end = collect(folder).end
    return pull_power_events(folder, channels, started, end) if end > started else 0

