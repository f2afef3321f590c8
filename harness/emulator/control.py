"""The emulator's control socket: JSON lines on 127.0.0.1 for what a lab admin sets up.

Accounts, network up/down, power, OS updates, fault injection switches (that
services add), and the emulator's state for tests *of the emulator itself*.
Flows and drivers never use it to find out where anything is.

Any local user can connect to a port on 127.0.0.1, and the socket hands out
access codes (``outbox``), forges texts and makes ADB trust keys, so every
request carries a token. The token is random, written to a file only the
emulator's user can read (mode 0600) whose path the endpoints announce as
``control_token``; a request without it, or with another, is refused and does
nothing. A request line is at most ``MAX_REQUEST`` bytes: a longer one is
answered with an error and the connection closed, so a flood costs no memory.
A stranger cannot hold the socket either: a connection has ``FIRST_REQUEST_SECONDS``
for its first request, and at most ``MAX_CONNECTIONS`` are served at once.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from harness.emulator.transport_service import CommandHandler, takes
from harness.errors import HarnessError

#: The longest request line the socket reads (a request is a few hundred bytes of JSON).
MAX_REQUEST = 64 * 1024
#: The longest reply line a client reads (``log``, ``outbox`` and ``state`` replies fit easily).
MAX_REPLY = 8 * 1024 * 1024
#: The size a token file may have (the token is 64 hex digits).
MAX_TOKEN_FILE = 4096
#: A connection must send its first (authenticated) request within this many seconds, so idle or
#: dripping strangers cannot hold the socket's threads; once authenticated, a client may idle (the emulator_control fixture).
FIRST_REQUEST_SECONDS = 10.0
#: Connections served at once; past it a new one is answered with an error and closed.
MAX_CONNECTIONS = 64
#: After refusing a request, the server reads and drops what the client still sends for this long, so
#: the client reads the error instead of a reset; the bytes are discarded as they come (memory stays flat).
LINGER_SECONDS = 2.0


class ControlError(HarnessError, RuntimeError):
    """A control command failed; the message is the emulator's one-line answer."""


class ControlRefused(ControlError):
    """The control socket refused a request: no token, the wrong token, or a request line too long."""


