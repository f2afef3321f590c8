"""The host side of an ADB connection: CNXN/AUTH handshake, then many streams with flow control."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from harness.adb.auth import encode_public_key, sign_token
from harness.adb.errors import AdbError, AdbTimeout, DeviceOffline, OutputTooLarge, StreamRefused, Unauthorised
from harness.adb.protocol import (
    A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN, HEADER,
    MAX_HANDSHAKE_PAYLOAD, MAX_PAYLOAD, VERSION_SKIP_CHECKSUM, Message, ProtocolViolation, parse_header, verify_payload,
)
from harness.deadline import deadline_of, left, until
from harness.secrets import SecretText
from harness.transport.base import Pipe, TransportClosed, TransportTimeout, read_into

HOST_BANNER = b"host::features=shell_v2,cmd,stat_v2"
#: The smallest maxdata a device may announce (adb's own minimum payload is 4096; older devices used that).
MIN_MAXDATA = 256
#: How many bytes of a service's output a caller keeps by default (shell output; screenshots set their own).
DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024


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
    """One ADB stream; writes wait for the peer's OKAY (one WRTE in flight), reads return chunks.

    Flow control runs both ways: a chunk the device sends is acknowledged (OKAY) only when the caller
    takes it, so a device that floods can never queue more than ``MAX_UNACKED`` payloads here.
    ``service`` is the service's printable name: any secret in it is already masked.
    """

    MAX_UNACKED = 4

    def __init__(self, conn: "AdbConnection", local_id: int, service: str, sink: memoryview | None = None) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = 0
        self.service = service
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._ready = threading.Event()  # OKAY for the last WRTE (or for OPEN)
        self.closed = False
        self.opened = False  # the device said OKAY to our OPEN
        self._buf = bytearray()
        #: With a sink, the reader puts what the device sends straight into it (``read_all_into``).
        self.sink = sink
        self.filled = 0
        self.okay: bytes | None = None  # this stream's OKAY, packed once (the reader acknowledges a sink's WRTEs)
        self.overflow = 0  # bytes the device offered past the sink's end (then nothing more is taken)
        self._ended = threading.Event()  # the device closed the stream, or the connection ended

    # reader-thread side
    def _on_okay(self, remote_id: int) -> None:
        self.remote_id = remote_id
        self.opened = True
        self._ready.set()

    def _on_data(self, data: bytes) -> None:
        if self._chunks.qsize() >= self.MAX_UNACKED:
            raise ProtocolViolation(f"the device sent WRTE on {self.service!r} without waiting for OKAY "
                                    f"({self.MAX_UNACKED} unacknowledged)", data[:32])
        self._chunks.put(data)

    def _on_close(self) -> None:
        self.closed = True
        self._ready.set()
        self._chunks.put(None)
        self._ended.set()

    # caller side
    def _take(self, timeout: float | None) -> bytes | None:
        """The next chunk (acknowledged to the device, which may then send the next), None at the end."""
        chunk = self._chunks.get(timeout=timeout) if timeout is None or timeout > 0 else self._chunks.get_nowait()
        if chunk is None:
            self._chunks.put(None)
            self.conn._raise_if_dead()
        elif not self.closed:
            try:
                self.conn._send(Message(A_OKAY, self.local_id, self.remote_id))
            except DeviceOffline:
                pass  # the close reaches the reader too; the caller learns of it at its next read
        return chunk

    def write(self, data: bytes, timeout: float | None = None) -> None:
        """Send ``data`` in WRTEs of at most the device's maxdata; ``timeout`` bounds the whole write."""
        total = left(timeout or self.conn.timeout)
        at = deadline_of(total)
        step = self.conn.max_write
        for i in range(0, len(data), step) if data else []:
            if self.closed:
                raise StreamRefused(f"stream {self.service!r} was closed by the device while writing")
            self._ready.clear()
            self.conn._send(Message(A_WRTE, self.local_id, self.remote_id, data[i:i + step]))
            if not self._ready.wait(until(at)):
                raise AdbTimeout(f"OKAY for a write on {self.service!r}", f"no OKAY after {i} of {len(data)} bytes", total or 0)
            self.conn._raise_if_dead()

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next chunk, or None once the device closed the stream."""
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            return data
        timeout = left(timeout or self.conn.timeout)
        try:
            return self._take(timeout)
        except queue.Empty:
            raise AdbTimeout(f"data on {self.service!r}", "nothing", timeout or 0) from None

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        total = left(timeout or self.conn.timeout)
        at = deadline_of(total)
        while len(self._buf) < n:
            try:
                chunk = self._take(until(at))
            except queue.Empty:
                raise AdbTimeout(f"{n} bytes on {self.service!r}", f"{len(self._buf)} bytes", total or 0) from None
            if chunk is None:
                raise ProtocolViolation(f"stream {self.service!r} closed after {len(self._buf)} of {n} bytes", bytes(self._buf[:64]))
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_all(self, timeout: float | None = None, limit: int | None = None, hint: str = "") -> bytes:
        """Everything until the device closes the stream; ``timeout`` is for the whole read.

        More than ``limit`` bytes (default: the connection's ``max_output``) ends in ``OutputTooLarge``;
        ``hint`` says how to allow more.
        """
        limit = self.conn.max_output if limit is None else limit
        total = left(timeout or self.conn.timeout)
        at = deadline_of(total)
        parts = [bytes(self._buf)]
        size = len(self._buf)
        self._buf = bytearray()
        while True:
            try:
                chunk = self._take(until(at))
            except queue.Empty:
                raise AdbTimeout(f"the end of {self.service!r}", f"{size} bytes so far", total or 0) from None
            if chunk is None:
                return b"".join(parts)
            size += len(chunk)
            if size > limit:
                raise OutputTooLarge(f"{self.service!r}: expected at most {limit} bytes, the device sent more "
                                     f"({size} so far){'; ' + hint if hint else ''}")
            parts.append(chunk)

    def read_all_into(self, timeout: float | None = None, hint: str = "") -> int:
        """Wait until the device closes a stream opened with a sink; how many bytes it put there. ``timeout`` is
        for it all; more than the sink holds ends in ``OutputTooLarge`` (``hint`` says how to allow more)."""
        assert self.sink is not None, "read_all_into needs a stream opened with a sink"
        total = left(timeout or self.conn.timeout)
        if not self._ended.wait(total):
            what = f"the end of {self.service!r}" if self.opened else f"OKAY for OPEN {self.service!r}"
            raise AdbTimeout(what, f"{self.filled} bytes so far", total or 0)
        if not self.opened:  # the device closed it unopened: refused, or the connection ended
            self.conn._raise_if_dead()
            raise StreamRefused(f"the device refused service {self.service!r}")
        if self.overflow:
            raise OutputTooLarge(f"{self.service!r}: expected at most {len(self.sink)} bytes, the device sent more "
                                 f"({self.overflow} so far){'; ' + hint if hint else ''}")
        self.conn._raise_if_dead()
        return self.filled

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:  # a stream the device never said OKAY to (a sink stream that timed out) has nothing to close there
                if self.opened:
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
                 auth_timeout: float = 30.0, max_payload: int = MAX_PAYLOAD, max_output: int = DEFAULT_MAX_OUTPUT) -> None:
        self.pipe = pipe
        self.max_output = max_output  # what one read_all keeps unless its caller allows more
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
        self._send_packed(message.pack(), message.name)

    def _send_packed(self, packed: bytes, name: str) -> None:
        """One packed message (header and payload), e.g. a stream's OKAY packed once for all its WRTEs."""
        if self._dead is not None:
            raise DeviceOffline(f"device offline: {self._dead}")
        if left(self.timeout) == 0:  # the operation's deadline passed: that is a timeout, not a device gone
            raise AdbTimeout(f"time to send {name} to {self.pipe.description}",
                             "the operation's deadline had already passed", 0)
        try:
            with self._send_lock:
                self.pipe.write(packed, self.timeout)
        except (TransportClosed, TransportTimeout) as exc:
            self._dead = exc
            raise DeviceOffline(f"device offline while sending {name}: {exc}") from None

    def _recv(self, at: float | None, max_payload: int | None = None) -> Message:
        """One whole message by the monotonic instant ``at`` (None: no deadline, for the reader thread)."""
        header = self.pipe.read_exact(HEADER.size, until(at))
        command, arg0, arg1, length, check = parse_header(header, max_payload or self.max_payload)
        data = self.pipe.read_exact(length, until(at)) if length else b""
        verify_payload(command, data, check, self.version)
        return Message(command, arg0, arg1, data)

    def _raise_if_dead(self) -> None:
        if self._dead is not None:
            if isinstance(self._dead, ProtocolViolation):
                raise self._dead
            raise DeviceOffline(f"device offline: {self._dead}")

    # ------------------------------------------------------------------ handshake
    def connect(self) -> "AdbConnection":
        """CNXN, then AUTH if the device asks; the whole handshake ends by ``timeout`` (``auth_timeout`` once
        our public key is offered, for the user to allow it on the phone), cut to any enclosing deadline."""
        self._send(Message(A_CNXN, VERSION_SKIP_CHECKSUM, self.max_payload, HOST_BANNER))
        sent_signature = sent_key = False
        budget = left(self.timeout) or 0.0
        at = time.monotonic() + budget
        while True:
            try:
                msg = self._recv(at, MAX_HANDSHAKE_PAYLOAD)
            except TransportTimeout as exc:
                if sent_key:
                    raise Unauthorised("the device did not accept our key in time: allow it on the phone "
                                       f"(waited {budget:g}s)") from None
                raise AdbTimeout(f"CNXN from {self.pipe.description}", exc.seen, budget) from None
            except TransportClosed as exc:
                if sent_key:
                    raise Unauthorised(f"the device refused our key and closed the connection ({exc})") from None
                raise DeviceOffline(f"device closed the connection during the handshake: {exc}") from None
            if msg.command == A_CNXN:
                if msg.arg1 < MIN_MAXDATA:
                    raise ProtocolViolation(f"CNXN maxdata {msg.arg1}, expected at least {MIN_MAXDATA}", msg.pack()[:64])
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
                    budget = left(self.auth_timeout) or 0.0
                    at = time.monotonic() + budget
                else:
                    raise Unauthorised("the device refused our key")
                continue
            raise ProtocolViolation(f"expected CNXN or AUTH during the handshake, got {msg!r}", msg.pack()[:64])
        self._reader = threading.Thread(target=self._read_loop, name=f"adb-reader {self.pipe.description}", daemon=True)
        self._reader.start()
        return self

    def _read_loop(self) -> None:
        header = bytearray(HEADER.size)  # one buffer for every header (a screenshot at 4096 is 2000 of them)
        header_view = memoryview(header)
        while self._dead is None:
            try:
                read_into(self.pipe, header_view, None)
                command, arg0, arg1, length, check = parse_header(header, self.max_payload)
                stream = self._streams.get(arg1)
                if command == A_WRTE and stream is not None and stream.sink is not None:
                    self._into_sink(stream, length, check)
                    continue
                data = self.pipe.read_exact(length, None) if length else b""
                verify_payload(command, data, check, self.version)
                msg = Message(command, arg0, arg1, data)
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
            elif msg.command == A_WRTE:  # acknowledged when the caller takes it (Stream._take)
                try:
                    stream._on_data(msg.data)
                except ProtocolViolation as exc:
                    self._dead = exc
                    break
            elif msg.command == A_CLSE:
                stream._on_close()
                self._streams.pop(msg.arg1, None)
        for stream in list(self._streams.values()):
            stream._on_close()

    def _into_sink(self, stream: Stream, length: int, check: int) -> None:
        """A WRTE for a stream with a sink: its payload goes straight into the sink's next bytes, and the reader
        acknowledges it at once (no hand-off to the caller's thread per message).

        A payload past the sink's end is read off the wire, not kept and not acknowledged (the device sends
        no more), and the caller gets ``OutputTooLarge``. (Acknowledging before reading was tried: with
        4096-byte messages on two busy CPUs it woke the device mid-read and cost a quarter of the rate.)
        """
        assert stream.sink is not None
        end = stream.filled + length
        if end > len(stream.sink):
            self.pipe.read_exact(length, None)
            stream.overflow = end
            stream._ended.set()
            return
        view = stream.sink[stream.filled:end]
        read_into(self.pipe, view, None)
        if not stream.closed:
            if stream.okay is None:
                stream.okay = Message(A_OKAY, stream.local_id, stream.remote_id).pack()
            self._send_packed(stream.okay, "OKAY")
        verify_payload(A_WRTE, view, check, self.version)
        stream.filled = end

    # ------------------------------------------------------------------ streams
    def open(self, service: str | SecretText, timeout: float | None = None, sink: memoryview | None = None) -> Stream:
        """Open a service; a ``SecretText`` one is revealed only into the OPEN message, never into an error.

        With ``sink`` (a writable buffer) what the service sends goes straight into it and this returns once
        the OPEN is sent: ``Stream.read_all_into`` waits for OKAY (or refusal) and data in one wake-up."""
        self._raise_if_dead()
        name = str(service)  # secrets masked: this is all that errors and logs ever see
        local_id = next(self._ids)
        stream = Stream(self, local_id, name, sink)
        payload = (service.reveal() if isinstance(service, SecretText) else service).encode() + b"\0"
        if len(payload) > self.max_write:
            raise AdbError(f"service {name!r} is {len(payload)} bytes, more than the device's maxdata {self.max_write}")
        if left(self.timeout) == 0:
            raise AdbTimeout(f"OKAY for OPEN {name!r}", "no time left to send the OPEN", 0)
        self._streams[local_id] = stream
        self._send(Message(A_OPEN, local_id, 0, payload))
        del payload
        if sink is not None:
            return stream
        timeout = left(timeout or self.timeout)
        if not stream._ready.wait(timeout):
            self._streams.pop(local_id, None)
            raise AdbTimeout(f"OKAY for OPEN {name!r}", "nothing", timeout or 0)
        if not stream.opened:
            self._streams.pop(local_id, None)
            self._raise_if_dead()
            raise StreamRefused(f"the device refused service {name!r}")
        return stream

    def close(self) -> None:
        if self._dead is None:
            self._dead = DeviceOffline("connection closed by the host")
        self.pipe.close()

    def info(self) -> dict[str, Any]:
        return {"state": self.state, "properties": dict(self.properties), "features": list(self.features)}
