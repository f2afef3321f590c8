"""The screen as it changes, over ADB: ``screenrecord --output-format=frames`` on the emulated handset, read by the
harness's host (``AdbHandset.screen_stream``) and by Debian's ``adb``, and the live view's fallback to screenshots.

One emulated lumia-520 (480x800) with a page turn of one second serves the module: a turn is a screen that
keeps changing, so it shows how many frames a change gets; a still screen shows that nothing is sent.
"""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
import pytest

from harness.adb import AdbConnection, AdbHandset
from harness.adb.auth import load_or_create_key
from harness.adb.screen_stream import NotFrames, ScreenStream
from harness.adb.services import exec_out
from harness.emulator.process import EmulatorProcess
from harness.transport.tcp import TcpPipe

TURN_MS = 1000          # the page turn: a second of frames that all differ
HEIGHT = 400            # the height the frames are asked for (the screen is 800 high)
MODULE_KEY: dict[str, Any] = {}   # the key the module's handset trusts


@pytest.fixture(scope="module")
def handset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdbHandset]:
    folder = tmp_path_factory.mktemp("screen-stream")
    key = MODULE_KEY["key"] = load_or_create_key(folder / "adbkey")
    proc = EmulatorProcess("lumia-520", ["--animation-ms", str(TURN_MS), "--screen", "start", "--boot-time", "0.3",
                                         "--no-user-keys", "--adb-key", str(folder / "adbkey.pub")],
                           log_path=folder / "emulator.log")
    proc.start()
    host, port = proc.endpoints["adb"].rsplit(":", 1)
    phone = AdbHandset(lambda: AdbConnection(TcpPipe(host, int(port)), key, timeout=20).connect(),
                       f"adb-tcp://{proc.endpoints['adb']}", 20)
    try:
        yield phone
    finally:
        phone.close()
        proc.stop()


