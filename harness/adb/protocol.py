"""ADB transport messages: the 24-byte header, payload checksum and the commands (AOSP protocol.txt)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from harness.adb_wire import (  # noqa: F401  (re-exported: the host's modules import them from here)
    A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_STLS, A_SYNC, A_WRTE, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN,
    COMMANDS, MAX_HANDSHAKE_PAYLOAD, MAX_PAYLOAD, VERSION_CHECKSUM, VERSION_SKIP_CHECKSUM,
)
from harness.errors import HarnessError, quote_seen

HEADER = struct.Struct("<6I")


class AdbError(HarnessError):
    """Base of the ADB layer's errors."""


class ProtocolViolation(AdbError):
    """The peer sent bytes that break the protocol; the message shows them."""

    def __init__(self, problem: str, offending: bytes = b"") -> None:
        self.offending = bytes(offending[:64])  # a bounded sample: a violation may come with megabytes
        shown = f" (saw {quote_seen(offending, 64)})" if offending else ""
        super().__init__(f"ADB protocol violation: {quote_seen(problem)}{shown}")


def checksum(data: bytes) -> int:
    return sum(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class Message:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return COMMANDS.get(self.command, f"0x{self.command:08x}")

    def pack(self) -> bytes:
        """Header and payload; the checksum is always correct, whatever version is in use."""
        return HEADER.pack(self.command, self.arg0, self.arg1, len(self.data), checksum(self.data),
                           self.command ^ 0xFFFFFFFF) + self.data

    def __repr__(self) -> str:
        return f"{self.name}({self.arg0:#x}, {self.arg1:#x}, {len(self.data)} bytes)"


def parse_header(raw: bytes, max_payload: int = MAX_PAYLOAD) -> tuple[int, int, int, int, int]:
    """(command, arg0, arg1, length, check) of a 24-byte header, or ProtocolViolation."""
    if len(raw) != HEADER.size:
        raise ProtocolViolation(f"header of {len(raw)} bytes, expected 24", raw)
    command, arg0, arg1, length, check, magic = HEADER.unpack(raw)
    if command not in COMMANDS:
        raise ProtocolViolation(f"unknown command 0x{command:08x}", raw)
    if magic != command ^ 0xFFFFFFFF:
        raise ProtocolViolation(f"magic 0x{magic:08x} does not match command {COMMANDS[command]}", raw)
    if length > max_payload:
        raise ProtocolViolation(f"data length {length} exceeds maxdata {max_payload}", raw)
    return command, arg0, arg1, length, check


def verify_payload(command: int, data: bytes, check: int, version: int) -> None:
    if version < VERSION_SKIP_CHECKSUM and checksum(data) != check:
        raise ProtocolViolation(f"{COMMANDS.get(command, command)} payload checksum {checksum(data):#x} != header {check:#x}", data)


class MessageDecoder:
    """Incremental decoder: feed bytes, get whole messages (for parsers that receive arbitrary chunks)."""

    def __init__(self, max_payload: int = MAX_PAYLOAD, version: int = VERSION_CHECKSUM) -> None:
        self.max_payload = max_payload
        self.version = version
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER.size:
            command, arg0, arg1, length, check = parse_header(bytes(self._buf[:HEADER.size]), self.max_payload)
            if len(self._buf) < HEADER.size + length:
                break
            payload = bytes(self._buf[HEADER.size:HEADER.size + length])
            verify_payload(command, payload, check, self.version)
            del self._buf[:HEADER.size + length]
            out.append(Message(command, arg0, arg1, payload))
        return out
