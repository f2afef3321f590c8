"""How the emulated device frames ADB messages, written from AOSP's protocol.txt (not from the host driver).

A message is a 24-byte header of six little-endian uint32 (command, arg0,
arg1, data length, data checksum, magic = command ^ 0xffffffff) and then the
data. The checksum is the sum of the data bytes modulo 2**32. Since version
0x01000001 a peer may send zero instead of the checksum: a device that speaks
that version with a host checks no checksum from it and sends zero itself, as
adbd does; with an older host every checksum must match. A device never accepts a payload larger than the maxdata it announced.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from harness.emulator.adb_words import A_CNXN, COMMAND_NAMES, HEADER_FIELDS, HEADER_SIZE, VERSION_SKIP_CHECKSUM

_HEADER = struct.Struct(f"<{HEADER_FIELDS}I")
assert _HEADER.size == HEADER_SIZE


class WireViolation(Exception):
    """The host sent a message this device refuses; the session ends (adbd drops the connection)."""


def data_sum(data: bytes) -> int:
    """The header's checksum of ``data``: the byte sum modulo 2**32."""
    return sum(data) & 0xFFFFFFFF


class Frame(NamedTuple):
    """One message as the device receives or sends it (a named tuple: a 4 KiB stream makes two per WRTE,
    and a frozen dataclass took three times as long to build)."""

    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    def header(self, version: int) -> bytes:
        """The 24-byte header; the checksum is zero when the session's version lets the host skip it."""
        check = 0 if version >= VERSION_SKIP_CHECKSUM else data_sum(self.data)
        return _HEADER.pack(self.command, self.arg0, self.arg1, len(self.data), check, self.command ^ 0xFFFFFFFF)

    def encode(self, version: int) -> bytes:
        """Header and data in one bytes object (senders that can send two buffers use ``header`` and ``data``)."""
        return self.header(version) + self.data

    def __repr__(self) -> str:
        name = COMMAND_NAMES.get(self.command, f"0x{self.command:08x}")
        return f"{name}({self.arg0:#x}, {self.arg1:#x}, {len(self.data)} bytes)"


def read_frame(recv: Callable[[int], bytes], max_data: int, version: int) -> Frame:
    """Read one message with ``recv(n)`` (exactly n bytes or an error); WireViolation for a bad one.

    ``version`` is the one agreed with the host so far; a CNXN is checked against the version it
    announces itself, since it is what sets the version.
    """
    raw = recv(HEADER_SIZE)
    command, arg0, arg1, length, check, magic = _HEADER.unpack(raw)
    if command not in COMMAND_NAMES:
        raise WireViolation(f"unknown command 0x{command:08x}")
    if magic != command ^ 0xFFFFFFFF:
        raise WireViolation(f"magic 0x{magic:08x} does not match {COMMAND_NAMES[command]}")
    if length > max_data:
        raise WireViolation(f"{COMMAND_NAMES[command]} carries {length} bytes, more than this device's maxdata {max_data}")
    data = recv(length) if length else b""
    if command == A_CNXN:
        version = min(arg0, VERSION_SKIP_CHECKSUM)
    if version < VERSION_SKIP_CHECKSUM and data_sum(data) != check:
        raise WireViolation(f"{COMMAND_NAMES[command]} checksum 0x{check:08x}, data sums to 0x{data_sum(data):08x}")
    return Frame(command, arg0, arg1, data)

