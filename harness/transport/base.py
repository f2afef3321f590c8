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

    def close(self) -> None: ...

    @property
    def description(self) -> str: ...
