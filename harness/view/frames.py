"""One frame stream per handset, fanned out to every viewer: the grabber behind ``harness view``.

A grabber thread takes the handset's frames while anyone watches and an
encoder thread turns the newest one into a JPEG (as high as the largest viewer
shows it), so taking the next frame overlaps encoding this one. Where the
handset pushes its screen as it changes (``Handset.screen_stream``: an ADB
phone's ``screenrecord`` frames, scaled on the phone to the tallest viewer's
height), the grabber reads that: a still screen costs nothing and a change
arrives as soon as the phone composed it. Elsewhere (a camera-and-robot
handset, a phone without ``screenrecord``) it takes screenshots in a loop.
Viewers never take frames themselves: ten viewers of a handset cost it what
one does. With nobody watching the grabber waits and the handset is left alone.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import cv2
import numpy as np

from harness.handset import NoScreenStream

#: JPEG quality of the live frames: sharp enough for text on the screen, small enough for 15+ frames a second.
JPEG_QUALITY = 80
#: A grabber whose screenshot fails waits this long before trying again, so a handset that went away is not hammered.
RETRY_PAUSE = 1.0
#: How long a frame stream may stay quiet (a still screen) before the grabber looks at who watches.
IDLE_POLL = 0.25


@dataclass(frozen=True)
class Frame:
    """One frame as the viewers get it: ``seq`` counts frames grabbed, ``changes`` frames that differed from the
    one before (what a viewer waits on to see a change), ``taken`` the wall-clock time it was taken; ``width``
    and ``height`` are the handset's screen, ``image`` the frame as taken (smaller when the phone scaled it)."""

    seq: int
    changes: int
    taken: float
    width: int
    height: int
    jpeg: bytes          # at ``shown`` pixels high: the largest any viewer shows
    image: np.ndarray    # the frame as taken: the screen's size from screenshots, scaled from a phone's stream
    shown: int = 0

    @property
    def full(self) -> bool:
        """The frame has the screen's own pixels (vision and snapshots need them)."""
        return self.image.shape[0] == self.height and self.image.shape[1] == self.width


class FrameSource:
    """Screenshots of one handset, taken by one thread while there are viewers, newest frame kept for all of them.

    ``grab`` takes one screenshot (the caller serialises it with other use of the handset); ``stream``, when
    given, opens the handset's own frame stream at most that many pixels high (``Handset.screen_stream``) and
    returns it with the screen's (width, height), or None when the handset has none.
    Listeners are called from the encoder thread with each new frame (keep them short: set an event).
    """

    def __init__(self, grab: Callable[[], np.ndarray], name: str = "handset", max_fps: float = 30.0,
                 stream: Callable[[int | None], tuple[Any, tuple[int, int]] | None] | None = None) -> None:
        self._grab = grab
        self._open_stream = stream
        #: Where frames come from: "screenrecord" (the phone pushes them), "screenshots", or "" before the first.
        self.mode = ""
        self.confirmed = 0.0   # wall-clock time a live stream last said the newest frame is still the screen
        self.name = name
        self.min_interval = 1.0 / max_fps
        self._cond = threading.Condition()
        self._viewers = 0
        self._raw: tuple[int, float, np.ndarray, tuple[int, int] | None] | None = None   # newest frame, not encoded
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

    def close(self) -> None:
        """Stop both threads (a screenshot in progress finishes first)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=30)

    def offer(self, image: np.ndarray) -> None:
        """A screenshot taken outside the grabber (a snapshot): the newest frame, unless frames are streaming now."""
        with self._cond:
            if self._viewers > 0:
                return
        self._publish(image)

    def _wanted_height(self) -> int | None:
        """How high the tallest viewer shows the screen (None: full size)."""
        with self._cond:
            heights = [h for _, h in self._listeners]
        return None if not heights or None in heights else max(heights)

    def _publish(self, image: np.ndarray, size: tuple[int, int] | None = None) -> None:
        with self._cond:
            self._grabs += 1
            self._raw = (self._grabs, time.time(), image, size)
            self._cond.notify_all()

    def _stream_loop(self) -> bool:
        """Read the handset's own frame stream while anyone watches at the height it was opened for; False when
        the handset has none (then screenshots are taken from now on)."""
        height = self._wanted_height()
        try:
            opened = self._open_stream(height)  # type: ignore[misc]
        except NoScreenStream as exc:   # refused outright (no exec:, no screenrecord): screenshots from now on
            self.error = f"frame stream: {exc}; taking screenshots"
            self._open_stream = None
            return False
        except Exception as exc:  # noqa: BLE001 - a device that is away now: say why, try again after a pause
            self.error = f"frame stream: {type(exc).__name__}: {exc}"
            with self._cond:
                self._cond.wait_for(lambda: self._stopped, timeout=RETRY_PAUSE)
            return True
        if opened is None:
            self._open_stream = None
            return False
        stream, size = opened
        try:
            with self._cond:
                go_on = not self._stopped and self._viewers > 0
            while go_on and self._wanted_height() == height:
                image = stream.next_frame(IDLE_POLL)
                if image is not None:
                    self.mode, self.error = "screenrecord", None
                    self._publish(image, size)
                elif stream.ended:
                    break
                self.confirmed = time.time()
                with self._cond:
                    go_on = not self._stopped and self._viewers > 0
        except NoScreenStream as exc:   # this phone's screenrecord gives no frames: take screenshots from now on
            self.error = f"frame stream: {exc}; taking screenshots"
            self._open_stream = None
            return False
        except Exception as exc:  # noqa: BLE001 - a viewer sees why; the next round opens a stream again
            self.error = f"frame stream: {type(exc).__name__}: {exc}"
            with self._cond:
                self._cond.wait_for(lambda: self._stopped, timeout=RETRY_PAUSE)
        finally:
            self.confirmed = 0.0
            stream.close()
        return True

    def _grab_loop(self) -> None:
        last = 0.0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._viewers > 0)
                if self._stopped:
                    return
            if self._open_stream is not None and self._stream_loop():
                continue
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
            self.mode, self.error = "screenshots", None
            self._publish(image)

    def _encode_loop(self) -> None:
        previous: Frame | None = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._raw is not None)
                if self._stopped:
                    return
                seq, taken, image, size = self._raw  # type: ignore[misc]
                self._raw = None
                heights = [h for _, h in self._listeners]
            width, height = size or (image.shape[1], image.shape[0])
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
            frame = Frame(seq, self._changes, taken, width, height, jpeg, image, shown)
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


def encode_png(image: np.ndarray) -> bytes:
    """An RGB frame as PNG bytes at its own size (lossless: what the screen library and a bug report want)."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError(f"PNG encoding of a {image.shape[1]}x{image.shape[0]} frame failed")
    return buf.tobytes()
