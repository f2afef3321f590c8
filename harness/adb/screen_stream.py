"""The screen as it changes, from ``screenrecord --output-format=frames -`` over ``exec:``: the live view's source.

A screenshot loop pays for a whole frame (8.3 MB as RGBA at 1080x1920) per
picture, changed or not. Android's ``screenrecord`` with its ``frames``
output sends a frame only when the screen was composed anew, as RGB888 and
scaled on the device to the size asked for, each behind a 20-byte header
(packet length, width, height, stride, pixel format; little-endian). Every
phone with adbd has it (Android 5 and later); a recording ends after its time
limit (180 s), and the caller starts another.

Every read is bounded: a frame may be no larger than the size asked for
(itself no larger than the screen ``wm size`` announced), and the header must
say exactly how many bytes follow.
"""

from __future__ import annotations

import struct

import numpy as np

from harness.adb.connection import AdbConnection, Stream
from harness.adb.errors import AdbTimeout, StreamRefused
from harness.adb.protocol import ProtocolViolation
from harness.deadline import deadline_of, until
from harness.handset import NoScreenStream

#: The ``frames`` header: packet length after this word, width, height, stride in bytes, pixel format.
HEADER = struct.Struct("<5I")
#: HAL_PIXEL_FORMAT_RGB_888, the only pixel format ``frames`` carries.
RGB_888 = 3


class NotFrames(ProtocolViolation, NoScreenStream):
    """What ``screenrecord`` sent is not its frames (no such command, another output): take screenshots."""


def fit(screen: tuple[int, int], height: int | None) -> tuple[int, int]:
    """The size to record a ``screen`` (width, height) at to show it ``height`` pixels high: the screen's aspect,
    even numbers (what video paths want), never larger than the screen."""
    w, h = screen
    if height is None or height >= h:
        return w, h
    height = max(2, height - height % 2)
    width = max(2, round(w * height / h))
    return width - width % 2, height


class ScreenStream:
    """One ``screenrecord`` on ``conn`` at ``size`` (width, height); ``next_frame`` gives each frame as it comes.
    ``command``: another command line that prints ``frames`` output (e.g. with ``--time-limit``).

    Not thread-safe: one reader. ``close`` ends the recording (the device stops when its stream closes).
    """

    def __init__(self, conn: AdbConnection, size: tuple[int, int], open_timeout: float = 10.0,
                 command: str | None = None) -> None:
        self.size = size
        command = command or f"screenrecord --output-format=frames --size {size[0]}x{size[1]} -"
        self.service = f"exec:{command}"
        self.frames = 0
        try:
            self._stream: Stream = conn.open(self.service, open_timeout)
        except StreamRefused:   # an adbd without exec: (before Android 5): no frame stream here
            raise NotFrames(f"the device refused {self.service!r}") from None
        self._pending = memoryview(b"")   # bytes of the last chunk not used yet
        self._ended = False

    @property
    def ended(self) -> bool:
        """The device ended the recording (its time limit, or it went away): start another to go on."""
        return self._ended

    def _chunk(self, at: float | None) -> memoryview | None:
        if self._pending:
            chunk, self._pending = self._pending, memoryview(b"")
            return chunk
        rest = until(at)
        if rest is not None and rest <= 0:   # (a read given 0 would wait the connection's whole timeout)
            raise AdbTimeout(f"data on {self._stream.service!r}", "nothing", 0)
        data = self._stream.read(rest)   # AdbTimeout when nothing came by ``at``
        if data is None:
            self._ended = True
            return None
        return memoryview(data)

    def _fill(self, view: memoryview, at: float | None, what: str, first: bool = False) -> bool:
        """Fill ``view`` from the stream; False when the recording ended before the first byte of a header."""
        got = 0
        while got < len(view):
            try:
                chunk = self._chunk(at)
            except AdbTimeout:
                if got == 0 and first:
                    raise
                raise AdbTimeout(f"the rest of {what} on {self.service!r}", f"{got} of {len(view)} bytes", 0) from None
            if chunk is None:
                if got == 0 and first:
                    return False
                raise ProtocolViolation(f"{self.service!r} ended after {got} of the {len(view)} bytes of {what}",
                                        bytes(view[:min(got, 32)]))
            take = min(len(chunk), len(view) - got)
            view[got:got + take] = chunk[:take]
            self._pending = chunk[take:]
            got += take
        return True

    def next_frame(self, idle_timeout: float, frame_timeout: float = 10.0) -> np.ndarray | None:
        """The next frame as an RGB array (height, width, 3), in a buffer of its own.

        None when no frame began within ``idle_timeout`` (the screen is still: nothing is wrong) or the
        recording ended (then ``ended`` is true). ``AdbTimeout`` when a begun frame took longer than
        ``frame_timeout``; ``NotFrames`` when the first bytes are no frame or no frame came before the end.
        """
        head = bytearray(HEADER.size)
        try:
            if not self._fill(memoryview(head), deadline_of(idle_timeout), "a frame header", first=True):
                if self.frames == 0:
                    raise NotFrames(f"{self.service!r} ended before its first frame")
                return None
        except AdbTimeout:
            return None   # the screen is still: nothing to send
        except NotFrames:
            raise
        except ProtocolViolation as exc:   # cut short: before any frame, that is no frame stream at all
            if self.frames == 0:
                raise NotFrames(f"{self.service!r} ended within its first frame header: no frame stream",
                                exc.offending) from None
            raise
        length, width, height, stride, fmt = HEADER.unpack(head)
        limit_w, limit_h = self.size
        if fmt != RGB_888 or not (0 < width <= limit_w and 0 < height <= limit_h) or stride != width * 3 \
                or length != HEADER.size - 4 + stride * height:
            raise (NotFrames if self.frames == 0 else ProtocolViolation)(f"screenrecord frame header says {width}x{height}, stride {stride}, format {fmt}, "
                                    f"{length} bytes; expected RGB888 (3) of at most {limit_w}x{limit_h} and "
                                    f"{HEADER.size - 4} + stride x height bytes", bytes(head))
        image = np.empty((height, width, 3), np.uint8)
        self._fill(memoryview(image).cast("B"), deadline_of(frame_timeout), f"a {width}x{height} frame")
        self.frames += 1
        return image

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "ScreenStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
