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

An MJPEG stream is read without decoding (FFmpeg's raw packets: each one a
JPEG), and a frame is decoded only when someone looks at it. A reader that
decoded every frame could fall behind a camera on a loaded host, the rest
queued in the socket and "the newest frame" showing a robot that had moved
on; reading packets costs almost nothing. The last few frames are kept
(``recent``) so that a caller can look back at the picture before a move.
"""

from __future__ import annotations

import atexit
import re
import threading
import time
import weakref
from collections import deque
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from harness.camera.errors import BadFrame, CameraUnavailable, FrameTooLarge, StaleFrame
from harness.deadline import left
from harness.errors import seconds
from harness.images import MAX_PIXELS

#: Frames kept for looking back (``recent``): a few seconds of a 20 fps camera, a few MB of JPEG.
RECENT = 64
#: How long opening a stream may take, and how long one read may wait for the next frame, by default (seconds).
OPEN_TIMEOUT = 10.0
READ_TIMEOUT = 5.0


class Snapshot:
    """One frame (``image``: BGR, as OpenCV decodes it), when it arrived (``at``: ``time.monotonic()``) and its
    number in the stream (``index``); a frame read as a JPEG packet is decoded on first use, once."""

    __slots__ = ("at", "index", "_image", "_jpeg", "_small", "_digest", "_lock")

    def __init__(self, image: np.ndarray | None, at: float, index: int, jpeg: bytes | None = None) -> None:
        self.at, self.index = at, index
        self._image, self._jpeg = image, jpeg
        self._small: np.ndarray | None = None
        self._digest: int | None = None if jpeg is None else hash(jpeg)
        self._lock = threading.Lock()

    @property
    def digest(self) -> int:
        """A hash of the frame's bytes: the same for a frame the camera sent twice (one exposure), different for
        two exposures of a scene at rest (sensor noise)."""
        if self._digest is None:
            self._digest = hash(np.ascontiguousarray(self.image).tobytes())
        return self._digest

    def small(self) -> np.ndarray:
        """The frame in grey at a quarter of its size (a JPEG decodes straight to that, at a fraction of the
        cost): enough to tell whether anything in the picture moved. Two threads asking at once get the same."""
        if self._small is None:
            jpeg = self._jpeg
            small = None if jpeg is None else cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_4)
            if small is None:
                grey = cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)
                small = cv2.resize(grey, (grey.shape[1] // 4, grey.shape[0] // 4), interpolation=cv2.INTER_AREA)
            self._small = small
        return self._small

    @property
    def image(self) -> np.ndarray:
        with self._lock:
            if self._image is None:
                image = cv2.imdecode(np.frombuffer(self._jpeg or b"", np.uint8), cv2.IMREAD_COLOR)
                if image is None:
                    raise BadFrame(f"camera frame {self.index}: {len(self._jpeg or b'')} bytes that are not a JPEG "
                                   "image (expected one per MJPEG part)")
                self._image, self._jpeg = image, None
            return self._image


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header (SOFn), without decoding it; None when there is none."""
    i, n = 2, len(data)
    if data[:2] != b"\xff\xd8":
        return None
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 9 <= n:
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        if marker == 0xDA or length < 2:  # the scan starts: no frame header before it
            return None
        i += 2 + length
    return None


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


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    return code.to_bytes(4, "little").decode("latin-1")


#: Captures open in this process, closed at exit by ``_close_open_captures``.
_OPEN: "weakref.WeakSet[Capture]" = weakref.WeakSet()


