"""An IP camera's RTSP stream, served by GStreamer's RTSP server (a peer we did not write), read by ``Capture``.

The server (``rtsp_peer.py``, run with Debian's python3 and its GStreamer
packages) streams four small JPEG frames in a loop as RTP/JPEG, live, on
127.0.0.1 at a port the OS picks; OpenCV's FFmpeg backend reads it as a
lab's IP camera is read. The frames are made here, so what comes out is
checked against what went in, not against the reader. When the stream stops
(the server is paused or killed) every wait ends in a typed one-line error
within its deadline; nothing hangs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import pytest

from harness.camera.capture import Capture
from harness.camera.errors import CameraUnavailable

PEER = Path(__file__).with_name("rtsp_peer.py")
SYSTEM_PYTHON = "/usr/bin/python3"
PACKAGES = "apt-get install gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad python3-gi"
#: Generous: the machine running the tests may be loaded.
START = 30.0
READ_TIMEOUT = 3.0
#: How far past a deadline a typed error may come on a loaded machine (the reader thread has to be scheduled).
SLACK = 10.0
SIZE = (320, 240)


def _missing() -> str | None:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"no {SYSTEM_PYTHON} (Debian's python3; then {PACKAGES})"
    done = subprocess.run([SYSTEM_PYTHON, str(PEER), "--check"], capture_output=True, text=True, timeout=60)
    return None if done.returncode == 0 else f"{done.stderr.strip()} ({PACKAGES})"




def _quadrant(i: int) -> tuple[slice, slice]:
    """Rows and columns of quadrant ``i`` (0 top left, 1 top right, 2 bottom right, 3 bottom left) of a frame."""
    h, w = SIZE[1] // 2, SIZE[0] // 2
    top, left = (0, 0, h, h)[i], (0, w, w, 0)[i]
    return slice(top, top + h), slice(left, left + w)


def _frames(folder: Path) -> list[np.ndarray]:
    """Four frames told apart by colour and by which quadrant is white, written as JPEG files for the server."""
    images = []
    for i in range(4):
        image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        image[:] = (60 * i, 200 - 60 * i, 100)
        rows, cols = _quadrant(i)
        image[rows, cols] = 255
        cv2.imwrite(str(folder / f"frame{i}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append(image)
    return images


class Server:
    """One rtsp_peer.py process; it stops when the test closes its stdin, or is killed."""

    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(PEER), *sorted(str(p) for p in folder.glob("frame*.jpg"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(folder / f"rtsp-{time.monotonic_ns()}.err", "wb"))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the server prints its one line at once, or dies
        assert line, f"rtsp_peer.py said nothing (exit {self.proc.poll()})"
        self.url = json.loads(line)["url"]

    def stop(self) -> None:
        """Close its stdin (it quits), killing it if it does not within START seconds."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # if a test paused it
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        try:
            self.proc.wait(timeout=START)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=START)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[np.ndarray]]:
    """The frames the server streams; the module is skipped, saying which packages, where GStreamer is missing."""
    missing = _missing()
    if missing is not None:
        pytest.skip(f"GStreamer's RTSP server is not installed: {missing}")
    folder = tmp_path_factory.mktemp("rtsp")
    return folder, _frames(folder)


@pytest.fixture
def server(served: tuple[Path, list[np.ndarray]]) -> Iterator[Server]:
    peer = Server(served[0])
    try:
        yield peer
    finally:
        peer.stop()


def _which(image: np.ndarray, sent: list[np.ndarray]) -> int:
    """The sent frame ``image`` is, by the smallest mean difference; it must be close to it and far from the rest."""
    errors = [float(np.mean(cv2.absdiff(image, s))) for s in sent]
    best = int(np.argmin(errors))
    others = min(e for i, e in enumerate(errors) if i != best)
    assert errors[best] < 6 and others > 4 * errors[best] + 20, f"a frame like none sent: mean differences {errors}"
    return best


def test_an_rtsp_camera_is_read_newest_frame_first_and_is_what_was_sent(server: Server,
                                                                         served: tuple[Path, list[np.ndarray]]) -> None:
    sent = served[1]
    with Capture(server.url, read_timeout=READ_TIMEOUT, open_timeout=START) as camera:
        first = camera.after(0.0, timeout=START)
        assert first.image.shape == (SIZE[1], SIZE[0], 3)
        seen = {_which(first.image, sent)}
        deadline = time.monotonic() + START
        while len(seen) < 4:  # the stream goes on: later frames are the others, in the server's loop
            assert time.monotonic() < deadline, f"only frames {sorted(seen)} in {START:g}s"
            snap = camera.after(time.monotonic(), timeout=START)
            seen.add(_which(snap.image, sent))
        assert camera.latest(max_age=START).index >= 4
        assert camera.ended is None


