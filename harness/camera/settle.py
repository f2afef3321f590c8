"""A camera frame taken after the robot stopped, told from the frames themselves, whatever the host's load.

A frame reaches the host some time after it was exposed (the camera's
pipeline, the network, the reader), and on a loaded host that delay grows
and varies from one frame to the next: a frame that arrives a fixed time
after the robot reported Idle may still show the stylus moving, and a
screen compared with it, or a tip found in it, is then wrong. So each move
bounds the delay anew. The newest frame that arrived before the move was
sent is its ``before``; the first frame that differs from it shows the move
under way, and since nothing moved before the move was sent, that frame's
arrival minus the sending time is an upper bound of the camera's delay
right now. A frame that arrived that long after Idle was exposed after
Idle. Of those, the first one that shows the same picture as the frame
before it is taken (the scene at rest: a page that animates after a tap has
finished), when the two are two exposures: a frame a camera sends twice
(the same bytes) proves nothing about rest. A move the camera does not see (the stylus out of view, a tap
too quick for a frame) changes nothing in the picture; its frames are
taken after the largest delay the last moves showed, times ``UNSEEN``, and
never before ``UNSEEN_FLOOR`` seconds (a move not seen may be one not seen
yet, behind a camera slower than the moves measured so far).
A picture that never comes to rest (auto exposure hunting) gives the
newest frame past the bound after ``REST`` seconds: still one exposed
after Idle.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import cv2
import numpy as np

from harness.camera.capture import Snapshot

#: Grey levels a pixel (of a quarter-size, smoothed frame) must change by to count as motion: sensor noise and
#: JPEG move fewer.
MOTION_LEVEL = 24
#: Changed pixels (quarter size, after a 3x3 opening) that still count as the same picture: noise specks.
STILL_PIXELS = 6
#: A move the camera did not see waits this many times the largest delay the last moves showed, and at least
#: UNSEEN_FLOOR seconds: "not seen" may be "not seen yet" behind a camera slower than any move measured so far.
UNSEEN = 1.5
UNSEEN_FLOOR = 2.0
#: How long (seconds past the bound) a picture may take to come to rest before the newest frame is taken anyway.
REST = 3.0
#: How many of the last moves' delays the bound keeps (a burst of load lifts it for that many moves).
KEEP = 6


def _smooth(snap: Snapshot) -> np.ndarray:
    return cv2.GaussianBlur(snap.small(), (3, 3), 0)


def moved_pixels(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels (quarter size) that changed beyond noise between two smoothed frames, specks left out."""
    if a.shape != b.shape:
        return a.size
    diff = (cv2.absdiff(a, b) >= MOTION_LEVEL).astype(np.uint8)
    return int(cv2.morphologyEx(diff, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).sum())


class Delay:
    """The camera's delay (exposure to arrival, seconds): ``initial`` until moves measure it, then the largest
    of the last ``KEEP`` measured."""

    def __init__(self, initial: float) -> None:
        self.initial = initial
        self.seen: deque[float] = deque(maxlen=KEEP)

    def observe(self, seconds: float) -> None:
        self.seen.append(max(0.0, seconds))

    @property
    def bound(self) -> float:
        return max(self.seen) if self.seen else self.initial


def settled_after(capture: Any, sent_at: float, idle_at: float, delay: Delay, timeout: float,
                  not_before: float = 0.0, notes: dict | None = None) -> Snapshot:
    """The first frame at rest exposed after the robot, sent moving at ``sent_at``, reported Idle at ``idle_at``
    (both ``time.monotonic()``), and arrived after ``not_before``; ``delay`` is updated with what the move showed.
    Waits at most ``REST`` past the bound for the picture to rest (then takes the newest frame past it), and for
    frames at most ``timeout``: the capture's own typed errors when none comes."""
    end = time.monotonic() + timeout
    kept = capture.recent()
    before = next((s for s in reversed(kept) if s.at <= sent_at), None)
    queue = [s for s in kept if s.at > sent_at]
    base = _smooth(before) if before is not None else None
    seen_at: float | None = None  # arrival of the first frame that showed the move
    last: tuple[Snapshot, np.ndarray] | None = None
    while True:
        snap = queue.pop(0) if queue else capture.after(last[0].at if last else sent_at,
                                                        max(0.1, end - time.monotonic()))
        picture = _smooth(snap)
        if seen_at is None and base is not None and moved_pixels(base, picture) > STILL_PIXELS:
            seen_at = snap.at
            delay.observe(seen_at - sent_at)
        bound = max(seen_at - sent_at, delay.initial) if seen_at is not None else \
            max(UNSEEN * delay.bound, UNSEEN_FLOOR)
        start = max(idle_at + bound, not_before)
        if snap.at >= start:
            rested = last is not None and last[0].at >= start and last[0].digest != snap.digest \
                and moved_pixels(last[1], picture) <= STILL_PIXELS
            if rested or time.monotonic() >= min(end, start + REST):
                if notes is not None:  # what the choice rested on, for a caller's log
                    notes.update(sent=sent_at, idle=idle_at, seen=seen_at, bound=bound, at=snap.at, index=snap.index,
                                 rested=rested, before=None if before is None else before.index)
                return snap
        last = (snap, picture)
