"""Test helpers around a handset's power: one emulated handset with its relay for a module, and the wait until a
handset switched off stops answering. Imported as ``from powered_handset import ...`` (tests/ is on sys.path)."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from harness.emulator.process import EmulatorProcess


@contextmanager
def emulated_handset(folder: Path, profile: str = "lumia-520") -> Iterator[EmulatorProcess]:
    """``harness emulate`` for ``profile``, quick to boot (its LCUS relay on a pty among its endpoints), its log in
    ``folder``; stopped when the block ends."""
    proc = EmulatorProcess(profile, ["--animation-ms", "0", "--boot-time", "0.3"], log_path=folder / "emulator.log")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def wait_refused(address: str, timeout: float, story: Callable[[], str] | None = None) -> None:
    """Wait until nothing listens at ``host:port`` (a handset powered off: its ADB port refuses); fail at the
    deadline saying so, with ``story()`` (what the relay and the handset logged) when given. A connection that
    neither opens nor is refused (a busy forwarder) is tried again."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except ConnectionRefusedError:
            return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"{address} still answers {timeout:.0f}s after power off"
                                 + (f"\n{story()}" if story is not None else ""))
        time.sleep(0.05)
