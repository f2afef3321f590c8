"""The video of a run, read back frame by frame: each screenshot held for the time it was on the screen, and found
where the timeline's page seeks for it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def _colour_runs(video: Path, colours: list[tuple[int, int, int]]) -> list[int]:
    """The index of the nearest of ``colours`` in each frame of ``video``, in order."""
    import cv2

    reader = cv2.VideoCapture(str(video))
    shown: list[int] = []
    try:
        while True:
            ok, frame = reader.read()
            if not ok:
                return shown
            rgb = frame[frame.shape[0] // 3, frame.shape[1] // 2][::-1].astype(int)
            shown.append(int(np.argmin([np.abs(rgb - c).max() for c in colours])))
    finally:
        reader.release()


def _recorded(folder: Path, colours: list[tuple[int, int, int]], taken: list[float], base: float) -> Path:
    """A video of plain ``colours`` frames taken ``taken`` seconds after ``base``, as a run's recorder writes it."""
    from harness.timeline.video import VideoRecorder

    recorder = VideoRecorder(folder, "always")
    for colour, t in zip(colours, taken):
        recorder.add(np.broadcast_to(np.array(colour, np.uint8), (96, 64, 3)).copy(), t=base + t)
    video = recorder.finish(keep=True)
    assert video is not None and recorder.stopped is None, recorder.stopped
    return video


def test_the_video_holds_each_frame_for_its_real_time(tmp_path: Path) -> None:
    """Frames taken 0.5 s, 1.5 s, 0.3 s and 97.7 s apart: at ten video frames a second each is held that long, the
    longest pause cut to a minute; every frame shows, in order."""
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200)]
    shown = _colour_runs(_recorded(tmp_path, colours, [0.0, 0.5, 2.0, 2.3, 100.0], time.time() - 200), colours)
    runs: list[list[int]] = []   # [colour index, how many video frames in a row]
    for nearest in shown:
        if runs and runs[-1][0] == nearest:
            runs[-1][1] += 1
        else:
            runs.append([nearest, 1])
    assert runs == [[0, 5], [1, 15], [2, 3], [3, 600], [4, 1]], runs


def test_the_timeline_finds_each_frame_where_the_video_holds_it(tmp_path: Path) -> None:
    """Frames taken a hair either side of a tenth of a second from the first (times the frame index keeps to the
    millisecond): the video frame the page seeks to for each frame taken shows that frame, not its neighbour.
    The trial full run at 03ff813 clicked a step and saw the next screen: the video was cut from the exact times
    and the page from the index's rounded ones, and 178 of 400 jittered real runs put some frame one slot apart."""
    from harness.timeline.events import collect

    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200), (200, 40, 200)]
    taken = [0.0004, 0.1496, 0.2504, 0.3496, 0.4504, 0.6496]  # each 0.4 ms from where rounding moves it a slot
    shown = _colour_runs(_recorded(tmp_path, colours, taken, float(int(time.time()) - 200)), colours)
    slots = collect(tmp_path).slots
    assert len(slots) == len(colours), slots
    assert [shown[s] if s < len(shown) else None for s in slots] == list(range(len(colours))), (slots, shown)
