"""``harness timeline FOLDER...``: the timeline (and video) of a run that ended before it could write them.

A run killed outright (SIGKILL, a CI job's hard timeout, a power cut) keeps
its step log, screenshots, serial logs and spooled frames, but not the
``timeline.html`` and ``video.webm`` written at its end; this makes them from
what the folder holds. It never overwrites: a folder that has a timeline gets
``timeline.2.html``. The power actions the host's journal saw on the run's
handset from its start to the last thing it wrote join the timeline (each
once), as a run that closes pulls them itself; so do the handset's reconnects,
which a run writes to its step log the moment they happen. A run that never
reached its close and recorded no failure is "ended early", not "passed".
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def add_timeline_parser(sub: Any) -> None:
    """Register ``harness timeline``."""
    p = sub.add_parser("timeline", help="write timeline.html (and video.webm from spooled frames) for artifacts folders",
                       description="Write timeline.html for each artifacts folder, and video.webm from the frames a "
                                   "run spooled but did not get to keep (a run that was killed). Nothing is overwritten.")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="an artifacts folder (artifacts/<test>/, artifacts/signin-TIME/)")
    p.set_defaults(func=_cmd_timeline)


def _cmd_timeline(args: argparse.Namespace) -> int:
    from harness.timeline import write_timeline
    from harness.timeline.page import TIMELINE_NAME
    from harness.timeline.run import pull_killed_run_power
    from harness.timeline.video import salvage

    for name in args.folders:
        folder = Path(name)
        if not (folder / "steps.jsonl").is_file() and not any(folder.glob("video-frames*.jsonl")):
            raise HarnessError(f"{folder}: not an artifacts folder (no steps.jsonl, no video-frames.jsonl)")
        claimed = folder / TIMELINE_NAME   # a run claims its page as it begins and writes it at its close
        ended_early = claimed.is_file() and claimed.stat().st_size == 0
        pull_killed_run_power(folder)
        videos = salvage(folder)
        page = write_timeline(folder, title=folder.name, ended_early=ended_early)
        print(f"{page}" + (f" (video: {', '.join(str(v) for v in videos)})" if videos else ""))
    return 0
