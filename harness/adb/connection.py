"""The host side of an ADB connection: CNXN/AUTH handshake, then many streams with flow control."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from harness.adb.auth import encode_public_key, sign_token
from harness.adb.errors import AdbTimeout, DeviceOffline, StreamRefused, Unauthorised
from harness.adb.protocol import (
    A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN, HEADER,
    MAX_PAYLOAD, VERSION_SKIP_CHECKSUM, Message, ProtocolViolation, parse_header, verify_payload,
)
from harness.transport.base import Pipe, TransportClosed, TransportTimeout

HOST_BANNER = b"host::features=shell_v2,cmd,stat_v2"


def parse_banner(data: bytes) -> tuple[str, dict[str, str], list[str]]:
    """``device::k=v;k=v;features=a,b`` -> (state, properties, features)."""
    text = data.rstrip(b"\0").decode("utf-8", "replace")
    state, _, rest = text.partition("::")
    props: dict[str, str] = {}
    for part in rest.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            props[key] = value
    return state, props, [f for f in props.pop("features", "").split(",") if f]


class Stream:
    """One ADB stream; writes wait for the peer's OKAY (one WRTE in flight), reads return chunks."""

    def __init__(self, conn: "AdbConnection", local_id: int, service: str) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = 0
        self.service = service
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._ready = threading.Event()  # OKAY for the last WRTE (or for OPEN)
        self.closed = False
        self.opened = False  # the device said OKAY to our OPEN
        self._buf = bytearray()

    # reader-thread side
    def _on_okay(self, remote_id: int) -> None:
        self.remote_id = remote_id
        self.opened = True
        self._ready.set()

    def _on_data(self, data: bytes) -> None:
        self._chunks.put(data)

    def _on_close(self) -> None:
        self.closed = True
        self._ready.set()
        self._chunks.put(None)

    # caller side
    def write(self, data: bytes, timeout: float | None = None) -> None:
        timeout = timeout or self.conn.timeout
        step = self.conn.max_write
        for i in range(0, len(data), step) if data else []:
            if self.closed:
                raise StreamRefused(f"stream {self.service!r} was closed by the device while writing")
            self._ready.clear()
            self.conn._send(Message(A_WRTE, self.local_id, self.remote_id, data[i:i + step]))
            if not self._ready.wait(timeout):
                raise AdbTimeout(f"OKAY for a write on {self.service!r}", "nothing", timeout)
            self.conn._raise_if_dead()

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next chunk, or None once the device closed the stream."""
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            return data
        timeout = timeout or self.conn.timeout
        try:
            chunk = self._chunks.get(timeout=timeout)
        except queue.Empty:
            raise AdbTimeout(f"data on {self.service!r}", "nothing", timeout) from None
        if chunk is None:
            self._chunks.put(None)
            self.conn._raise_if_dead()
        return chunk

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.conn.timeout)
        while len(self._buf) < n:
            try:
                chunk = self._chunks.get(timeout=max(0.001, deadline - time.monotonic()))
            except queue.Empty:
                raise AdbTimeout(f"{n} bytes on {self.service!r}", f"{len(self._buf)} bytes", timeout or self.conn.timeout) from None
            if chunk is None:
                self._chunks.put(None)
                self.conn._raise_if_dead()
                raise ProtocolViolation(f"stream {self.service!r} closed after {len(self._buf)} of {n} bytes", bytes(self._buf[:64]))
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_all(self, timeout: float | None = None) -> bytes:
        """Everything until the device closes the stream (``timeout`` is for the whole read)."""
        deadline = time.monotonic() + (timeout or self.conn.timeout)
        parts = [bytes(self._buf)]
        self._buf = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdbTimeout(f"the end of {self.service!r}", f"{sum(map(len, parts))} bytes so far", timeout or self.conn.timeout)
            try:
                chunk = self._chunks.get(timeout=remaining)
            except queue.Empty:
                continue
            if chunk is None:
                self._chunks.put(None)
                self.conn._raise_if_dead()
                return b"".join(parts)
            parts.append(chunk)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.conn._send(Message(A_CLSE, self.local_id, self.remote_id))
            except DeviceOffline:
                pass
        self.conn._streams.pop(self.local_id, None)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AdbConnection:
    """A connected, authenticated ADB transport to one device."""

    def __init__(self, pipe: Pipe, key: rsa.RSAPrivateKey | None = None, timeout: float = 10.0,
                 auth_timeout: float = 30.0, max_payload: int = MAX_PAYLOAD) -> None:
        self.pipe = pipe
        self.key = key
        self.timeout = timeout
        self.auth_timeout = auth_timeout
        self.version = VERSION_SKIP_CHECKSUM
        self.max_payload = max_payload
        self.max_write = max_payload
        self.state, self.properties, self.features = "", {}, []
        self._streams: dict[int, Stream] = {}
        self._ids = itertools.count(1)
        self._dead: Exception | None = None
        self._reader: threading.Thread | None = None
        self._send_lock = threading.Lock()

    # ------------------------------------------------------------------ wire
    def _send(self, message: Message) -> None:
        if self._dead is not None:
            raise DeviceOffline(f"device offline: {self._dead}")
        try:
            with self._send_lock:
                self.pipe.write(message.pack(), self.timeout)
        except (TransportClosed, TransportTimeout) as exc:
            self._dead = exc
            raise DeviceOffline(f"device offline while sending {message.name}: {exc}") from None

    def _recv(self, timeout: float | None) -> Message:
        header = self.pipe.read_exact(HEADER.size, timeout)
        command, arg0, arg1, length, check = parse_header(header, self.max_payload)
        data = self.pipe.read_exact(length, timeout) if length else b""
        verify_payload(command, data, check, self.version)
        return Message(command, arg0, arg1, data)

    def _raise_if_dead(self) -> None:
        if self._dead is not None:
            if isinstance(self._dead, ProtocolViolation):
                raise self._dead
            raise DeviceOffline(f"device offline: {self._dead}")

    # ------------------------------------------------------------------ handshake
    def connect(self) -> "AdbConnection":
        self._send(Message(A_CNXN, VERSION_SKIP_CHECKSUM, self.max_payload, HOST_BANNER))
        sent_signature = sent_key = False
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "a public key sent, no answer" if sent_key else "no CNXN"
                raise (Unauthorised if sent_key else AdbTimeout)(
                    *(["the device did not accept our key in time: allow it on the phone"] if sent_key
                      else ["CNXN from the device", seen, self.timeout]))
            try:
                msg = self._recv(remaining)
            except TransportTimeout:
                continue
            except TransportClosed as exc:
                if sent_key:
                    raise Unauthorised(f"the device refused our key and closed the connection ({exc})") from None
                raise DeviceOffline(f"device closed the connection during the handshake: {exc}") from None
            if msg.command == A_CNXN:
                self.version = min(msg.arg0, VERSION_SKIP_CHECKSUM)
                self.max_write = min(msg.arg1, self.max_payload)
                self.state, self.properties, self.features = parse_banner(msg.data)
                break
            if msg.command == A_AUTH and msg.arg0 == AUTH_TOKEN:
                if self.key is None:
                    raise Unauthorised("the device asks for AUTH and no key was given")
                if not sent_signature:
                    try:
                        signature = sign_token(self.key, msg.data)
                    except ValueError:
                        raise ProtocolViolation(f"AUTH token of {len(msg.data)} bytes, expected 20", msg.data) from None
                    self._send(Message(A_AUTH, AUTH_SIGNATURE, 0, signature))
                    sent_signature = True
                elif not sent_key:
                    self._send(Message(A_AUTH, AUTH_RSAPUBLICKEY, 0, encode_public_key(self.key.public_key()) + b"\0"))
                    sent_key = True
                    deadline = time.monotonic() + self.auth_timeout
                else:
                    raise Unauthorised("the device refused our key")
                continue
            raise ProtocolViolation(f"expected CNXN or AUTH during the handshake, got {msg!r}", msg.pack()[:64])
        self._reader = threading.Thread(target=self._read_loop, name=f"adb-reader {self.pipe.description}", daemon=True)
        self._reader.start()
        return self

    def _read_loop(self) -> None:
        while self._dead is None:
            try:
                msg = self._recv(None)
            except Exception as exc:  # closed, violation: every stream learns of it
                self._dead = exc
                break
            stream = self._streams.get(msg.arg1)
            if msg.command == A_CNXN:
                self._dead = DeviceOffline("the device reset the connection (CNXN)")
                break
            if stream is None:
                continue  # packets for unknown ids are ignored
            if msg.command == A_OKAY:
                stream._on_okay(msg.arg0)
            elif msg.command == A_WRTE:
                stream._on_data(msg.data)
                try:
                    self._send(Message(A_OKAY, stream.local_id, msg.arg0))
                except DeviceOffline:
                    break
            elif msg.command == A_CLSE:
                stream._on_close()
                self._streams.pop(msg.arg1, None)
        for stream in list(self._streams.values()):
            stream._on_close()

    # ------------------------------------------------------------------ streams
    def open(self, service: str, timeout: float | None = None) -> Stream:
        self._raise_if_dead()
        local_id = next(self._ids)
        stream = Stream(self, local_id, service)
        self._streams[local_id] = stream
        self._send(Message(A_OPEN, local_id, 0, service.encode() + b"\0"))
        if not stream._ready.wait(timeout or self.timeout):
            self._streams.pop(local_id, None)
            raise AdbTimeout(f"OKAY for OPEN {service!r}", "nothing", timeout or self.timeout)
        if not stream.opened:
            self._streams.pop(local_id, None)
            self._raise_if_dead()
            raise StreamRefused(f"the device refused service {service!r}")
        return stream

    def close(self) -> None:
        if self._dead is None:
            self._dead = DeviceOffline("connection closed by the host")
        self.pipe.close()

    def info(self) -> dict[str, Any]:
        return {"state": self.state, "properties": dict(self.properties), "features": list(self.features)}
