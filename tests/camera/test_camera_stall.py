"""A camera whose stream stalls mid-frame, over a real HTTP socket: every wait ends in a typed one-line error by
its deadline, never a hang.

The test's own MJPEG server (127.0.0.1, an OS-picked port) sends a few small frames and then half of the next
part's JPEG, and keeps the connection open without sending another byte: what an IP camera that froze does. A
second one answers the request with the stream's headers and never sends a part. The driver must say so within
its read and open timeouts; nothing it is told comes from the driver.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import cv2
import numpy as np
import pytest

from harness.camera import CameraScreen, CameraUnavailable, Capture, StaleFrame

#: Frames sent before the stall, and the read timeout the driver is given (seconds).
SENT = 3
READ_TIMEOUT = 2.0
#: Room for a loaded machine on top of each timeout: a wait must end by then (a hang would take forever).
SLACK = 10.0


def _part(index: int) -> bytes:
    frame = np.full((120, 160, 3), 40 + 50 * index, np.uint8)
    cv2.putText(frame, str(index), (50, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    return b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg


class _Frozen(BaseHTTPRequestHandler):
    """SENT whole parts, then half a JPEG, then silence on an open connection until the test ends."""

    release: threading.Event
    parts = SENT

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        try:
            for i in range(self.parts):
                self.wfile.write(_part(i) + b"\r\n")
            if self.parts:
                half = _part(self.parts)
                self.wfile.write(half[: len(half) // 2])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        self.release.wait(120)  # the connection stays open, silent

    def log_message(self, *args: Any) -> None:
        return


def _serve(parts: int) -> tuple[ThreadingHTTPServer, threading.Event]:
    release = threading.Event()
    handler = type("Handler", (_Frozen,), {"release": release, "parts": parts})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, release


@pytest.fixture
def frozen() -> Iterator[tuple[str, str]]:
    """(stalling mid-frame, silent from the start) stream URLs."""
    servers = [_serve(SENT), _serve(0)]
    try:
        yield tuple(f"http://127.0.0.1:{s.server_address[1]}/stream.mjpg" for s, _ in servers)  # type: ignore[misc]
    finally:
        for server, release in servers:
            release.set()
            server.shutdown()
            server.server_close()


def _one_line(exc: BaseException, *words: str) -> str:
    text = str(exc)
    assert "\n" not in text, text
    for word in words:
        assert word in text, text
    print(type(exc).__name__, text)
    return text


def test_a_stream_that_stalls_mid_frame_ends_every_wait_by_its_deadline(frozen: tuple[str, str]) -> None:
    stalling, silent = frozen
    capture = Capture(stalling, open_timeout=READ_TIMEOUT + SLACK, read_timeout=READ_TIMEOUT)
    with capture:
        last = capture.after(0.0, timeout=SLACK)
        assert last.image.shape == (120, 160, 3)
        while last.index < SENT:  # the whole frames sent arrive (each within a generous deadline) ...
            last = capture.after(last.at, timeout=SLACK)
        # ... then none: a wait for a newer one ends at its own deadline, typed, one line
        asked = time.monotonic()
        with pytest.raises((StaleFrame, CameraUnavailable)) as raised:
            capture.after(asked, timeout=1.0)
        assert time.monotonic() - asked < 1.0 + SLACK
        _one_line(raised.value, stalling)
        # the reader gives up on the silent stream after its read timeout and says why
        end = time.monotonic() + READ_TIMEOUT + SLACK
        while capture.ended is None:  # each look waits on the reader's condition (it wakes waiters when it ends)
            assert time.monotonic() < end, f"the stalled stream not seen as ended {READ_TIMEOUT + SLACK:g}s on"
            with pytest.raises((StaleFrame, CameraUnavailable)):
                capture.after(time.monotonic(), timeout=0.5)
        assert capture.frames == SENT, f"{capture.frames} frames read of the {SENT} whole ones sent"
        with pytest.raises(CameraUnavailable) as gone:
            capture.latest(max_age=60)
        _one_line(gone.value, stalling, f"{READ_TIMEOUT:g}s")
        started = time.monotonic()
    assert time.monotonic() - started < READ_TIMEOUT + 1.0 + SLACK  # close() does not hang either
    # a camera screen over it: a screenshot asked of a stalled camera is a typed error by its timeout
    screen = CameraScreen(stalling, "lumia-930", screen_corners=[(0, 0), (159, 0), (159, 119), (0, 119)],
                          timeout=READ_TIMEOUT + 1.0, capture=Capture(stalling, read_timeout=READ_TIMEOUT))
    with screen:
        asked = time.monotonic()
        with pytest.raises((StaleFrame, CameraUnavailable)) as raised:
            screen.screenshot()
        assert time.monotonic() - asked < READ_TIMEOUT + 1.0 + SLACK
        _one_line(raised.value, stalling)
    # a stream that never sends a frame: opening it fails by the open timeout (or the first read by its own)
    asked = time.monotonic()
    with pytest.raises((CameraUnavailable, StaleFrame)) as raised:
        with Capture(silent, open_timeout=READ_TIMEOUT, read_timeout=READ_TIMEOUT) as never:
            never.after(0.0, timeout=READ_TIMEOUT)
    assert time.monotonic() - asked < 2 * READ_TIMEOUT + SLACK
    _one_line(raised.value, silent)


def test_a_camera_screen_opens_its_camera_within_its_own_timeout(frozen: tuple[str, str]) -> None:
    # a camera-and-robot handset's timeout bounds opening its camera too, not the reader's default (10 s)
    _, silent = frozen
    asked = time.monotonic()
    with pytest.raises(CameraUnavailable) as raised:
        CameraScreen(silent, "lumia-930", timeout=1.5).open()
    assert time.monotonic() - asked < 1.5 + SLACK
    _one_line(raised.value, silent, "within 1.5s")
