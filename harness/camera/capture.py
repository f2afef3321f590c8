"""Frames from a camera through OpenCV's VideoCapture, newest only: a screenshot is never a stale frame.

``/dev/videoN`` (or a bare index) opens a UVC webcam with V4L2; ``http(s)://``
(an IP camera's MJPEG stream) and ``rtsp://`` go through OpenCV's FFmpeg
backend, as ``opencv-python-headless`` ships it, with its open and read
timeouts set so that a silent stream ends a read instead of hanging it. One
reader thread reads as fast as the camera sends and keeps only the newest
frame and the moment it arrived; ``latest(max_age)`` refuses a frame older
than its caller allows, and ``after(t, timeout)`` waits (with a deadline) for
a frame that arrived after ``t`` (the effect of a tap). Frames are size
checked: the size the stream announces before the first frame is read, and
every frame after.
"""

from __future__ import annotations

import re
import threading
import time
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from harness.camera.errors import CameraUnavailable, FrameTooLarge, StaleFrame
from harness.deadline import left
from harness.errors import seconds
from harness.images import MAX_PIXELS

#: How long opening a stream may take, and how long one read may wait for the next frame, by default (seconds).
OPEN_TIMEOUT = 10.0
READ_TIMEOUT = 5.0


class Snapshot(NamedTuple):
    """One frame (BGR, as OpenCV decodes it), when it arrived (``time.monotonic()``) and its number in the stream."""

    image: np.ndarray
    at: float
    index: int


def redact(url: str) -> str:
    """The URL without a password (``http://user:***@host/...``), for errors and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _source(url: str) -> tuple[str | int, int]:
    """What to hand VideoCapture, and which backend: V4L2 for a video device, FFmpeg for a network stream."""
    if re.fullmatch(r"\d+", url):
        return int(url), cv2.CAP_V4L2
    if url.startswith("/dev/video"):
        return url, cv2.CAP_V4L2
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https", "rtsp", "rtsps"):
        return url, cv2.CAP_FFMPEG
    raise CameraUnavailable(f"camera {redact(url)!r}: expected /dev/videoN, http(s):// (MJPEG) or rtsp:// URL")


class Capture:
    """A camera stream read by one thread; ``open()`` / ``close()`` (idempotent), or ``with``."""

    def __init__(self, url: str, max_pixels: int = MAX_PIXELS, open_timeout: float = OPEN_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT) -> None:
        self.url = url
        self.max_pixels = max_pixels
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self._cap: cv2.VideoCapture | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._newest: Snapshot | None = None
        self._ended: str | None = None   # why the stream ended (set by the reader), None while it runs
        self._stopping = False
        self.frames = 0

    @property
    def ended(self) -> str | None:
        """Why the stream ended (the server went away, no frame within the read timeout), or None while it runs."""
        with self._cond:
            return self._ended

    @property
    def name(self) -> str:
        return redact(self.url)

    def open(self) -> "Capture":
        """Open the stream (within ``open_timeout``, cut to the enclosing deadline) and start reading it."""
        if self._cap is not None:
            return self
        source, backend = _source(self.url)
        budget = left(self.open_timeout) or 0.0
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, max(1, int(budget * 1000)),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, max(1, int(self.read_timeout * 1000))]
        cap = cv2.VideoCapture(source, backend, params)
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailable(f"camera {self.name}: could not be opened (no stream within {seconds(budget)}s)")
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if w * h > self.max_pixels:
            cap.release()
            raise FrameTooLarge(f"camera {self.name}: announces {w}x{h} frames, expected at most "
                                f"{self.max_pixels} pixels; not read")
        self._cap = cap
        self._stopping, self._ended = False, None
        self._thread = threading.Thread(target=self._read, name=f"camera {self.name}", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        cap = self._cap
        assert cap is not None
        why = "the stream ended"
        try:
            while not self._stopping:
                ok, image = cap.read()
                if not ok or image is None:
                    why = f"no frame came within {self.read_timeout:g}s, or the stream ended"
                    break
                h, w = image.shape[:2]
                if w * h > self.max_pixels:
                    why = f"sent a {w}x{h} frame, more than the {self.max_pixels} pixels accepted"
                    break
                with self._cond:
                    self.frames += 1
                    self._newest = Snapshot(image, time.monotonic(), self.frames)
                    self._cond.notify_all()
        except cv2.error as exc:
            why = f"OpenCV failed: {str(exc).strip().splitlines()[-1]}"
        finally:
            with self._cond:
                self._ended = "closed" if self._stopping else why
                self._cond.notify_all()

    def close(self) -> None:
        """Stop the reader and release the camera (safe to call twice)."""
        cap, thread = self._cap, self._thread
        if cap is None:
            return
        self._stopping = True
        if thread is not None:
            thread.join(timeout=self.read_timeout + 1.0)
        cap.release()
        self._cap = self._thread = None

    def __enter__(self) -> "Capture":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ frames
    def _gone(self) -> CameraUnavailable:
        return CameraUnavailable(f"camera {self.name}: {self._ended}" if self._ended else f"camera {self.name}: not open")

    def latest(self, max_age: float = 1.0) -> Snapshot:
        """The newest frame; ``StaleFrame`` when it is older than ``max_age`` seconds, ``CameraUnavailable`` when
        the stream has ended (or was never opened)."""
        with self._cond:
            snap, ended = self._newest, self._ended
        if ended is not None or self._cap is None:
            raise self._gone()
        now = time.monotonic()
        if snap is None or now - snap.at > max_age:
            seen = "no frame yet" if snap is None else f"the newest is {now - snap.at:.2f}s old (frame {snap.index})"
            raise StaleFrame(f"a camera frame newer than {max_age:g}s from {self.name}", seen, max_age)
        return snap

    def after(self, since: float, timeout: float = 2.0) -> Snapshot:
        """The first frame that arrived after ``since`` (monotonic), waiting at most ``timeout`` (cut to the
        enclosing deadline); ``StaleFrame`` when none came, ``CameraUnavailable`` when the stream ended."""
        budget = left(timeout) or 0.0
        end = time.monotonic() + budget
        with self._cond:
            while True:
                snap = self._newest
                if snap is not None and snap.at > since:
                    return snap
                if self._ended is not None or self._cap is None:
                    raise self._gone()
                rest = end - time.monotonic()
                if rest <= 0:
                    break
                self._cond.wait(rest)
        seen = "no frame yet" if snap is None else f"the newest arrived {since - snap.at:.2f}s before it (frame {snap.index})"
        raise StaleFrame(f"a camera frame from {self.name} after the request", seen, budget)
