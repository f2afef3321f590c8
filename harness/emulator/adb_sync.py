"""The device side of adb's file sync protocol (``sync:`` service), from AOSP's SYNC.TXT.

Requests are an 8-byte id + length and a path; files travel in DATA chunks of at
most 64 KiB, whatever the ADB maxdata (the stream splits them into messages).
"""

from __future__ import annotations

import os
import stat as stat_mod
import struct
from typing import Any

from harness.emulator.filesystem import FILE_MODE

#: The largest DATA chunk of the sync protocol.
SYNC_MAX = 64 * 1024


def serve_sync(phone: Any, stream: Any) -> None:
    """The sync: service (STAT, STA2, LST2, LIST, SEND, RECV, QUIT) on the phone's file system."""
    fs = phone.fs
    while True:
        head = stream.read_exact(8)
        if head is None:
            return
        cmd, length = head[:4], struct.unpack("<I", head[4:])[0]
        if cmd == b"QUIT":
            return
        if length > 4096:
            return
        arg = stream.read_exact(length) if length else b""
        if arg is None:
            return
        path = arg.decode("utf-8", "replace")
        if cmd == b"STAT":
            st = fs.stat(path)
            stream.write(b"STAT" + struct.pack("<III", st.mode if st else 0, st.size if st else 0, st.mtime if st else 0))
        elif cmd in (b"STA2", b"LST2"):
            st = fs.stat(path)
            if st is None:
                stream.write(cmd + struct.pack("<IQQIIIIQqqq", 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            else:
                stream.write(cmd + struct.pack("<IQQIIIIQqqq", 0, 0, 0, st.mode, 1, 0, 0, st.size,
                                               st.mtime, st.mtime, st.mtime))
        elif cmd == b"LIST":
            try:
                entries = fs.listdir(path)
            except (FileNotFoundError, NotADirectoryError):
                entries = []
            out = b""
            for name, st in entries:
                raw = name.encode()
                out += b"DENT" + struct.pack("<IIII", st.mode, st.size, st.mtime, len(raw)) + raw
            stream.write(out + b"DONE" + b"\0" * 16)
        elif cmd == b"SEND":
            if not _sync_send(phone, stream, path):
                return
        elif cmd == b"RECV":
            try:
                data = fs.read(path)
            except (FileNotFoundError, IsADirectoryError) as exc:
                message = b"No such file or directory" if isinstance(exc, FileNotFoundError) else b"Is a directory"
                stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
                continue
            out = bytearray()
            for i in range(0, len(data), SYNC_MAX):
                chunk = data[i:i + SYNC_MAX]
                out += b"DATA" + struct.pack("<I", len(chunk)) + chunk
            stream.write(bytes(out) + b"DONE" + b"\0" * 4)
        else:
            message = f"unknown sync command {cmd!r}".encode()
            stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
            return

def _sync_send(phone: Any, stream: Any, spec: str) -> bool:
    path, _, mode_text = spec.rpartition(",")
    if not path:
        path, mode_text = spec, str(FILE_MODE)
    try:
        mode = int(mode_text)
    except ValueError:
        mode = FILE_MODE
    data = bytearray()
    while True:
        head = stream.read_exact(8)
        if head is None:
            return False
        cmd, value = head[:4], struct.unpack("<I", head[4:])[0]
        if cmd == b"DATA":
            if value > SYNC_MAX:
                return False
            chunk = stream.read_exact(value)
            if chunk is None:
                return False
            data += chunk
        elif cmd == b"DONE":
            try:
                phone.fs.write(path, bytes(data), mode if stat_mod.S_ISREG(mode) else FILE_MODE, value)
            except (IsADirectoryError, NotADirectoryError) as exc:
                message = f"{path}: {os.strerror(21 if isinstance(exc, IsADirectoryError) else 20)}".encode()
                stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
                return True
            stream.write(b"OKAY" + b"\0" * 4)
            return True
        else:
            return False
