"""ADB services over a connection: shell (v1 and v2), exec, sync (STAT/LIST/SEND/RECV) and screencap."""

from __future__ import annotations

import shlex
import stat as stat_mod
import struct
import time
from dataclasses import dataclass

import numpy as np
import pyspng

from harness.adb.connection import AdbConnection
from harness.adb.errors import AdbError, OutputTooLarge, ShortFrame
from harness.adb.protocol import ProtocolViolation
from harness.deadline import within
from harness.errors import quote_seen
from harness.images import MAX_PIXELS
from harness.secrets import SecretText

SYNC_DATA_MAX = 64 * 1024
# shell v2 packet ids
SHELL_STDIN, SHELL_STDOUT, SHELL_STDERR, SHELL_EXIT, SHELL_CLOSE_STDIN, SHELL_WINDOW = 0, 1, 2, 3, 4, 5


class SyncError(AdbError):
    """The device answered a sync request with FAIL (the message says why)."""


@dataclass
class ShellResult:
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


def parse_shell_v2(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Split a shell v2 byte stream into (id, payload) packets; returns the unparsed rest."""
    packets, offset = [], 0
    while len(data) - offset >= 5:
        pid, length = struct.unpack_from("<BI", data, offset)
        if pid > SHELL_WINDOW:
            raise ProtocolViolation(f"shell v2 packet id {pid} is not 0..5", data[offset:offset + 16])
        if len(data) - offset - 5 < length:
            break
        packets.append((pid, data[offset + 5:offset + 5 + length]))
        offset += 5 + length
    return packets, data[offset:]


def shell(conn: AdbConnection, command: str | SecretText, timeout: float | None = None,
          max_output: int | None = None) -> ShellResult:
    """Run a command; with shell_v2 the exit status and stderr come separately.

    ``command`` may hold secrets (a ``SecretText``): they go to the device, while errors name the
    service with them masked. More than ``max_output`` bytes of output (default: the connection's)
    end in ``OutputTooLarge``.
    """
    hint = "pass a larger max_output"
    if "shell_v2" in conn.features:
        with conn.open(SecretText("shell,v2,raw:", command)) as stream:
            raw = stream.read_all(timeout, max_output, hint)
        packets, rest = parse_shell_v2(raw)
        if rest:
            raise ProtocolViolation("shell v2 stream ended inside a packet", rest[:32])
        out, err, code = bytearray(), bytearray(), None
        for pid, payload in packets:
            if pid == SHELL_STDOUT:
                out += payload
            elif pid == SHELL_STDERR:
                err += payload
            elif pid == SHELL_EXIT:
                code = payload[0] if payload else 0
        if code is None:
            raise ProtocolViolation("shell v2 stream closed without an exit packet", raw[-32:])
        return ShellResult(code, bytes(out), bytes(err))
    with conn.open(SecretText("shell:", command)) as stream:
        return ShellResult(0, stream.read_all(timeout, max_output, hint), b"")


def exec_out(conn: AdbConnection, command: str, timeout: float | None = None, limit: int | None = None,
             hint: str = "") -> bytes:
    """``exec:`` gives the raw bytes of a command's stdout (no pty, no CR/LF translation), at most ``limit``."""
    with conn.open(f"exec:{command}") as stream:
        return stream.read_all(timeout, limit, hint)


def exec_out_into(conn: AdbConnection, command: str, buf: np.ndarray, timeout: float | None = None,
                  hint: str = "") -> np.ndarray:
    """``exec:`` with the command's stdout put straight into ``buf`` (no copy); the filled start of ``buf``.

    More than ``buf`` holds ends in ``OutputTooLarge``.
    """
    with conn.open(f"exec:{command}", sink=memoryview(buf).cast("B")) as stream:
        count = stream.read_all_into(timeout, hint)
    return buf[:count]


#: The largest screen the host accepts from a device (16 megapixels: 64 MiB as RGBA).
MAX_SCREEN_PIXELS = MAX_PIXELS


def screencap_limit(width: int, height: int) -> int:
    """The most bytes ``screencap`` can send for a screen of this size (header and RGBA pixels)."""
    return 16 + width * height * 4


def png_limit(width: int, height: int) -> int:
    """The most bytes ``screencap -p`` can send: an uncompressed PNG (filter bytes, zlib and chunk overhead)."""
    raw = width * height * 4 + height
    return raw + raw // 4096 + 65536


def decode_screencap(raw: bytes | np.ndarray, expected: tuple[int, int] | None = None) -> np.ndarray:
    """screencap's raw output (16-byte header, or 12 on old releases, then RGBA) -> RGB array, a view of ``raw``.

    ``expected`` is the (width, height) the device announced (`wm size`); a frame of another area is refused.
    """
    data = memoryview(raw).cast("B")
    head = bytes(data[:16])
    if len(data) < 12:
        raise ProtocolViolation(f"screencap gave {len(data)} bytes, less than a header", head)
    width, height, fmt = struct.unpack_from("<III", head)
    pixels = width * height * 4
    if width == 0 or height == 0 or width * height > MAX_SCREEN_PIXELS:
        raise ProtocolViolation(f"screencap header says {width}x{height}", head)
    if expected is not None and width * height != expected[0] * expected[1]:
        raise ProtocolViolation(f"screencap header says {width}x{height}, the screen is {expected[0]}x{expected[1]}", head)
    if fmt != 1:
        raise ProtocolViolation(f"screencap pixel format {fmt}, expected 1 (RGBA_8888)", head)
    if len(data) == 16 + pixels:
        body = data[16:]
    elif len(data) == 12 + pixels:
        body = data[12:]
    elif len(data) < 12 + pixels:
        raise ShortFrame(f"screencap gave {len(data)} bytes for {width}x{height} RGBA: the frame was cut short", head)
    else:
        raise ProtocolViolation(f"screencap gave {len(data)} bytes for {width}x{height} RGBA", head)
    return np.frombuffer(body, np.uint8).reshape(height, width, 4)[:, :, :3]


def screencap(conn: AdbConnection, size: tuple[int, int], timeout: float | None = None) -> np.ndarray:
    """The screen as an RGB array: the device's raw frame lands in a buffer made for it and is used in place.

    ``size`` is the (width, height) the device announced; it may send no more than that screen holds.
    """
    limit = screencap_limit(*size)
    buf = np.empty(limit, np.uint8)  # pages are touched only as the frame arrives
    raw = exec_out_into(conn, "screencap", buf, timeout, f"a {size[0]}x{size[1]} screen's frame is {limit} bytes")
    return decode_screencap(raw, size)


def screencap_png(conn: AdbConnection, size: tuple[int, int], timeout: float | None = None) -> np.ndarray:
    """The screen as an RGB array from ``screencap -p``: the PNG lands in a buffer and is decoded from it."""
    limit = png_limit(*size)
    buf = np.empty(limit, np.uint8)
    data = exec_out_into(conn, "screencap -p", buf, timeout, f"a {size[0]}x{size[1]} screen's PNG is at most {limit} bytes")
    return decode_png(data, size[0] * size[1])


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, read before anything is decoded; None if it is not a PNG."""
    data = bytes(memoryview(data).cast("B")[:24])
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


def decode_png(data: bytes | np.ndarray, max_pixels: int = MAX_SCREEN_PIXELS) -> np.ndarray:
    """`screencap -p` output as an RGB array; its IHDR size is checked before anything is decoded.

    libspng (pyspng) decodes straight to RGB (any colour type; alpha dropped) in a third to a quarter
    of OpenCV's time for a 1080x1920 screen: the decode, not the wire, is most of a PNG screenshot.
    """
    size = png_size(data)
    data = memoryview(data).cast("B")
    if size is None:
        raise ProtocolViolation("screencap -p did not give a PNG", bytes(data[:32]))
    if size[0] == 0 or size[1] == 0 or size[0] * size[1] > max_pixels:
        raise ProtocolViolation(f"screencap -p PNG says {size[0]}x{size[1]}, more than the {max_pixels} pixels "
                                "allowed", bytes(data[:32]))
    try:
        return pyspng.load(bytes(data), "RGB")  # the binding takes bytes only: one copy of the compressed file
    except RuntimeError as exc:  # libspng's own words: "end of stream", "invalid CRC", ...
        raise ProtocolViolation(f"screencap -p did not give a PNG that decodes ({exc})", bytes(data[:32])) from None


# ---------------------------------------------------------------------------- sync
def _sync_request(stream, cmd: bytes, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    stream.write(cmd + struct.pack("<I", len(payload)) + payload)


def _sync_length(stream, what: str, limit: int = SYNC_DATA_MAX) -> int:  # type: ignore[no-untyped-def]
    """A sync length field, refused past ``limit`` before anything that long is read."""
    raw = stream.read_exact(4)
    (length,) = struct.unpack("<I", raw)
    if length > limit:
        raise ProtocolViolation(f"sync {what} of {length} bytes, expected at most {limit}", raw)
    return length


def _sync_fail(stream, what: str) -> SyncError:  # type: ignore[no-untyped-def]
    length = _sync_length(stream, "FAIL message")
    return SyncError(f"{what}: {quote_seen(stream.read_exact(length).decode('utf-8', 'replace'))}")


def push(conn: AdbConnection, data: bytes, remote: str, mode: int = 0o644, timeout: float = 60.0) -> None:
    """Send bytes to a file on the device (SEND, DATA <= 64 KiB, DONE with the mtime); ``timeout`` is for it all."""
    with within(timeout), conn.open("sync:") as stream:
        _sync_request(stream, b"SEND", f"{remote},{stat_mod.S_IFREG | mode}".encode())
        for i in range(0, len(data), SYNC_DATA_MAX):
            chunk = data[i:i + SYNC_DATA_MAX]
            stream.write(b"DATA" + struct.pack("<I", len(chunk)) + chunk, timeout)
        stream.write(b"DONE" + struct.pack("<I", int(time.time())))
        reply = stream.read_exact(4, timeout)
        if reply == b"FAIL":
            raise _sync_fail(stream, f"push to {remote}")
        if reply != b"OKAY":
            raise ProtocolViolation(f"expected OKAY or FAIL after DONE, got {reply!r}", reply)
        stream.read_exact(4, timeout)
        stream.write(b"QUIT" + b"\0" * 4)


def pull(conn: AdbConnection, remote: str, timeout: float = 60.0, limit: int = 256 * 1024 * 1024) -> bytes:
    """Read a file of at most ``limit`` bytes from the device (RECV, then DATA chunks until DONE)."""
    with within(timeout), conn.open("sync:") as stream:
        _sync_request(stream, b"RECV", remote.encode())
        out = bytearray()
        while True:
            cmd = stream.read_exact(4, timeout)
            if cmd == b"DATA":
                length = _sync_length(stream, "DATA")
                if len(out) + length > limit:
                    raise OutputTooLarge(f"pull {remote}: expected at most {limit} bytes, the device sent more")
                out += stream.read_exact(length, timeout)
            elif cmd == b"DONE":
                stream.read_exact(4, timeout)
                break
            elif cmd == b"FAIL":
                raise _sync_fail(stream, f"pull {remote}")
            else:
                raise ProtocolViolation(f"expected DATA, DONE or FAIL, got {cmd!r}", cmd)
        stream.write(b"QUIT" + b"\0" * 4)
        return bytes(out)


def stat(conn: AdbConnection, remote: str, timeout: float | None = None) -> tuple[int, int, int]:
    """(mode, size, mtime); mode 0 means no such file."""
    with within(timeout or conn.timeout), conn.open("sync:") as stream:
        _sync_request(stream, b"STAT", remote.encode())
        reply = stream.read_exact(16)
        if reply[:4] != b"STAT":
            raise ProtocolViolation(f"expected STAT, got {reply[:4]!r}", reply)
        mode, size, mtime = struct.unpack("<III", reply[4:])
        stream.write(b"QUIT" + b"\0" * 4)
        return mode, size, mtime


def listdir(conn: AdbConnection, remote: str, timeout: float | None = None,
            max_entries: int = 100_000) -> list[tuple[str, int, int, int]]:
    """[(name, mode, size, mtime)] of a directory (LIST / DENT ... DONE), at most ``max_entries``."""
    with within(timeout or conn.timeout), conn.open("sync:") as stream:
        _sync_request(stream, b"LIST", remote.encode())
        entries = []
        while True:
            head = stream.read_exact(20)
            cmd, mode, size, mtime, namelen = head[:4], *struct.unpack("<IIII", head[4:])
            if cmd == b"DONE":
                break
            if cmd != b"DENT":
                raise ProtocolViolation(f"expected DENT or DONE, got {cmd!r}", head)
            if namelen > 4096 or len(entries) >= max_entries:
                raise ProtocolViolation(f"directory entry {len(entries) + 1} with a {namelen}-byte name "
                                        f"(expected at most {max_entries} entries of <= 4096 bytes)", head)
            entries.append((stream.read_exact(namelen).decode("utf-8", "replace"), mode, size, mtime))
        stream.write(b"QUIT" + b"\0" * 4)
        return entries


def quote(arg: str) -> str:
    """Quote one argument for the device's shell."""
    return shlex.quote(arg)
