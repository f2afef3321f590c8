"""ADB services over a connection: shell (v1 and v2), exec, sync (STAT/LIST/SEND/RECV) and screencap."""

from __future__ import annotations

import shlex
import stat as stat_mod
import struct
import time
from dataclasses import dataclass

import cv2
import numpy as np

from harness.adb.connection import AdbConnection
from harness.adb.errors import AdbError
from harness.adb.protocol import ProtocolViolation

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


def shell(conn: AdbConnection, command: str, timeout: float | None = None) -> ShellResult:
    """Run a command; with shell_v2 the exit status and stderr come separately."""
    if "shell_v2" in conn.features:
        with conn.open(f"shell,v2,raw:{command}") as stream:
            raw = stream.read_all(timeout)
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
    with conn.open(f"shell:{command}") as stream:
        return ShellResult(0, stream.read_all(timeout), b"")


def exec_out(conn: AdbConnection, command: str, timeout: float | None = None) -> bytes:
    """``exec:`` gives the raw bytes of a command's stdout (no pty, no CR/LF translation)."""
    with conn.open(f"exec:{command}") as stream:
        return stream.read_all(timeout)


def decode_screencap(raw: bytes) -> np.ndarray:
    """screencap's raw output (16-byte header, or 12 on old releases, then RGBA) -> RGB array."""
    if len(raw) < 12:
        raise ProtocolViolation(f"screencap gave {len(raw)} bytes, less than a header", raw)
    width, height, fmt = struct.unpack_from("<III", raw)
    pixels = width * height * 4
    if width == 0 or height == 0 or width > 16384 or height > 16384:
        raise ProtocolViolation(f"screencap header says {width}x{height}", raw[:16])
    if fmt != 1:
        raise ProtocolViolation(f"screencap pixel format {fmt}, expected 1 (RGBA_8888)", raw[:16])
    if len(raw) == 16 + pixels:
        body = raw[16:]
    elif len(raw) == 12 + pixels:
        body = raw[12:]
    else:
        raise ProtocolViolation(f"screencap gave {len(raw)} bytes for {width}x{height} RGBA", raw[:16])
    return np.frombuffer(body, np.uint8).reshape(height, width, 4)[:, :, :3]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_png(data: bytes) -> np.ndarray:
    """`screencap -p` output as an RGB array; OpenCV's decoder, since it is about twice as fast as Pillow's here."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data.startswith(PNG_SIGNATURE) else None
    if image is None:
        raise ProtocolViolation("screencap -p did not give a PNG", data[:32])
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# ---------------------------------------------------------------------------- sync
def _sync_request(stream, cmd: bytes, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    stream.write(cmd + struct.pack("<I", len(payload)) + payload)


def _sync_fail(stream, what: str) -> SyncError:  # type: ignore[no-untyped-def]
    (length,) = struct.unpack("<I", stream.read_exact(4))
    return SyncError(f"{what}: {stream.read_exact(length).decode('utf-8', 'replace')}")


def push(conn: AdbConnection, data: bytes, remote: str, mode: int = 0o644, timeout: float = 60.0) -> None:
    """Send bytes to a file on the device (SEND, DATA <= 64 KiB, DONE with the mtime)."""
    with conn.open("sync:") as stream:
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


def pull(conn: AdbConnection, remote: str, timeout: float = 60.0) -> bytes:
    """Read a file from the device (RECV, then DATA chunks until DONE)."""
    with conn.open("sync:") as stream:
        _sync_request(stream, b"RECV", remote.encode())
        out = bytearray()
        while True:
            cmd = stream.read_exact(4, timeout)
            if cmd == b"DATA":
                (length,) = struct.unpack("<I", stream.read_exact(4, timeout))
                if length > SYNC_DATA_MAX:
                    raise ProtocolViolation(f"sync DATA of {length} bytes exceeds 64 KiB")
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


def stat(conn: AdbConnection, remote: str) -> tuple[int, int, int]:
    """(mode, size, mtime); mode 0 means no such file."""
    with conn.open("sync:") as stream:
        _sync_request(stream, b"STAT", remote.encode())
        reply = stream.read_exact(16)
        if reply[:4] != b"STAT":
            raise ProtocolViolation(f"expected STAT, got {reply[:4]!r}", reply)
        mode, size, mtime = struct.unpack("<III", reply[4:])
        stream.write(b"QUIT" + b"\0" * 4)
        return mode, size, mtime


def listdir(conn: AdbConnection, remote: str) -> list[tuple[str, int, int, int]]:
    """[(name, mode, size, mtime)] of a directory (LIST / DENT ... DONE)."""
    with conn.open("sync:") as stream:
        _sync_request(stream, b"LIST", remote.encode())
        entries = []
        while True:
            head = stream.read_exact(20)
            cmd, mode, size, mtime, namelen = head[:4], *struct.unpack("<IIII", head[4:])
            if cmd == b"DONE":
                break
            if cmd != b"DENT":
                raise ProtocolViolation(f"expected DENT or DONE, got {cmd!r}", head)
            entries.append((stream.read_exact(namelen).decode("utf-8", "replace"), mode, size, mtime))
        stream.write(b"QUIT" + b"\0" * 4)
        return entries


def quote(arg: str) -> str:
    return shlex.quote(arg)
