"""An ``adb-usb://`` handset served as ADB over TCP by the export, so a place can hold it as its ``adb`` resource.

labgrid reaches a USB phone of another host only through USB/IP or ssh; the
harness on a test host speaks ADB over TCP. So ``harness lab export`` does for
an ADB USB interface what ser2net does for a serial port: it listens on the
published address (an OS-picked port) and carries ADB messages between the
TCP client and the phone's bulk endpoints, one message at a time (a 24-byte
header, then its payload as a transfer of its own, as the adb host sends them
over USB). The phone is opened when a client connects and closed when it
leaves, so a reboot (the phone re-enumerates) is met afresh by the next client;
a new client replaces a stale one, as a run that takes over the place expects.
No message over ``harness.adb.protocol.MAX_PAYLOAD``, nor a header that breaks the protocol, is carried in either direction.
"""

from __future__ import annotations

import select
import socket
import threading
from typing import Any, Callable

from harness.adb.protocol import HEADER, parse_header
from harness.errors import HarnessError
from harness.transport.base import TransportTimeout
from harness.transport.tcp import close_socket

#: Seconds each blocking step waits before it looks whether the bridge or the client is to stop.
POLL = 0.5
#: Seconds opening the phone may take (found by its serial, interface claimed).
OPEN_TIMEOUT = 10.0


class UsbBridge:
    """Serves the phone with USB serial ``serial`` as ADB over TCP at ``address``; ``port`` once started."""

    def __init__(self, serial: str, address: str, backend: Any = None,
                 say: Callable[[str], None] = lambda line: None) -> None:
        self.serial, self.address, self.backend, self.say = serial, address, backend, say
        self.port = 0
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._phone = threading.Lock()  # held by the session that has the phone open
        self._thread: threading.Thread | None = None

    def start(self) -> "UsbBridge":
        """Listen (the phone itself is opened for each client)."""
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.address, 0))
        listener.listen(4)
        listener.settimeout(POLL)
        self._listener, self.port = listener, int(listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, name=f"adb-usb bridge {self.serial}", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, peer = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                old, self._client = self._client, client
            if old is not None:  # a new run took the place over: the stale connection goes
                close_socket(old)
            threading.Thread(target=self._serve, args=(client, peer), name=f"adb-usb {self.serial} client",
                             daemon=True).start()

    def _serve(self, client: socket.socket, peer: Any) -> None:
        # One client at a time holds the phone's interface: a client that comes right after another left (or
        # takes over from a stale one) waits for the previous session to let the phone go, not refused.
        if not self._phone.acquire(timeout=OPEN_TIMEOUT + POLL * 4):
            self.say(f"adb-usb://{self.serial}: refused a client from {peer[0]}: the previous client's session "
                     f"did not end within {OPEN_TIMEOUT + POLL * 4:g}s")
            close_socket(client)
            return
        try:
            self._session(client, peer)
        finally:
            self._phone.release()
            with self._lock:
                if self._client is client:
                    self._client = None

    def _session(self, client: socket.socket, peer: Any) -> None:
        from harness.transport.usb import UsbPipe

        try:
            pipe = UsbPipe.find(self.serial or None, backend=self.backend, timeout=OPEN_TIMEOUT)
        except HarnessError as exc:
            self.say(f"adb-usb://{self.serial}: refused a client from {peer[0]}: {exc}")
            close_socket(client)
            return
        done = threading.Event()
        up = threading.Thread(target=self._to_phone, args=(client, pipe, done), daemon=True)
        up.start()
        try:
            self._to_client(client, pipe, done)
        finally:
            done.set()
            up.join(POLL * 4 + OPEN_TIMEOUT)
            pipe.close()
            close_socket(client)

    def _to_phone(self, client: socket.socket, pipe: Any, done: threading.Event) -> None:
        """Client -> phone: each message's header, then its payload, each as one bulk transfer."""
        try:
            while not done.is_set():
                header = _recv_exact(client, HEADER.size, done)
                if header is None:
                    return
                length = parse_header(header)[3]  # a bad command, magic or length ends the client
                payload = _recv_exact(client, length, done) if length else b""
                if payload is None:
                    return
                pipe.write(header, OPEN_TIMEOUT)
                if payload:
                    pipe.write(payload, OPEN_TIMEOUT)
        except (HarnessError, OSError):  # ProtocolViolation is one
            pass
        finally:
            done.set()

    def _to_client(self, client: socket.socket, pipe: Any, done: threading.Event) -> None:
        """Phone -> client: whole messages (header and payload) read from the bulk IN endpoint."""
        try:
            while not done.is_set() and not self._stop.is_set():
                try:
                    header = pipe.read_exact(HEADER.size, POLL)
                except TransportTimeout:
                    continue  # nothing from the phone yet (a partial header stays in the pipe's buffer)
                length = parse_header(header)[3]  # a bad command, magic or length ends the client
                payload = pipe.read_exact(length, OPEN_TIMEOUT) if length else b""
                client.sendall(header + payload)
        except (HarnessError, OSError):  # ProtocolViolation is one
            pass

    def stop(self) -> None:
        """Stop listening and drop the client (idempotent)."""
        self._stop.set()
        if self._listener is not None:
            close_socket(self._listener)
            self._listener = None
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            close_socket(client)
        if self._thread is not None:
            self._thread.join(POLL * 4)
            self._thread = None


def _recv_exact(sock: socket.socket, n: int, done: threading.Event) -> bytes | None:
    """``n`` bytes from ``sock``; None when it closes or the bridge stops."""
    data = bytearray()
    while len(data) < n:
        if done.is_set():
            return None
        ready, _, _ = select.select([sock], [], [], POLL)  # the socket stays blocking for the other thread's sends
        if not ready:
            continue
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
