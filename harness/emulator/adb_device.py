"""The device side of ADB for the emulated handset: handshake, AUTH, streams, shell, exec and sync.

One ``DeviceSession`` serves one connection over any byte pipe (a TCP socket,
the emulated USB gadget). It behaves like adbd as far as real clients (Debian's
``adb``) and the harness's own driver can tell.
"""

from __future__ import annotations

import os
import secrets
import stat as stat_mod
import struct
import threading
import time
from typing import Any, Callable

from harness.adb.protocol import (
    A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN, HEADER,
    MAX_PAYLOAD, VERSION_SKIP_CHECKSUM, Message, ProtocolViolation, parse_header, verify_payload,
)
from harness.emulator import adb_shell
from harness.emulator.filesystem import FILE_MODE
from harness.emulator.trust import KeyStore

SYNC_MAX = 64 * 1024
FEATURES = "shell_v2,cmd,stat_v2"


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

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._input += data
            self._cond.notify_all()

    def on_okay(self) -> None:
        with self._cond:
            self._okay = True
            self._cond.notify_all()

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

    def write(self, data: bytes, timeout: float = 30.0) -> bool:
        step = self.session.max_write
        for i in range(0, len(data), step):
            with self._cond:
                deadline = time.monotonic() + timeout
                while not self._okay and not self.closed:
                    if not self._cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                        return False
                if self.closed:
                    return False
                self._okay = False
            if not self.session.send(Message(A_WRTE, self.local_id, self.remote_id, data[i:i + step])):
                return False
        return True

    def close(self) -> None:
        with self._cond:
            if self.closed:
                return
            # wait for the last WRTE to be acknowledged before closing, as adbd does
            deadline = time.monotonic() + 5
            while not self._okay and not self.closed and time.monotonic() < deadline:
                self._cond.wait(0.1)
            self.closed = True
        self.session.send(Message(A_CLSE, self.local_id, self.remote_id))
        self.session.streams.pop(self.local_id, None)


class DeviceSession:
    """Serves one host connection until it closes, the phone powers off, or a protocol violation."""

    def __init__(self, phone: Any, keys: KeyStore, recv: Callable[[int], bytes], send: Callable[[bytes], None],
                 close: Callable[[], None]) -> None:
        self.phone = phone
        self.keys = keys
        self._recv = recv
        self._send_raw = send
        self._close = close
        self._send_lock = threading.Lock()
        self.version = VERSION_SKIP_CHECKSUM
        self.max_write = MAX_PAYLOAD
        self.streams: dict[int, DeviceStream] = {}
        self._next_id = 1
        self._token = b""
        self.online = False
        self.alive = True

    def banner(self) -> bytes:
        props = self.phone.getprop()
        return (f"device::ro.product.name={props['ro.product.name']};ro.product.model={props['ro.product.model']};"
                f"ro.product.device={props['ro.product.device']};features={FEATURES}").encode()

    def send(self, message: Message) -> bool:
        try:
            with self._send_lock:
                self._send_raw(message.pack())
            return True
        except OSError:
            self.alive = False
            return False

    def _read_message(self) -> Message:
        header = self._recv(HEADER.size)
        command, arg0, arg1, length, check = parse_header(header, MAX_PAYLOAD)
        data = self._recv(length) if length else b""
        verify_payload(command, data, check, self.version)
        return Message(command, arg0, arg1, data)

    def serve(self) -> None:
        try:
            while self.alive:
                self.handle(self._read_message())
        except (OSError, EOFError, ProtocolViolation):
            pass
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
        if msg.command == A_CNXN:
            for stream in list(self.streams.values()):
                stream.on_close()
            self.streams.clear()
            self.online = False
            self.version = min(msg.arg0, VERSION_SKIP_CHECKSUM)
            self.max_write = min(msg.arg1, MAX_PAYLOAD) or MAX_PAYLOAD
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
        elif msg.command == A_OKAY:
            stream = self.streams.get(msg.arg1)
            if stream is not None:
                stream.on_okay()
        elif msg.command == A_CLSE:
            stream = self.streams.pop(msg.arg1, None)
            if stream is not None:
                stream.on_close()

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
            raise ProtocolViolation(f"AUTH type {msg.arg0} from the host", msg.pack()[:32])

    def _go_online(self) -> None:
        self.online = True
        self.send(Message(A_CNXN, self.version, MAX_PAYLOAD, self.banner()))

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
        threading.Thread(target=self._run_service, args=(handler, stream), daemon=True,
                         name=f"adbd {service[:30]}").start()

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
            return self._sync
        if service.startswith("reboot:"):
            return lambda stream: self.phone.reboot
        return None

    # ------------------------------------------------------------------ shell and exec
    def _shell_v2(self, stream: DeviceStream, command: str) -> Any:
        out = adb_shell.run(self.phone, command)
        packets = b""
        if out.stdout:
            packets += struct.pack("<BI", 1, len(out.stdout)) + bytes(out.stdout)
        if out.stderr:
            packets += struct.pack("<BI", 2, len(out.stderr)) + bytes(out.stderr)
        packets += struct.pack("<BI", 3, 1) + bytes([out.exit_code & 0xFF])
        stream.write(packets)
        return out.after

    def _shell_v1(self, stream: DeviceStream, command: str) -> Any:
        out = adb_shell.run(self.phone, command)
        stream.write(bytes(out.stdout) + bytes(out.stderr))
        return out.after

    def _exec(self, stream: DeviceStream, command: str) -> Any:
        out = adb_shell.run(self.phone, command)
        stream.write(bytes(out.stdout))
        return out.after

    # ------------------------------------------------------------------ sync
    def _sync(self, stream: DeviceStream) -> None:
        fs = self.phone.fs
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
                if not self._sync_send(stream, path):
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

    def _sync_send(self, stream: DeviceStream, spec: str) -> bool:
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
                    self.phone.fs.write(path, bytes(data), mode if stat_mod.S_ISREG(mode) else FILE_MODE, value)
                except (IsADirectoryError, NotADirectoryError) as exc:
                    message = f"{path}: {os.strerror(21 if isinstance(exc, IsADirectoryError) else 20)}".encode()
                    stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
                    return True
                stream.write(b"OKAY" + b"\0" * 4)
                return True
            else:
                return False
