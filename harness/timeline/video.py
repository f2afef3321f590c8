"""A video of every frame the harness took during a run, written as the frames come.

Frames are spooled as a Motion-JPEG stream (``video-spool.mjpeg``: one JPEG
after another, each flushed as it is written, so nothing is held in memory
and a killed run leaves every frame it took), together with one line per
frame in ``video-frames.jsonl`` (its index and wall-clock time). When the run
ends the spool is either dropped (``--record failures`` and the run passed)
or turned into ``video.webm`` with OpenCV's ``VideoWriter``: VP8 in WebM,
which Chromium and Firefox play and which opencv-python-headless's FFmpeg
can write. (Motion-JPEG AVI and MPEG-4 part 2 in MP4, the other formats its
``VideoWriter`` writes, do not play in a browser; its wheels carry no H.264
encoder. Its own AVI writer buffers, so a killed run would leave an empty
file.) ``salvage`` turns the spool a killed run left into its video.

The video plays at real time: each frame the harness took is held until the
next one was taken (``video_slots``: the video frame each starts at, from its
time since the first), except that every frame is shown for at least one video
frame (frames taken closer together than 1/FPS put the video briefly behind the
run, and it catches up at the next pause) and none is held longer than
``MAX_HOLD`` (a run that waited ten minutes is not ten minutes of one picture).
Each frame carries its time in a band below the screen, and the index line
``{"video": ..., "timing": "real"}`` tells the timeline to map a moment of the
run to its video frame through ``video_slots``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Literal

import numpy as np

from harness.artifacts import new_file
from harness.errors import HarnessError
from harness.secret_frames import veiled

#: What ``--record`` takes: keep a video of every run, only of failing ones, or record nothing.
RecordMode = Literal["always", "failures", "never"]
RECORD_MODES: tuple[str, ...] = ("always", "failures", "never")
#: Frames per second of the video: one frame the harness took per tenth of a second of video.
FPS = 10
#: A frame is shrunk until its longer side is at most this (a 1080x1920 screen: 405x720): VP8 costs about
#: 8 ms of CPU a frame at that size, 15-25 ms at 540x960; the step's full screenshot is beside it on the timeline.
MAX_SIDE = 720
#: The longest one frame is held in the video, in seconds (the band under it still says when the next came).
MAX_HOLD = 60.0
#: Height of the band under each frame that shows its time.
BAND = 24
VIDEO_NAME = "video.webm"
INDEX_NAME = "video-frames.jsonl"
SPOOL_NAME = "video-spool.mjpeg"
#: JPEG quality of the spooled frames (the video is encoded again from them)
SPOOL_QUALITY = 90


class RecordingError(HarnessError):
    """The video of a run cannot be written; names the file and why."""


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null for a moment: OpenCV's FFmpeg prints "tag 'VP80' is not supported with codec
    id 139 and format 'webm'" there when it opens a WebM writer, then writes VP8 all the same; at the end of a
    failed ``harness signin`` that line would read as a second error."""
    sys.stderr.flush()
    try:
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def video_slots(times: list[float], fps: float = FPS, max_hold: float = MAX_HOLD) -> list[int]:
    """The video frame each frame taken at ``times`` (epoch seconds, in order) starts at, so that the video plays
    at real time: its time since the first frame, in frames of ``fps``; never before the video frame after its
    predecessor's (every frame is shown), and no frame held longer than ``max_hold`` seconds (the time cut
    from a long pause is taken off every later frame too)."""
    slots: list[int] = []
    longest = max(1, round(max_hold * fps))
    cut = 0
    for t in times:
        if not slots:
            slots.append(0)
            continue
        target = round((t - times[0]) * fps) - cut
        if target > slots[-1] + longest:
            cut += target - (slots[-1] + longest)
            target = slots[-1] + longest
        slots.append(max(slots[-1] + 1, target))
    return slots


def _even(n: int) -> int:
    return max(2, n - n % 2)


