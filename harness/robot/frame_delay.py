"""How long a camera's picture takes to show that the robot stopped: measured, so calibration waits no longer.

A camera frame reaches the host some time after it was exposed (the
sensor's readout, encoding, the network, decoding): a frame that arrives
just after the robot reports Idle may show the stylus still moving. A
screenshot therefore waits for a frame that arrived a fixed ``latency``
after it was asked for, a guess with room for slow cameras. Calibration
takes several dozen views, so it measures instead: after one move of the
stylus in view, it reads every frame for a generous window and finds the
first after which the picture no longer changes (the stylus at rest); its
arrival after Idle, plus two frame periods for noise in the timing, is
the camera's delay. A picture that never settles (auto exposure hunting,
flicker) measures nothing, and the configured latency stays.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

#: Grey levels a pixel must change by to count as motion (noise and JPEG move fewer), as the tip finder's.
MOTION_LEVEL = 28
#: Changed pixels (after a 3x3 opening) that still count as "the same picture": noise specks.
STILL_PIXELS = 12


def _gray(image: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return cv2.GaussianBlur(g, (5, 5), 0)


def _moved(a: np.ndarray, b: np.ndarray, region: np.ndarray | None) -> int:
    diff = (cv2.absdiff(a, b) >= MOTION_LEVEL).astype(np.uint8)
    if region is not None:
        diff &= region
    return int(cv2.morphologyEx(diff, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).sum())


def settle_delay(capture: Any, idle_at: float, window: float, region: np.ndarray | None = None) -> float | None:
    """Seconds from ``idle_at`` (monotonic: when the robot reported Idle) to the arrival of the first frame from
    which the picture stays still, over frames arriving within ``window`` after it; None when the picture did
    not settle (its last two frames differ) or too few frames came to tell."""
    end = idle_at + window
    frames: list[tuple[float, np.ndarray]] = []
    since = idle_at
    while True:
        snap = capture.after(since, max(0.1, end - time.monotonic() + 1.0))
        frames.append((snap.at, _gray(snap.image)))
        since = snap.at
        if snap.at >= end:
            break
    if len(frames) < 3 or _moved(frames[-2][1], frames[-1][1], region) > STILL_PIXELS:
        return None
    last = frames[-1][1]
    first_still = len(frames) - 1
    for i in range(len(frames) - 2, -1, -1):
        if _moved(frames[i][1], last, region) > STILL_PIXELS:
            break
        first_still = i
    periods = np.diff([at for at, _ in frames])
    return frames[first_still][0] - idle_at + 2.0 * float(np.median(periods))
