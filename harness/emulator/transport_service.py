"""What a transport service offers the emulator host: endpoints to announce and control-socket commands.

Each service (control socket, ADB over TCP, console pty, modem pty, relay
board pty) is started by the emulator host and announces its endpoints in
the JSON line that ``harness emulate`` prints.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

#: A control-socket command handler: takes the request object, returns the reply object.
CommandHandler = Callable[[dict[str, Any]], dict[str, Any]]


class TransportService(Protocol):
    """Something that exposes an emulated handset over a real transport."""

    def start(self) -> dict[str, Any]:
        """Start serving; return endpoints to announce, e.g. ``{"adb": "127.0.0.1:40123"}``."""

    def stop(self) -> None:
        """Stop serving and release ports, ptys and threads."""

    def commands(self) -> dict[str, CommandHandler]:
        """Control-socket commands this service adds (name -> handler)."""


def takes(usage: str) -> Callable[[CommandHandler], CommandHandler]:
    """Name a command's arguments for ``help`` (``"to body [sender]"``; brackets: optional)."""
    def mark(handler: CommandHandler) -> CommandHandler:
        handler.usage = usage  # type: ignore[attr-defined]
        return handler
    return mark