def _scaled(image: np.ndarray, height: int) -> np.ndarray:
    width = round(image.shape[1] * height / image.shape[0])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _near(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference per channel (0: the same picture)."""
    assert a.shape == b.shape, f"shapes differ: {a.shape} and {b.shape}"
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


#: No frame for this long: the screen is still (a page turn on a loaded machine sends a frame far more often).
QUIET = 3.0


def _quiet(phone: AdbHandset, within: float = 60.0) -> np.ndarray:
    """The screen once the phone has sent no frame for ``QUIET`` seconds (a page turn has ended): a screenshot."""
    deadline = time.monotonic() + within
    with phone.screen_stream(100) as stream:
        while stream.next_frame(QUIET) is not None:
            assert time.monotonic() < deadline, f"the screen did not stay still within {within:g}s"
    return phone.screenshot().copy()


def test_frames_come_when_the_screen_changes_scaled_on_the_phone_and_none_while_it_is_still(handset: AdbHandset) -> None:
    before = _quiet(handset)
    with handset.screen_stream(HEIGHT) as stream:
        first = stream.next_frame(10.0)
        assert first is not None and first.shape == (HEIGHT, 240, 3), f"first frame: {None if first is None else first.shape}"
        assert _near(first, _scaled(before, HEIGHT)) < 6, "the first frame is not the screen the screenshot shows"
        # a still screen sends nothing (the status bar clock may tick once)
        quiet = [stream.next_frame(0.5) for _ in range(3)]
        assert sum(f is not None for f in quiet) <= 1 and not stream.ended, "frames came while the screen was still"
        # a swipe from right to left turns the start screen to the app list: a second of changing frames
        sent = time.monotonic()
        handset.swipe(400, 400, 80, 400, 200)
        frames: list[np.ndarray] = []
        while (frame := stream.next_frame(QUIET)) is not None:
            frames.append(frame)
            if len(frames) == 1:
                latency = time.monotonic() - sent
        assert len(frames) >= 4, f"a {TURN_MS} ms page turn gave {len(frames)} frames"
        assert latency < 3.0, f"the first frame of the change came {latency:.2f}s after the swipe was sent"
        assert len({f.tobytes() for f in frames}) >= 4, "the turn's frames are not different pictures"
        after = handset.screenshot().copy()   # the turn has ended: no frame came for QUIET seconds
        assert _near(before, after) > 10, "the swipe did not change the screen"
        assert _near(frames[-1], _scaled(after, HEIGHT)) < 6, "the last frame is not the screen after the turn"
    # the recording ended with its stream; the connection goes on
    assert handset.shell("echo still here").strip() == "still here"
    handset.key("back")
    _quiet(handset)


def test_androids_frames_format_and_time_limit_through_debian_adb(handset: AdbHandset, debian_adb: Any,
                                                                  tmp_path: Path) -> None:
    # the header, read as Android's screenrecord documents it: length after the first word, width, height,
    # stride, HAL_PIXEL_FORMAT_RGB_888 (3); a still screen gives one frame, and --time-limit ends the recording
    _quiet(handset)
    ours = exec_out(handset.conn, "screenrecord --time-limit 1 --size 120x200 --output-format=frames -", 30, 8 << 20)
    size = 20 + 120 * 200 * 3
    assert len(ours) % size == 0 and len(ours) >= size, f"{len(ours)} bytes: not whole frames of {size}"
    for at in range(0, len(ours), size):   # one frame, or two if the status bar clock ticked
        assert struct.unpack("<5I", ours[at:at + 20]) == (16 + 120 * 200 * 3, 120, 200, 360, 3)
    assert len(ours) <= 2 * size, f"{len(ours) // size} frames of a still screen in one second"
    raw = exec_out(handset.conn, "screenrecord --time-limit 1 --size 120x200 --output-format=raw-frames -", 30, 8 << 20)
    assert raw[:120 * 200 * 3] == ours[20:20 + 120 * 200 * 3], "raw-frames is not the frames output without headers"
    refused = handset.shell_result("screenrecord --output-format=h264 -")
    assert refused.exit_code != 0 and b"h264" in refused.stderr

    # Debian's adb, a host nobody here wrote, gets the same bytes (it trusts this handset through its own key)
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--screen", "start", "--boot-time", "0.3",
                                         "--no-user-keys", "--adb-key", str(debian_adb.key)], log_path=tmp_path / "e.log")
    proc.start()
    try:
        serial = proc.endpoints["adb"]
        assert "connected to" in debian_adb("connect", serial).stdout
        started = time.monotonic()
        got = debian_adb("-s", serial, "exec-out", "screenrecord", "--time-limit", "1", "--size", "120x200",
                         "--output-format=frames", "-", binary=True).stdout
        assert time.monotonic() - started < 30
        assert struct.unpack("<5I", got[:20]) == (16 + 120 * 200 * 3, 120, 200, 360, 3)
        assert len(got) % (20 + 120 * 200 * 3) == 0 and len(got) >= 20 + 120 * 200 * 3
    finally:
        proc.stop()


def test_bytes_that_are_no_frames_are_refused_and_the_view_takes_screenshots(handset: AdbHandset) -> None:
    from harness.view.frames import FrameSource

    # a phone whose screenrecord prints something else: the first header is refused, naming what came
    with ScreenStream(handset.conn, (240, 400), command="echo screenrecord: not found") as stream:
        with pytest.raises(NotFrames, match="screenrecord frame header"):
            stream.next_frame(10.0)
    # a phone whose screenrecord ends without a frame (unknown option: it prints to stderr only)
    with ScreenStream(handset.conn, (240, 400), command="screenrecord --no-such-option -") as stream:
        with pytest.raises(NotFrames, match="ended before its first frame"):
            stream.next_frame(10.0)

    # the live view's grabber, given such a stream, goes on with screenshots of the handset
    lock = threading.Lock()

    def grab() -> np.ndarray:
        with lock:
            return handset.screenshot().copy()

    opened: list[int | None] = []

    def bad_stream(height: int | None) -> tuple[ScreenStream, tuple[int, int]]:
        opened.append(height)
        with lock:
            return ScreenStream(handset.conn, (240, 400), command="echo no frames here"), (480, 800)

    def refused(height: int | None) -> tuple[ScreenStream, tuple[int, int]]:
        opened.append(height)   # as ScreenStream says when the device refuses exec: (before Android 5)
        raise NotFrames("the device refused 'exec:screenrecord ...'")

    for opener in (bad_stream, refused):
        opened.clear()
        source = FrameSource(grab, "lumia-520", stream=opener)
        got = threading.Event()
        unwatch = source.watch(lambda frame: got.set())
        try:
            assert got.wait(30), f"no frame within 30s; error: {source.error}"
            assert opened == [None] and source.mode == "screenshots", (opened, source.mode, source.error)
            assert source.latest is not None and source.latest.full and source.latest.image.shape == (800, 480, 3)
        finally:
            unwatch()
            source.close()


def test_the_device_announces_the_smaller_of_256_kib_and_the_hosts_maxdata(handset: AdbHandset) -> None:
    # adbd keeps min(the host's maxdata, its MAX_PAYLOAD) and announces that in its CNXN (AOSP adb transport.cpp
    # update_version, adb.cpp send_connect); MAX_PAYLOAD is 256 KiB on Android 7 and 8, what this handset models.
    # Our host offers 1 MiB, as Debian's adb 29 does; a host offering 8 KiB gets 8 KiB and no larger message
    # (its reader refuses a payload over what it announced), even for a whole screenshot.
    assert handset.conn.max_write == 256 * 1024, f"announced {handset.conn.max_write} to a host offering 1 MiB"
    address = handset.description.removeprefix("adb-tcp://")
    host, port = address.rsplit(":", 1)
    small = AdbConnection(TcpPipe(host, int(port)), MODULE_KEY["key"], timeout=20, max_payload=8192).connect()
    try:
        assert small.max_write == 8192, f"announced {small.max_write} to a host offering 8 KiB"
        phone = AdbHandset(lambda: small, address, 20)
        assert phone.screenshot().shape[:2] == (800, 480)
    finally:
        small.close()
