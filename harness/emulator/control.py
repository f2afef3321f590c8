"""The emulator's control socket: JSON lines on 127.0.0.1 for what a lab admin sets up.

Accounts, network up/down, power, OS updates, fault injection switches (that
services add), and the emulator's state for tests *of the emulator itself*.
Flows and drivers never use it to find out where anything is.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from typing import Any

from harness.emulator.service import CommandHandler


class ControlServer:
    """Serves one JSON object per line; each request names a ``cmd``."""

    def __init__(self, commands: dict[str, CommandHandler] | None = None, host: str = "127.0.0.1") -> None:
        self.commands: dict[str, CommandHandler] = dict(commands or {})
        self.commands.setdefault("help", lambda req: {"commands": sorted(self.commands)})
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    reply = server.dispatch(raw)
                    try:
                        self.wfile.write(json.dumps(reply, default=str).encode() + b"\n")
                        self.wfile.flush()
                    except OSError:
                        return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, 0), Handler)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def register(self, name: str, handler: CommandHandler) -> None:
        self.commands[name] = handler

    def dispatch(self, raw: bytes) -> dict[str, Any]:
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {"ok": False, "error": f"not a JSON line: {exc}"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": 'expected an object with a "cmd" string'}
        handler = self.commands.get(request["cmd"])
        if handler is None:
            return {"ok": False, "error": f"unknown cmd {request['cmd']!r}; known: {', '.join(sorted(self.commands))}"}
        try:
            reply = handler(request) or {}
        except (KeyError, ValueError, TypeError) as exc:
            return {"ok": False, "error": f"{request['cmd']}: {type(exc).__name__}: {exc}"}
        return {"ok": True, **reply}

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="control", daemon=True)
        self._thread.start()
        return self.address

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class ControlClient:
    """A small client for the control socket (tests, the CLI, lab scripts)."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        host, port = address.rsplit(":", 1)
        self._sock = socket.create_connection((host, int(port)), timeout=timeout)
        self._file = self._sock.makefile("rwb")

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        self._file.write(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise ConnectionError(f"control socket closed while waiting for the reply to {cmd!r}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", "control command failed"))
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
