"""The device side of ADB for the emulated handset: handshake, AUTH, streams, shell and exec (sync: adb_sync).

One ``DeviceSession`` serves one connection over any byte pipe (a TCP socket,
the emulated USB gadget). It behaves like adbd as far as real hosts (Debian's
``adb``, adb-shell) and the harness's own driver can tell.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from typing import Any, Callable, Iterator

from harness.emulator.adb_words import (
    A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN, MAX_PAYLOAD,
    VERSION_SKIP_CHECKSUM,
)
from harness.emulator import adb_shell
from harness.emulator.adb_frame import Frame as Message
from harness.emulator.adb_frame import WireViolation, read_frame
from harness.emulator.adb_sync import serve_sync
from harness.emulator.trust import KeyStore

#: The most an emulated handset's adbd takes in one message unless told otherwise: 256 KiB, adbd's MAX_PAYLOAD
#: on Android 7 and 8 (4096 before, 1 MiB from Android 9). It announces the smaller of this and the host's.
DEFAULT_MAXDATA = 256 * 1024
#: The range ``--adb-maxdata`` accepts: adb's smallest payload limit up to the largest (1 MiB).
MIN_MAXDATA = 4096
#: The smallest maxdata a host may announce in its CNXN (below it no service name fits).
MIN_HOST_MAXDATA = 256
FEATURES = "shell_v2,cmd,stat_v2"


def _slices(parts: tuple[bytes | memoryview, ...], step: int) -> Iterator[bytes | memoryview]:
    """``parts`` cut into pieces of exactly ``step`` bytes (the last may be shorter): views of the parts,
    joined only where a piece spans two of them."""
    carry = b""
    for part in parts:
        view = memoryview(part).cast("B")
        if carry:
            take = step - len(carry)
            carry += bytes(view[:take])
            view = view[take:]
            if len(carry) < step:
                continue
            yield carry
            carry = b""
        whole = len(view) - len(view) % step
        for i in range(0, whole, step):
            yield view[i:i + step]
        carry = bytes(view[whole:])
    if carry:
        yield carry


def _idle_job() -> None:
    """What an idle worker holds instead of the service it ran last."""


class _Workers:
    """Threads that run services, kept for the next OPEN once one ends.

    A screenshot is one OPEN, and starting a thread for it cost more device time than the screenshot's
    own work once the frame was ready. A job goes to an idle worker if there is one, else to a new
    thread, so a service that blocks never holds up another; a worker idle for ``IDLE_S`` ends.
    """

    IDLE_S = 30.0

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[str, Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def run(self, name: str, job: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            reuse = self._idle > 0
            if reuse:  # claimed and handed over under the lock: a worker timing out sees the job queued
                self._idle -= 1
                self._jobs.put((name, job, args))
        if not reuse:
            # handed over in a list the worker empties: a Thread keeps its own args as long as it runs
            threading.Thread(target=self._work, args=([(job, args)],), daemon=True, name=name).start()

    def _work(self, first: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        """Run jobs until idle for ``IDLE_S`` (a job that raises ends this worker, as it would its own thread)."""
        job, args = first.pop()
        while True:
            job(*args)  # the thread is named for the service it runs (its stack dumps say which)
            job, args = _idle_job, ()  # an idle worker keeps no finished stream (or its session) alive
            with self._lock:
                self._idle += 1
            try:
                name, job, args = self._jobs.get(timeout=self.IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._idle -= 1
                        return
                name, job, args = self._jobs.get()
            threading.current_thread().name = name


class DeviceStream:
    """A stream as the device sees it: input bytes from the host, output with flow control."""

    def __init__(self, session: "DeviceSession", local_id: int, remote_id: int) -> None:
        self.session = session
        self.local_id = local_id
        self.remote_id = remote_id
        self._cond = threading.Condition()
        self._input = bytearray()
        self._okay = True
        self.closed = False
        self._clse_sent = False
        self._pending: Iterator[bytes | memoryview] | None = None  # WRTE payloads still to send
        self._sent_all = True
        self._progress = 0  # WRTEs sent so far (a write's timeout runs from the last one)

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._input += data
            self._cond.notify_all()

    def on_okay(self) -> None:
        self._send_next(acknowledged=True)

    def on_close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def read_exact(self, n: int, timeout: float = 30.0) -> bytes | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._input) < n:
                if self.closed or not self._cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    return None
            data = bytes(self._input[:n])
            del self._input[:n]
            return data

    def write(self, *parts: bytes | memoryview, timeout: float = 30.0) -> bool:
        """Send ``parts`` (in order, as one stream of bytes) in WRTEs of at most the host's maxdata.

        One WRTE is in flight at a time, as adbd does: the first goes now, and each next one from the
        session's reader the moment the host's OKAY for the last arrives (no thread hand-off per
        message). The buffers are sent as they are, in slices, never joined. False if the stream
        closed or no OKAY came within ``timeout`` of the last one.
        """
        chunks = _slices(parts, self.session.max_write)
        with self._cond:
            self._pending = chunks
            self._sent_all = False
        self._send_next()
        with self._cond:
            seen, deadline = self._progress, time.monotonic() + timeout
            while not self._sent_all and not self.closed:
                if self._progress != seen:
                    seen, deadline = self._progress, time.monotonic() + timeout
                rest = deadline - time.monotonic()
                if rest <= 0:
                    self._pending = None  # no OKAY in time: send no more
                    return False
                self._cond.wait(rest)
            return self._sent_all

    def _send_next(self, acknowledged: bool = False) -> None:
        """Send the next pending WRTE if the host has acknowledged the last one (either thread calls this);
        ``acknowledged``: the host's OKAY just came (taken in the same hold of the lock)."""
        with self._cond:
            if acknowledged:
                self._okay = True
                if self._pending is None:  # mid-write the waiting service is not woken per message: only at its end
                    self._cond.notify_all()
                    return
            if not self._okay or self.closed or self._pending is None:
                return
            chunk = next(self._pending, None)
            if chunk is None:
                self._pending = None
                self._sent_all = True
                self._cond.notify_all()
                return
            self._okay = False
            self._progress += 1
        if not self.session.send(Message(A_WRTE, self.local_id, self.remote_id, chunk)):
            self.on_close()

    def close(self) -> None:
        """The service is done: after the last WRTE is acknowledged (as adbd waits), send CLSE once."""
        with self._cond:
            deadline = time.monotonic() + 5
            while not self._okay and not self.closed and time.monotonic() < deadline:
                self._cond.wait(0.1)
            self.closed = True
            self._cond.notify_all()
        self.send_clse()

    def send_clse(self) -> None:
        """This stream's CLSE, sent at most once whoever closes first (the service or the host).

        Not on a connection being torn down (the phone powering off): a service cut short there must not
        look to the host like a stream that ended normally with part of its output.
        """
        with self._cond:
            if self._clse_sent or not self.session.alive:
                return
            self._clse_sent = True
        self.session.streams.pop(self.local_id, None)
        self.session.send(Message(A_CLSE, self.local_id, self.remote_id))