def write_token_file(path: str | Path) -> str:
    """Make a fresh token and write it to ``path`` (created new, mode 0600); return the token."""
    token = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def read_token_file(path: str | Path) -> str:
    """The token in ``path``; a one-line error when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise ControlRefused(f"cannot read the control token file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_TOKEN_FILE:
        raise ControlRefused(f"control token file {path} holds more than {MAX_TOKEN_FILE} bytes; not a token file")
    return data.decode("ascii", "replace").strip()


class ControlServer:
    """Serves one JSON object per line; each request names a ``cmd`` and carries the ``token``."""

    def __init__(self, commands: dict[str, CommandHandler] | None = None, host: str = "127.0.0.1",
                 token_file: str | Path | None = None) -> None:
        self.commands: dict[str, CommandHandler] = dict(commands or {})
        self.commands.setdefault("help", takes("")(lambda req: {"commands": self.usage()}))
        self.token_file = Path(token_file) if token_file else None
        self.token = write_token_file(self.token_file) if self.token_file else secrets.token_hex(32)
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(FIRST_REQUEST_SECONDS)
                while True:
                    try:
                        raw = self.rfile.readline(MAX_REQUEST + 1)
                    except TimeoutError:
                        self._refuse(f"no complete request within {FIRST_REQUEST_SECONDS:g}s; closing the connection")
                        return
                    if not raw:
                        return
                    if len(raw) > MAX_REQUEST:
                        self._refuse(f"request line longer than {MAX_REQUEST} bytes; closing the connection")
                        return
                    reply, keep = server.answer(raw)
                    if not self._send(reply):
                        return
                    if not keep:
                        self._linger()
                        return
                    self.request.settimeout(None)  # authenticated: it may take its time

            def _send(self, reply: dict[str, Any]) -> bool:
                try:
                    self.wfile.write(json.dumps(reply, default=str).encode() + b"\n")
                    self.wfile.flush()
                    return True
                except OSError:
                    return False

            def _refuse(self, error: str) -> None:
                if self._send({"ok": False, "error": f"control socket: {error}"}):
                    self._linger()

            def _linger(self) -> None:
                """Half-close, then drop what the client still sends for a while: it reads our error, not a reset."""
                try:
                    self.request.shutdown(socket.SHUT_WR)
                    deadline = time.monotonic() + LINGER_SECONDS
                    while (left := deadline - time.monotonic()) > 0:
                        self.request.settimeout(left)
                        if not self.request.recv(65536):
                            return
                except OSError:
                    return

        slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            # socketserver's backlog of 5 drops the handshakes of a burst of connections (the kernel's queue is
            # full), and a dropped one is accepted seconds later, after connections made after it: with room for
            # all that may be served, they are taken in the order they came and the 65th is the one refused
            request_queue_size = 2 * MAX_CONNECTIONS

            def process_request(self, request: Any, client_address: Any) -> None:
                if not slots.acquire(blocking=False):
                    try:
                        request.sendall(json.dumps({"ok": False, "error": f"control socket: {MAX_CONNECTIONS} "
                                                    "connections are open already; try again later"}).encode() + b"\n")
                    except OSError:
                        pass
                    self.shutdown_request(request)
                    return
                super().process_request(request, client_address)

            def process_request_thread(self, request: Any, client_address: Any) -> None:
                try:
                    super().process_request_thread(request, client_address)  # type: ignore[misc]
                finally:
                    slots.release()

        self._server = Server((host, 0), Handler)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def register(self, name: str, handler: CommandHandler) -> None:
        self.commands[name] = handler

    def usage(self) -> dict[str, str]:
        """Each command with its arguments, as ``help`` answers."""
        return {name: getattr(handler, "usage", "(arguments not documented)")
                for name, handler in sorted(self.commands.items())}

    def answer(self, raw: bytes) -> tuple[dict[str, Any], bool]:
        """The reply to one request line, and whether the connection stays open (not after a refusal)."""
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {"ok": False, "error": f"not a JSON line: {exc}"}, False
        if not isinstance(request, dict):
            return {"ok": False, "error": 'expected an object with a "cmd" string and a "token"'}, False
        token = request.pop("token", None)
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.token.encode()):
            seen = "no token" if token is None else "a wrong token"
            where = f" (read it from {self.token_file})" if self.token_file else ""
            return {"ok": False, "error": f"control socket: refused, the request carries {seen}; "
                                          f"every request needs the emulator's control token{where}"}, False
        return self.dispatch(request), True

    def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run an authenticated request's command."""
        if not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": 'expected an object with a "cmd" string'}
        handler = self.commands.get(request["cmd"])
        if handler is None:
            return {"ok": False, "error": f"unknown cmd {request['cmd']!r}; known: {', '.join(sorted(self.commands))}"}
        try:
            reply = handler(request) or {}
        except (KeyError, ValueError, TypeError) as exc:
            usage = getattr(handler, "usage", None)
            hint = f" (arguments: {usage or 'none'})" if usage is not None else ""
            return {"ok": False, "error": f"{request['cmd']}: {type(exc).__name__}: {exc}{hint}"}
        return {"ok": True, **reply}

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="control", daemon=True)
        self._thread.start()
        return self.address

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.token_file is not None:
            self.token_file.unlink(missing_ok=True)


class ControlClient:
    """A small client for the control socket (tests, the CLI, lab scripts); sends the token with every request."""

    def __init__(self, address: str, token_file: str | Path | None = None, timeout: float = 10.0,
                 token: str | None = None) -> None:
        self.token = token if token is not None else (read_token_file(token_file) if token_file else None)
        host, port = address.rsplit(":", 1)
        self._sock = socket.create_connection((host, int(port)), timeout=timeout)
        self._file = self._sock.makefile("rwb")

    @classmethod
    def for_endpoints(cls, endpoints: Mapping[str, Any], timeout: float = 10.0) -> "ControlClient":
        """Connect to the control socket an emulator (or an inventory entry) announces, with its token."""
        if not endpoints.get("control"):
            raise ControlError("no control socket among the endpoints: not an emulated handset")
        if not endpoints.get("control_token"):
            raise ControlRefused(f"the endpoints name control socket {endpoints['control']} but no control_token file")
        return cls(str(endpoints["control"]), endpoints["control_token"], timeout)

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        request = {"cmd": cmd, **args}
        if self.token is not None:
            request["token"] = self.token
        self._file.write(json.dumps(request).encode() + b"\n")
        self._file.flush()
        line = self._file.readline(MAX_REPLY + 1)
        if not line:
            raise ConnectionError(f"control socket closed while waiting for the reply to {cmd!r}")
        if len(line) > MAX_REPLY:
            raise ControlError(f"reply to {cmd!r} is longer than {MAX_REPLY} bytes")
        reply = json.loads(line)
        if not reply.get("ok"):
            error = str(reply.get("error", "control command failed"))
            raise (ControlRefused if error.startswith("control socket:") else ControlError)(error)
        return reply

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self._sock.close()

    def __enter__(self) -> "ControlClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