def test_an_rtsp_stream_that_stalls_then_goes_away_ends_every_wait_typed_and_in_time(server: Server) -> None:
    camera = Capture(server.url, read_timeout=READ_TIMEOUT, open_timeout=START).open()
    try:
        camera.after(0.0, timeout=START)
        os.kill(server.proc.pid, signal.SIGSTOP)  # the camera hangs: its connection stays open, no frame comes
        stalled = time.monotonic()
        with pytest.raises(CameraUnavailable) as ended:
            while True:
                camera.after(time.monotonic(), timeout=START)
        took = time.monotonic() - stalled
        assert "no frame came within 3s" in str(ended.value) and "\n" not in str(ended.value)
        assert took < READ_TIMEOUT + SLACK, f"the stall was noticed after {took:.1f}s"
        with pytest.raises(CameraUnavailable, match="no frame came"):
            camera.latest()
    finally:
        camera.close()
    server.stop()  # the camera is unplugged: nothing listens at its address now
    started = time.monotonic()
    with pytest.raises(CameraUnavailable, match="could not be opened") as refused:
        Capture(server.url, open_timeout=5.0).open()
    assert time.monotonic() - started < 5.0 + SLACK and "\n" not in str(refused.value)


def test_an_rtsp_server_killed_mid_stream_ends_the_reader_at_once(server: Server) -> None:
    with Capture(server.url, read_timeout=30.0, open_timeout=START) as camera:
        camera.after(0.0, timeout=START)
        os.kill(server.proc.pid, signal.SIGKILL)  # its sockets close: the reader hears it, no read timeout needed
        killed = time.monotonic()
        with pytest.raises(CameraUnavailable, match=r"rtsp://127\.0\.0\.1:\d+/camera: "):
            while True:
                camera.after(time.monotonic(), timeout=60.0)
        assert time.monotonic() - killed < 30.0, "the reader waited for its read timeout instead"


def test_a_robot_handset_takes_an_rtsp_camera(server: Server, served: tuple[Path, list[np.ndarray]],
                                              tmp_path: Path) -> None:
    """``robot://PORT?camera=rtsp%3A...``: the handset's screenshot is the RTSP frame, rectified to the profile."""
    from harness.emulator.grbl_device import EmulatedGrbl
    from harness.handsets import open_handset
    from harness.handsets.robot import uri_of
    from harness.robot.gestures import Feeds
    from harness.robot.limits import Box, Limits
    from harness.robot.mapping import BedMap, Calibration, write_calibration

    corners = [(0.0, 0.0), (SIZE[0], 0.0), (SIZE[0], SIZE[1]), (0.0, SIZE[1])]  # the whole frame is the screen
    bed, _ = BedMap.fit([(-90.0, -50.0), (-30.0, -50.0), (-30.0, -150.0), (-90.0, -150.0)],
                        [(0, 0), (1080, 0), (1080, 1920), (0, 1920)])
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=-40.0, hover_z=-30.0)
    path = tmp_path / "calibration.toml"
    write_calibration(path, Calibration("lumia-930", bed, limits, Feeds(), 0.0, screen_corners=corners))
    robot = EmulatedGrbl()
    robot.start()
    # the camera already streaming, as a slot's is: the handset opens its camera within the camera's own 10 s,
    # which starting the server's pipeline for a first client can take on a loaded machine
    warm = Capture(server.url, open_timeout=START).open()
    try:
        warm.after(0.0, timeout=START)
        uri = uri_of(robot.port.path, server.url, path, "lumia-930")
        assert "camera=rtsp%3A%2F%2F127.0.0.1%3A" in uri
        opened = open_handset(uri)
        try:
            shot = opened.handset.screenshot()
        finally:
            opened.close()
    finally:
        warm.close()
        robot.stop()
    assert shot.shape == (1920, 1080, 3)
    # the screenshot's light and colour are evened out (glare, exposure), so the frame is told by its odd quadrant
    # out: three alike (the background), one not (the white one); the whole frame is the screen, so the frame's
    # quadrants are the screen's
    small = cv2.resize(shot, SIZE, interpolation=cv2.INTER_AREA).astype(np.float64)
    means = [small[_quadrant(i)].reshape(-1, 3).mean(axis=0) for i in range(4)]
    apart = [min(float(np.linalg.norm(means[i] - means[j])) for j in range(4) if j != i) for i in range(4)]
    odd = int(np.argmax(apart))
    alike = max(float(np.linalg.norm(means[i] - means[j])) for i in range(4) for j in range(4) if odd not in (i, j))
    print("quadrant colours:", [m.round(1).tolist() for m in means], "odd one out:", odd)
    assert apart[odd] > 40 and alike < apart[odd] / 2, \
        f"a screenshot like none of the frames sent: quadrant colours {[m.round(1).tolist() for m in means]}"