class DeviceSession:
    """Serves one host connection until it closes, the phone powers off, or a protocol violation."""

    def __init__(self, phone: Any, keys: KeyStore, recv: Callable[[int], bytes],
                 send: Callable[[bytes, bytes | memoryview], None], close: Callable[[], None],
                 max_data: int = DEFAULT_MAXDATA) -> None:
        """``recv(n)`` gives exactly n bytes; ``send(header, payload)`` sends one message (the payload may be a
        view of the panel's frame: it is sent as it is, not joined to the header)."""
        if not MIN_MAXDATA <= max_data <= MAX_PAYLOAD:
            raise ValueError(f"ADB maxdata {max_data}: expected {MIN_MAXDATA} to {MAX_PAYLOAD}")
        self.phone = phone
        self.keys = keys
        self._recv = recv
        self._send_raw = send
        self._close = close
        self._send_lock = threading.Lock()
        self.version = VERSION_SKIP_CHECKSUM
        #: The most this device accepts in one message (adbd's MAX_PAYLOAD).
        self.max_data = max_data
        #: The most this device sends in one message and announces in its CNXN: the smaller of its own maxdata
        #: and the host's, as adbd's transport keeps min(host's maxdata, MAX_PAYLOAD) and announces that.
        self.max_write = max_data
        self.streams: dict[int, DeviceStream] = {}
        self._next_id = 1
        self._token = b""
        self.online = False
        self.alive = True
        self._workers = _Workers()

    def banner(self) -> bytes:
        props = self.phone.getprop()
        return (f"device::ro.product.name={props['ro.product.name']};ro.product.model={props['ro.product.model']};"
                f"ro.product.device={props['ro.product.device']};features={FEATURES}").encode()

    def send(self, message: Message) -> bool:
        try:
            with self._send_lock:
                self._send_raw(message.header(self.version), message.data)
            return True
        except OSError:
            self.alive = False
            return False

    def serve(self) -> None:
        try:
            while self.alive:
                self.handle(read_frame(self._recv, self.max_data, self.version))
        except (OSError, EOFError):
            pass
        except WireViolation as exc:
            self.phone._log(f"adb: dropped the host: {exc}")
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        self.alive = False
        for stream in list(self.streams.values()):
            stream.on_close()
        self.streams.clear()
        try:
            self._close()
        except OSError:
            pass

    # ------------------------------------------------------------------ messages
    def handle(self, msg: Message) -> None:
        if msg.command == A_OKAY and self.online:  # first: a stream's output is one OKAY per WRTE
            stream = self.streams.get(msg.arg1)
            if stream is not None:
                stream.on_okay()
            return
        if msg.command == A_CNXN:
            for stream in list(self.streams.values()):
                stream.on_close()
            self.streams.clear()
            self.online = False
            if msg.arg1 < MIN_HOST_MAXDATA:
                raise WireViolation(f"CNXN with maxdata {msg.arg1}, expected at least {MIN_HOST_MAXDATA}")
            self.version = min(msg.arg0, VERSION_SKIP_CHECKSUM)
            self.max_write = min(msg.arg1, self.max_data)
            self.phone._log(f"adb: a host connects with maxdata {msg.arg1}; this device announces {self.max_write} "
                            f"and sends at most {self.max_write} bytes a message")
            self._send_token()
        elif msg.command == A_AUTH:
            self._auth(msg)
        elif not self.online:
            return
        elif msg.command == A_OPEN:
            self._open(msg)
        elif msg.command == A_WRTE:
            stream = self.streams.get(msg.arg1)
            if stream is not None:
                stream.feed(msg.data)
                self.send(Message(A_OKAY, stream.local_id, stream.remote_id))
        elif msg.command == A_CLSE:
            # adbd answers a host's CLSE with its own (hosts such as adb-shell wait for it); a stream
            # the device already closed is gone from the table, so its echo is not answered again.
            stream = self.streams.get(msg.arg1)
            if stream is not None:
                stream.on_close()
                stream.send_clse()

    def _send_token(self) -> None:
        self._token = secrets.token_bytes(20)
        self.send(Message(A_AUTH, AUTH_TOKEN, 0, self._token))

    def _auth(self, msg: Message) -> None:
        if msg.arg0 == AUTH_SIGNATURE:
            if self._token and self.keys.trusts_signature(self._token, msg.data):
                self._go_online()
            else:
                self._send_token()
        elif msg.arg0 == AUTH_RSAPUBLICKEY:
            if self.keys.trusts_key(msg.data):
                self._go_online()
            else:
                self.phone._log("adb: refused an unknown key")
                self.alive = False
        else:
            raise WireViolation(f"AUTH type {msg.arg0} from the host")

    def _go_online(self) -> None:
        self.online = True
        self.send(Message(A_CNXN, self.version, self.max_write, self.banner()))

    def _open(self, msg: Message) -> None:
        service = msg.data.rstrip(b"\0").decode("utf-8", "replace")
        handler = self._service(service)
        if handler is None:
            self.send(Message(A_CLSE, 0, msg.arg0))
            return
        local_id = self._next_id
        self._next_id += 1
        stream = DeviceStream(self, local_id, msg.arg0)
        self.streams[local_id] = stream
        self.send(Message(A_OKAY, local_id, msg.arg0))
        self._workers.run(f"adbd {service[:30]}", self._run_service, handler, stream)

    def _run_service(self, handler: Callable[[DeviceStream], Any], stream: DeviceStream) -> None:
        after = None
        try:
            after = handler(stream)
        finally:
            stream.close()
        if callable(after):
            after()

    def _service(self, service: str) -> Callable[[DeviceStream], Any] | None:
        if service.startswith("shell,v2,") or service.startswith("shell,v2:"):
            command = service.split(":", 1)[1] if ":" in service else ""
            return lambda stream: self._shell_v2(stream, command)
        if service.startswith("shell:") or service.startswith("shell,"):
            command = service.split(":", 1)[1] if ":" in service else ""
            return lambda stream: self._shell_v1(stream, command)
        if service.startswith("exec:"):
            return lambda stream: self._exec(stream, service[len("exec:"):])
        if service == "sync:":
            return lambda stream: serve_sync(self.phone, stream)
        if service.startswith("reboot:"):
            return lambda stream: self.phone.reboot
        return None

    # ------------------------------------------------------------------ shell and exec
    def _shell_v2(self, stream: DeviceStream, command: str) -> Any:
        out = adb_shell.run(self.phone, command)
        adb_shell.deliver(out, stream, v2=True)
        return out.after

    def _shell_v1(self, stream: DeviceStream, command: str) -> Any:
        out = adb_shell.run(self.phone, command)
        adb_shell.deliver(out, stream)
        return out.after

    def _exec(self, stream: DeviceStream, command: str) -> Any:
        out = adb_shell.run(self.phone, command)
        out.stderr.clear()  # exec: carries stdout only
        adb_shell.deliver(out, stream)
        return out.after
