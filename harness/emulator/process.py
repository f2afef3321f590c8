"""Runs ``harness emulate`` as a child process and reads the endpoints it announces.

Test fixtures, the demo and emulated racks use this, so the emulated handset
lives in its own process and is reached only through its transports. The child
dies with this process however it dies, and leaves no temporary folder behind
(``harness.emulator.lifeline``).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from harness.emulator.control import ControlClient
from harness.emulator.lifeline import Lifeline
from harness.errors import HarnessError, HarnessTimeout


class EmulatorStartError(HarnessError):
    """``harness emulate`` exited or printed garbage instead of its endpoints."""


class EmulatorProcess:
    """One ``harness emulate`` child; a context manager that always stops it."""

    def __init__(self, profile: str = "lumia-930", args: list[str] | None = None,
                 log_path: str | Path | None = None, startup_timeout: float = 60.0) -> None:
        self.profile = profile
        self.args = list(args or [])
        self.log_path = Path(log_path) if log_path else None
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoints: dict[str, Any] = {}
        self._log: IO[bytes] | None = None
        self._lifeline: Lifeline | None = None

    def start(self) -> dict[str, Any]:
        stderr: Any = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
            stderr = self._log
        self._lifeline = lifeline = Lifeline()
        cmd = [sys.executable, "-m", "harness", "emulate", "--profile", self.profile, *self.args, *lifeline.child_args()]
        env = lifeline.child_env({**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env, pass_fds=lifeline.pass_fds)
        except BaseException:
            lifeline.cut()
            raise
        lifeline.started()
        line = self._read_line(self.startup_timeout)
        try:
            self.endpoints = json.loads(line)
        except json.JSONDecodeError:
            self.stop()
            raise EmulatorStartError(f"harness emulate printed {line[:200]!r} instead of its endpoints JSON") from None
        return self.endpoints

    def _read_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise HarnessTimeout("the endpoints line of harness emulate", repr(buf[:200]), timeout, self.log_path)
            if sel.select(remaining):
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    code = self.proc.wait()
                    self.stop()
                    where = f"; see {self.log_path}" if self.log_path else ""
                    raise EmulatorStartError(f"the emulator of profile {self.profile} exited with {code} before announcing endpoints{where}")
                buf += chunk
        sel.close()
        return buf.split(b"\n", 1)[0].decode("utf-8", "replace")

    def control(self) -> ControlClient:
        """A client of the child's control socket, with its token."""
        return ControlClient.for_endpoints(self.endpoints)

    @property
    def runtime_dir(self) -> str | None:
        """The folder the child makes its temporary folders in (removed when it stops)."""
        return self._lifeline.runtime_dir if self._lifeline else None

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM) without waiting; ``stop`` waits. A rack stops all its children at once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._lifeline is not None:
            self._lifeline.cut()  # the child is gone: remove whatever it could not
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "EmulatorProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