@atexit.register
def _close_open_captures() -> None:
    """Stop every reader still running when Python exits: a script that never closed its camera would otherwise
    end with the reader inside FFmpeg, and the C++ runtime aborts the process ("terminate called without an
    active exception", exit status 134) instead of exiting with the script's own status."""
    for capture in list(_OPEN):
        capture.close()


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
        self._recent: deque[Snapshot] = deque(maxlen=RECENT)
        self._ended: str | None = None   # why the stream ended (set by the reader), None while it runs
        self._reader = 0  # the current reader thread's number: an older one (closed) leaves no frame behind
        self.frames = 0
        self.packets = False  # the stream is read as JPEG packets, decoded on use (an MJPEG stream)

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
        # MJPEG through FFmpeg: read each part as its JPEG bytes (raw packets), decoded only when looked at
        self.packets = (backend == cv2.CAP_FFMPEG and _fourcc(cap) == "MJPG" and bool(cap.set(cv2.CAP_PROP_FORMAT, -1)))
        self._cap = cap
        with self._cond:
            self._reader += 1
            self._ended, self._newest = None, None
            self._recent.clear()
            reader = self._reader
        self._thread = threading.Thread(target=self._read, args=(cap, reader), name=f"camera {self.name}", daemon=True)
        self._thread.start()
        _OPEN.add(self)
        return self

    def _next(self, cap: cv2.VideoCapture) -> tuple[np.ndarray | None, bytes | None] | str:
        """The next frame: (image, None), or (None, JPEG bytes) when reading packets; why not, as a string."""
        if not self.packets:
            ok, image = cap.read()
            if not ok or image is None:
                return f"no frame came within {self.read_timeout:g}s, or the stream ended"
            h, w = image.shape[:2]
        else:
            ok = cap.grab()
            ok, packet = cap.retrieve() if ok else (False, None)
            if not ok or packet is None or packet.size == 0:
                return f"no frame came within {self.read_timeout:g}s, or the stream ended"
            if packet.size > 3 * self.max_pixels:  # larger than the pixels it may hold, uncompressed
                return f"sent a {packet.size}-byte frame, more than a {self.max_pixels}-pixel image takes"
            jpeg = packet.tobytes()
            size = jpeg_size(jpeg)
            if size is None:
                return f"sent a {len(jpeg)}-byte part that is not a JPEG image (no frame header)"
            if jpeg.rstrip(b"\r\n\0 ")[-2:] != b"\xff\xd9":  # what FFmpeg hands over when a read times out mid-part
                return (f"stopped sending in the middle of a frame ({len(jpeg)} bytes of a JPEG, no end marker "
                        f"within {self.read_timeout:g}s)")
            w, h = size
        if w * h > self.max_pixels:
            return f"sent a {w}x{h} frame, more than the {self.max_pixels} pixels accepted"
        return (image, None) if not self.packets else (None, jpeg)

    def _read(self, cap: cv2.VideoCapture, reader: int) -> None:
        why = "the stream ended"
        try:
            while self._reader == reader:
                got = self._next(cap)
                if isinstance(got, str):
                    why = got
                    break
                at = time.monotonic()
                with self._cond:
                    if self._reader != reader:  # closed (and perhaps opened again) during that read
                        break
                    self.frames += 1
                    self._newest = Snapshot(got[0], at, self.frames, got[1])
                    self._recent.append(self._newest)
                    self._cond.notify_all()
        except cv2.error as exc:
            why = f"OpenCV failed: {str(exc).strip().splitlines()[-1]}"
        finally:
            with self._cond:
                if self._reader == reader:
                    self._ended = why
                    self._cond.notify_all()
            cap.release()  # by the thread that reads it: never while a read is under way

    def close(self) -> None:
        """Stop the reader, which releases the camera (safe to call twice; a reader stuck in a read past its
        timeout is not waited for longer: it ends by itself, and nothing it reads after this counts)."""
        thread = self._thread
        if self._cap is None:
            return
        with self._cond:
            self._reader += 1
            self._ended = "closed"
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout=self.read_timeout + 1.0)
        self._cap = self._thread = None
        _OPEN.discard(self)

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

    def recent(self) -> list[Snapshot]:
        """The last frames read (up to ``RECENT``), oldest first."""
        with self._cond:
            return list(self._recent)

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
