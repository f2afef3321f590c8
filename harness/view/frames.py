"""One screenshot stream per handset, fanned out to every viewer: the grabber behind ``harness view``.

A grabber thread takes screenshots while anyone watches and an encoder thread
turns the newest one into a JPEG (as high as the largest viewer shows it), so grabbing the next frame overlaps encoding
this one (at 1080x1920 each takes tens of milliseconds). Viewers never take
screenshots themselves: ten viewers of a handset cost it what one does. With
nobody watching the grabber waits and the handset is left alone.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

#: JPEG quality of the live frames: sharp enough for text on the screen, small enough for 15+ frames a second.
JPEG_QUALITY = 80
#: A grabber whose screenshot fails waits this long before trying again, so a handset that went away is not hammered.
RETRY_PAUSE = 1.0


@dataclass(frozen=True)
class Frame:
    """One screenshot as the viewers get it: ``seq`` counts frames grabbed, ``changes`` frames that differed from the
    one before (what a viewer waits on to see a change), ``taken`` the wall-clock time it was taken."""

    seq: int
    changes: int
    taken: float
    width: int
    height: int
    jpeg: bytes          # at ``shown`` pixels high: the largest any viewer shows
    image: np.ndarray    # the screenshot at full size (vision, /snapshot.jpg)
    shown: int = 0


class FrameSource:
    """Screenshots of one handset, taken by one thread while there are viewers, newest frame kept for all of them.

    ``grab`` takes one screenshot (the caller serialises it with other use of the handset);
    listeners are called from the encoder thread with each new frame (keep them short: set an event).
    """

    def __init__(self, grab: Callable[[], np.ndarray], name: str = "handset", max_fps: float = 30.0) -> None:
        self._grab = grab
        self.name = name
        self.min_interval = 1.0 / max_fps
        self._cond = threading.Condition()
        self._viewers = 0
        self._raw: tuple[int, float, np.ndarray] | None = None   # newest screenshot not yet encoded
        self._frame: Frame | None = None
        self._listeners: list[tuple[Callable[[Frame], None], int | None]] = []   # (listener, height it shows)
        self._grabs = 0
        self._changes = 0
        self.error: str | None = None     # why the last screenshot failed (None: it did not)
        self._stopped = False
        self._threads = [threading.Thread(target=self._grab_loop, name=f"view-grab {name}", daemon=True),
                         threading.Thread(target=self._encode_loop, name=f"view-encode {name}", daemon=True)]
        for t in self._threads:
            t.start()

    @property
    def grabs(self) -> int:
        """Screenshots taken so far: what the viewers cost the handset."""
        return self._grabs

    @property
    def latest(self) -> Frame | None:
        return self._frame

    def watch(self, listener: Callable[[Frame], None], height: int | None = None) -> Callable[[], None]:
        """Start streaming to ``listener`` (the grabber runs while anyone watches); returns the call that stops it.

        ``height``: the most pixels high the viewer shows the screen (None: full size). Frames are encoded
        once, at the largest height any viewer shows, so a page in a small window does not pay for pixels
        it scales away.
        """
        entry = (listener, height)
        with self._cond:
            self._listeners.append(entry)
            self._viewers += 1
            self._cond.notify_all()
        done = threading.Event()

        def unwatch() -> None:
            if done.is_set():
                return
            done.set()
            with self._cond:
                self._listeners.remove(entry)
                self._viewers -= 1
        return unwatch

    def fresh(self, max_age: float, timeout: float) -> Frame:
        """A frame taken no longer than ``max_age`` seconds ago (grabbing for it when nobody watches), within
        ``timeout``; TimeoutError naming the handset and the last screenshot error otherwise."""
        deadline = time.monotonic() + timeout
        frame = self._frame
        if frame is not None and time.time() - frame.taken <= max_age:
            return frame
        wanted = (frame.seq if frame is not None else 0) + 1
        got = threading.Event()

        def listener(f: Frame) -> None:
            if f.seq >= wanted:
                got.set()
        unwatch = self.watch(listener)
        try:
            if not got.wait(max(0.0, deadline - time.monotonic())) or self._frame is None:
                raise TimeoutError(f"no screenshot of {self.name} within {timeout:g}s"
                                   + (f"; last error: {self.error}" if self.error else ""))
            return self._frame
        finally:
            unwatch()

    def close(self) -> None:
        """Stop both threads (a screenshot in progress finishes first)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=30)

    def _grab_loop(self) -> None:
        last = 0.0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._viewers > 0)
                if self._stopped:
                    return
            pause = last + self.min_interval - time.monotonic()
            if pause > 0:   # pacing, not synchronisation: at most max_fps screenshots a second
                with self._cond:
                    if self._cond.wait_for(lambda: self._stopped, timeout=pause):
                        return
            last = time.monotonic()
            try:
                image = self._grab()
            except Exception as exc:  # noqa: BLE001 - a viewer sees why; the grabber tries again after a pause
                self.error = f"{type(exc).__name__}: {exc}"
                with self._cond:
                    if self._cond.wait_for(lambda: self._stopped, timeout=RETRY_PAUSE):
                        return
                continue
            self.error = None
            with self._cond:
                self._grabs += 1
                self._raw = (self._grabs, time.time(), image)
                self._cond.notify_all()

    def _encode_loop(self) -> None:
        previous: Frame | None = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._raw is not None)
                if self._stopped:
                    return
                seq, taken, image = self._raw  # type: ignore[misc]
                self._raw = None
                heights = [h for _, h in self._listeners]
            shown = image.shape[0] if not heights or None in heights else min(image.shape[0], max(heights))
            same = previous is not None and previous.image.shape == image.shape and np.array_equal(previous.image, image)
            if not same:
                self._changes += 1
            if same and previous is not None and previous.shown == shown:
                jpeg = previous.jpeg   # the screen did not change: no second encoding of the same picture
            else:
                try:
                    jpeg = encode_jpeg(image, shown)
                except ValueError as exc:
                    self.error = str(exc)
                    continue
            frame = Frame(seq, self._changes, taken, image.shape[1], image.shape[0], jpeg, image, shown)
            previous = self._frame = frame
            with self._cond:
                listeners = [listener for listener, _ in self._listeners]
            for listener in listeners:
                listener(frame)


def encode_jpeg(image: np.ndarray, height: int | None = None) -> bytes:
    """An RGB frame as JPEG bytes, shrunk (keeping its aspect) to ``height`` pixels when that is smaller."""
    if height is not None and height < image.shape[0]:
        width = max(1, round(image.shape[1] * height / image.shape[0]))
        image = cv2.resize(image, (width, max(1, height)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"JPEG encoding of a {image.shape[1]}x{image.shape[0]} frame failed")
    return buf.tobytes()