class VideoRecorder:
    """Takes the frames of one run (``add``) and, at ``finish``, keeps them as ``video.webm`` or drops them."""

    def __init__(self, folder: str | Path, mode: RecordMode = "failures") -> None:
        if mode not in RECORD_MODES:
            raise ValueError(f"record mode {mode!r}: expected one of {', '.join(RECORD_MODES)}")
        self.folder = Path(folder)
        self.mode = mode
        self.frames = 0
        self.video: Path | None = None
        self._lock = threading.Lock()
        self._writer: IO[bytes] | None = None  # the spool, once the first frame came
        self._size: tuple[int, int] | None = None  # (width, height) of the screen part of a video frame
        self._spool: Path | None = None
        self._index: Path | None = None
        self._index_file: IO[str] | None = None
        self._times: list[float] = []   # when each frame was taken: the video holds each until the next
        self._closed = mode == "never"
        #: why recording stopped early (a full disk, a frame OpenCV refused): the run goes on without it
        self.stopped: str | None = None

    # ------------------------------------------------------------------ frames in
    def add(self, image: np.ndarray, t: float | None = None) -> None:
        """One frame the harness took (RGB or RGBA, any size), at wall-clock time ``t`` (now by default).

        Never raises: the video serves the run, so a frame that cannot be written stops the recording
        (``stopped`` says why, and ``finish`` keeps what was written) instead of the flow.
        """
        import cv2

        # to the millisecond, as the index keeps it: the video is cut from the same times the timeline reads back,
        # so each frame is where the page seeks for it (exact times put some a slot apart, next to another screen)
        t = round(time.time() if t is None else t, 3)
        with self._lock:
            if self._closed or self.stopped:
                return
            try:
                if self._writer is None:
                    self._open(image)
                frame = self._frame(veiled(image, self.folder), t)  # a secret shown is not kept
                assert self._writer is not None and self._index_file is not None
                ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, SPOOL_QUALITY])
                if not ok:
                    raise RecordingError(f"OpenCV could not encode frame {self.frames} as JPEG")
                self._writer.write(jpeg.tobytes())
                self._writer.flush()
                self._index_file.write(json.dumps({"i": self.frames, "t": t}) + "\n")
                self._index_file.flush()
                self._times.append(t)
                self.frames += 1
            except Exception as exc:  # OSError, cv2.error, a frame of no known shape
                self.stopped = f"frame {self.frames}: {type(exc).__name__}: {exc}"

    def _open(self, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        scale = min(1.0, MAX_SIDE / max(height, width))
        self._size = (_even(round(width * scale)), _even(round(height * scale)))
        self._spool = new_file(self.folder, SPOOL_NAME)
        self._index = new_file(self.folder, INDEX_NAME)
        self._index_file = open(self._index, "a", encoding="utf-8")
        self._index_file.write(json.dumps({"fps": FPS, "width": self._size[0], "height": self._size[1] + BAND}) + "\n")
        self._writer = open(self._spool, "wb")

    def _frame(self, image: np.ndarray, t: float) -> np.ndarray:
        """The screen fitted into the video's size (aspect kept), BGR, with its time in the band below."""
        import cv2

        assert self._size is not None
        width, height = self._size
        rgb = image[:, :, :3]
        scale = min(width / rgb.shape[1], height / rgb.shape[0])
        fitted = (max(1, min(width, round(rgb.shape[1] * scale))), max(1, min(height, round(rgb.shape[0] * scale))))
        out = np.zeros((height + BAND, width, 3), np.uint8)
        small = rgb
        factor = min(rgb.shape[1] // fitted[0], rgb.shape[0] // fitted[1])
        if factor >= 2:  # INTER_AREA by a whole factor is fast (0.7 ms for 1080x1920); by 0.375 it costs 8 ms
            small = cv2.resize(small, (rgb.shape[1] // factor, rgb.shape[0] // factor), interpolation=cv2.INTER_AREA)
        if (small.shape[1], small.shape[0]) != fitted:
            small = cv2.resize(small, fitted, interpolation=cv2.INTER_LINEAR)
        x, y = (width - fitted[0]) // 2, (height - fitted[1]) // 2
        out[y:y + fitted[1], x:x + fitted[0]] = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2BGR)
        stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}  #{self.frames}"
        cv2.putText(out, stamp, (6, height + BAND - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        return out

    # ------------------------------------------------------------------ the end of the run
    def finish(self, keep: bool) -> Path | None:
        """Close the spool; keep it as ``video.webm`` (returns its path) or drop it and its index.

        ``keep`` is whether the run failed; under ``--record always`` every video is kept.
        """
        with self._lock:
            if self._closed:
                return self.video
            self._closed = True
            if self._writer is None:  # no frame came (or the first could not be written)
                if self._index_file is not None:
                    self._index_file.close()
                return None
            self._writer.close()
            assert self._index_file is not None and self._spool is not None and self._index is not None
            try:
                if keep or self.mode == "always":
                    # on an error the spool stays: no frame is lost
                    self.video = transcode(self._spool, self.folder, self._times)
                    self._spool.unlink(missing_ok=True)
                    # the timeline finds it here, and that its frames are held for their real time
                    self._index_file.write(json.dumps({"video": self.video.name, "timing": "real"}) + "\n")
                else:
                    self._spool.unlink(missing_ok=True)
                    self._index.unlink(missing_ok=True)
            finally:
                self._index_file.close()
            return self.video



def transcode(spool: Path, folder: Path, times: list[float] | None = None) -> Path:
    """A spooled Motion-JPEG stream as ``video.webm`` (VP8) through OpenCV's VideoWriter, each frame held for its real
    time (``video_slots`` of ``times``, when each was taken; a frame past them is shown once)."""
    import cv2

    slots = video_slots(times) if times else []

    reader = cv2.VideoCapture(str(spool), cv2.CAP_FFMPEG)
    writer = None
    try:
        ok, frame = reader.read()
        if not ok:
            raise RecordingError(f"{spool}: no frame to read")
        target = new_file(folder, VIDEO_NAME)
        with _quiet_stderr():
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"VP80"), FPS, (frame.shape[1], frame.shape[0]))
        if not writer.isOpened():
            raise RecordingError(f"cannot write {target}: this OpenCV's FFmpeg has no VP8 (libvpx) encoder")
        i = 0
        while ok:
            for _ in range(slots[i + 1] - slots[i] if i + 1 < len(slots) else 1):
                writer.write(frame)
            ok, frame = reader.read()
            i += 1
    finally:
        reader.release()
        if writer is not None:
            writer.release()
    return target


def salvage(folder: str | Path) -> list[Path]:
    """The videos of spools a killed run left in ``folder`` (its frames index says which video is its own)."""
    folder = Path(folder)
    made = []
    for spool in sorted(folder.glob("video-spool*.mjpeg")):
        number = spool.name[len("video-spool"):-len(".mjpeg")]  # "" or ".2" (a second recorder's files)
        index_path = folder / f"video-frames{number}.jsonl"
        video = transcode(spool, folder, _times(index_path))
        with open(index_path, "a", encoding="utf-8") as index:
            index.write(json.dumps({"video": video.name, "timing": "real"}) + "\n")
        spool.unlink()
        made.append(video)
    return made


def _times(index: Path) -> list[float]:
    """When each spooled frame was taken, from a frames index (a killed run's last line may be cut short)."""
    times: list[float] = []
    try:
        lines = index.read_text(encoding="utf-8").splitlines()
    except OSError:
        return times
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "t" in entry:
            times.append(float(entry["t"]))
    return times
