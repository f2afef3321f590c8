"""A handset seen through a recorder: every screenshot the harness takes also becomes a frame of the run's video.

It wraps whichever handset a run drives (ADB, robot, emulated), so flows and
waits stay as they are and the video holds exactly the frames they looked at.
Power events the harness causes (a reboot, the power key) go to the step log,
so the timeline shows them on the same clock as the screens, and so does a
restart it did not ask for: the handset dropping its connection and answering
again, written the moment the backend has connected again
(``Handset.watch_reconnects``), so a run killed right after still has it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness.handset import Handset, HandsetInfo
from harness.secrets import Secret
from harness.timeline.video import VideoRecorder


class RecordedHandset(Handset):
    """``handset`` with its screenshots passed to ``recorder`` and its power events to ``artifacts``' step log."""

    def __init__(self, handset: Handset, recorder: VideoRecorder, artifacts: Any = None) -> None:
        self.inner = handset
        self.recorder = recorder
        self.artifacts = artifacts
        handset.watch_reconnects(self._came_back)

    @property
    def info(self) -> HandsetInfo:
        return self.inner.info

    def screenshot(self) -> np.ndarray:
        image = self.inner.screenshot()
        self.recorder.add(image)
        return image

    def tap(self, x: int, y: int) -> None:
        self.inner.tap(x, y)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        self.inner.swipe(x1, y1, x2, y2, duration_ms)

    def text(self, text: "str | Secret") -> None:
        self.inner.text(text)

    def key(self, name: str) -> None:
        if name == "power":
            self._power("power key pressed")
        self.inner.key(name)

    def watch_reconnects(self, listener: Callable[[], None]) -> bool:
        return self.inner.watch_reconnects(listener)

    def _came_back(self) -> None:
        """A restart nobody here asked for: the handset dropped its connection and was connected to again."""
        self._power("the handset dropped its connection and answers again (it restarted, or its link did)")

    def reboot(self) -> None:
        self._power("reboot requested")
        self.inner.reboot()
        self._power("reboot done: the handset answers again")

    def close(self) -> None:
        self.inner.close()

    def _power(self, event: str) -> None:
        if self.artifacts is not None:
            self.artifacts.record("power", event=event)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        # what a backend offers beyond the Handset API (its ADB connection, endpoints) stays reachable
        return getattr(self.inner, name)
