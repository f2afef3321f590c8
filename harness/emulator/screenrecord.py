"""``screenrecord --output-format=frames -``: the panel's frames streamed to the host as they change.

What Android's ``screenrecord`` does with its raw outputs (frameworks/base
cmds/screenrecord): a virtual display gets a frame only when the screen was
composed anew, so a still screen sends nothing after its first frame and a
page turn sends as many frames as the pipe takes. Each frame is RGB888 rows,
top row first, scaled to fit ``--size`` (keeping the aspect, centred on
black) or at the panel's size. ``frames`` puts a 20-byte little-endian header
before each: the packet's length after its first word (16 + pixel bytes),
width, height, stride in bytes and the pixel format (3, ``HAL_PIXEL_FORMAT_RGB_888``);
``raw-frames`` sends the pixels alone. A recording ends after ``--time-limit``
seconds (default and most: 180), or when the host closes the stream.

The panel is looked at once per refresh (60 Hz, the vsync a composer runs on,
so never more than 60 frames a second) and a frame is converted and sent only
when the panel's frame is another one than the last sent (the panel keeps a
still frame as one object). A frame is
drawn at the recording's size from the panel's layers (pages scaled once, a
page turn blended at that size), not drawn whole and then scaled.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image

#: The longest recording, in seconds (screenrecord's kMaxTimeLimitSec), also its default.
MAX_TIME_LIMIT = 180
#: How often the panel is looked at for a new frame: the display's refresh.
REFRESH_HZ = 60
#: HAL_PIXEL_FORMAT_RGB_888, the format word of a ``frames`` header.
RGB_888 = 3
USAGE = ("usage: screenrecord [--size WIDTHxHEIGHT] [--time-limit SECONDS] [--bit-rate RATE] "
         "--output-format=frames|raw-frames -")


@dataclass(frozen=True)
class Recording:
    """What the command line asked for."""

    size: tuple[int, int] | None
    time_limit: float
    headers: bool


def parse(args: list[str]) -> Recording:
    """The command line's options; ValueError (one line, what is wrong) for anything screenrecord refuses."""
    size: tuple[int, int] | None = None
    limit, fmt, target = float(MAX_TIME_LIMIT), "mp4", None
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--size", "--time-limit", "--bit-rate", "--output-format") and not eq:
            if i + 1 >= len(args):
                raise ValueError(f"{name} needs a value; {USAGE}")
            i += 1
            value = args[i]
        if name == "--size":
            w, x, h = value.partition("x")
            if not (x and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
                raise ValueError(f"Invalid size '{value}', must be width x height")
            size = (int(w), int(h))
        elif name == "--time-limit":
            if not value.isdigit() or not 1 <= int(value) <= MAX_TIME_LIMIT:
                raise ValueError(f"Time limit {value}s outside acceptable range [1,{MAX_TIME_LIMIT}]")
            limit = float(value)
        elif name == "--bit-rate":
            if not value.isdigit():
                raise ValueError(f"Invalid bit rate '{value}'")
        elif name == "--output-format":
            fmt = value
        elif name == "--verbose":
            pass
        elif arg.startswith("--") or target is not None:
            raise ValueError(f"Unrecognized option '{arg}'; {USAGE}")
        else:
            target = arg
        i += 1
    if fmt not in ("frames", "raw-frames"):
        raise ValueError(f"ERROR: no video encoder on this device for '{fmt}'; {USAGE}")
    if target != "-":
        raise ValueError(f"frames go to stdout only ('-'); {USAGE}")
    return Recording(size, limit, fmt == "frames")


def _rgb(frame: Any, size: tuple[int, int] | None) -> bytes:
    """One panel frame as RGB888 rows at ``size`` (fitted, centred on black) or its own size: drawn straight at
    ``size`` from the panel's layers, as a phone's compositor fills a virtual display (``Frame.at``)."""
    image: Image.Image = frame.image() if size is None else frame.at(size)
    return image.tobytes("raw", "RGB")


def stream(phone: Any, rec: Recording, write: Callable[..., bool], closed: Callable[[], bool],
           clock: Callable[[], float] = time.monotonic, idle: Callable[[float], Any] = time.sleep) -> None:
    """Send frames while the panel changes, until the time limit, a closed stream or a failed write.

    The panel is looked at once per refresh, as a display is composed once per vsync: at most ``REFRESH_HZ``
    frames a second, however fast the host reads (a page turn is not sent faster than a phone shows it).
    ``write(*parts)`` sends bytes (False: the host is gone); ``idle`` waits for the next refresh (a vsync, not
    a synchronisation: the panel is looked at again then)."""
    end = clock() + rec.time_limit
    last = None
    tick = 1.0 / REFRESH_HZ
    while clock() < end and not closed():
        looked = clock()
        frame = phone.panel()
        if frame is not last:
            last = frame
            pixels = _rgb(frame, rec.size)
            width, height = rec.size or (frame.width, frame.height)
            parts: tuple[bytes, ...] = (pixels,)
            if rec.headers:
                parts = (struct.pack("<5I", 16 + len(pixels), width, height, width * 3, RGB_888), pixels)
            if not write(*parts):
                return
        rest = looked + tick - clock()
        if rest > 0:
            idle(rest)
