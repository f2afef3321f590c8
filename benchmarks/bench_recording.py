"""What recording a run costs: CPU per frame to spool it (every test, --record failures) and to keep it (VP8 WebM).

Usage: bench_recording.py [--frames N] [--profile NAME] [--changes K]

Frames are the emulated handset's screens as a flow sees them (drawn by
``harness.lab.frames`` for the profile), each repeated as a flow's wait takes a
stable screen again and again (``--changes`` distinct screens over ``--frames``).
Prints CPU milliseconds per frame for the spool (what every recorded test pays)
and for the transcode at the end (only runs that keep their video), and the
sizes of the files. Single-threaded OpenCV, as on a loaded 2-core CI machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from harness.lab.frames import screen_frames
from harness.timeline.video import VideoRecorder


def _frames(count: int, profile: str, changes: int) -> list[np.ndarray]:
    screens = [frame for _, (_, frame) in zip(range(changes), screen_frames(profile, "dark"))]
    return [screens[i * len(screens) // count] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--profile", default="lumia-930")
    parser.add_argument("--changes", type=int, default=12)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    frames = _frames(args.frames, args.profile, args.changes)
    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as folder:
        recorder = VideoRecorder(folder, "always")
        started = time.process_time()
        for frame in frames:
            recorder.add(frame)
        spool = time.process_time() - started
        spool_bytes = sum(p.stat().st_size for p in Path(folder).glob("*.avi"))
        started = time.process_time()
        video = recorder.finish(keep=True)
        keep = time.process_time() - started
        assert video is not None
        print(f"{len(frames)} frames of {width}x{height} ({args.changes} screens of {args.profile})")
        print(f"spool:     {1000 * spool / len(frames):6.1f} ms CPU a frame  ({spool_bytes / 1e6:.1f} MB Motion-JPEG)")
        print(f"transcode: {1000 * keep / len(frames):6.1f} ms CPU a frame  ({video.stat().st_size / 1e6:.2f} MB VP8 WebM)")
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
