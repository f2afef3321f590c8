"""What every byte pipe offers the protocol layers above it."""

from __future__ import annotations

from typing import Protocol

from harness.errors import DeviceUnavailable, HarnessTimeout


class TransportTimeout(HarnessTimeout):
    """A read or write did not finish in time."""


class TransportClosed(DeviceUnavailable):
    """The other end went away (unplugged, powered off, connection closed)."""


class Pipe(Protocol):
    """A bidirectional byte pipe; ``read_exact`` never returns short."""

    def write(self, data: bytes, timeout: float) -> None: ...

    def read_exact(self, n: int, timeout: float | None) -> bytes: ...

    # Optional: ``read_into(view, timeout)`` fills a buffer in place (TcpPipe); see ``read_into`` below.

    def close(self) -> None: ...

    @property
    def description(self) -> str: ...


def read_into(pipe: Pipe, view: memoryview, timeout: float | None) -> None:
    """Fill ``view`` from ``pipe``: straight into it where the pipe can (``pipe.read_into``), else through one copy."""
    fill = getattr(pipe, "read_into", None)
    if fill is not None:
        fill(view, timeout)
    else:
        view[:] = pipe.read_exact(len(view), timeout)
