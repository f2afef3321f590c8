"""Programs that ``harness lab export`` and the tests start (labgrid's coordinator and exporter, ser2net).

Each dies with the thread that started it (``PR_SET_PDEATHSIG`` on Linux, asked
only from the main thread, since the kernel watches the starting *thread*), so a
killed ``harness lab export`` leaves nothing behind; ``stop`` ends one politely,
then by force, within a deadline.
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Sequence

from harness.errors import HarnessTimeout
from harness.lab.labgrid import LabgridError

PR_SET_PDEATHSIG = 1
#: Bytes of a child's output kept to quote when it fails or says something unexpected.
KEPT_OUTPUT = 4096


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks for SIGTERM when the starting thread dies, or None where that is not offered."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None

    def preexec() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return preexec


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send this process ``sig`` when its parent (thread) dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def start(argv: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None,
          log: str | None = None) -> subprocess.Popen:
    """Start ``argv`` with its stdout on a pipe (to wait for its ready line) and stderr to ``log`` (else the pipe)."""
    stderr = open(log, "ab") if log else subprocess.STDOUT  # noqa: SIM115 - the child keeps it; closed below
    try:
        return subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr, preexec_fn=_die_with_parent())  # noqa: PLW1509
    except OSError as exc:
        raise LabgridError(f"{argv[0]}: could not start: {exc.strerror or exc}") from exc
    finally:
        if log:
            stderr.close()  # type: ignore[union-attr]


def wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float, what: str) -> re.Match[str]:
    """Read ``proc``'s stdout until a line matches ``pattern``; typed errors when it exits or time runs out.

    Lines are read in chunks with ``select`` against one deadline, each line cut at
    ``KEPT_OUTPUT`` bytes, so a silent or chatty child cannot hold us past it.
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    buffer = b""
    end = time.monotonic() + timeout
    while True:
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            found = re.search(pattern, line.decode(errors="replace"))
            if found:
                return found
        if len(buffer) > KEPT_OUTPUT:
            buffer = buffer[-KEPT_OUTPUT:]
        rest = end - time.monotonic()
        if rest <= 0:
            raise HarnessTimeout(what, _said(seen) or "nothing on its output", timeout)
        ready, _, _ = select.select([fd], [], [], rest)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            code = proc.wait(timeout=max(1.0, end - time.monotonic()))
            raise LabgridError(f"{os.path.basename(proc.args[0])} exited with status {code} before {what}: "
                               f"{_said(seen) or 'it said nothing'}")
        seen = (seen + chunk)[-KEPT_OUTPUT:]
        buffer += chunk


def _said(output: bytes) -> str:
    """The last lines a child wrote, on one line, to quote in an error."""
    lines = [ln.strip() for ln in output.decode(errors="replace").splitlines() if ln.strip()]
    return " | ".join(lines[-4:])[-400:]


def stop(proc: subprocess.Popen | None, grace: float = 5.0) -> int | None:
    """End ``proc``: SIGTERM, then SIGKILL after ``grace`` seconds; its exit status (None if never started)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode
