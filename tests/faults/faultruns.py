"""The commands a fault case runs, watched from outside: started in their own session and marked, their output
kept up to a cap, their peak memory sampled, ended by a deadline, and any process they leave behind found.

Part of the fault matrix's shared base (``faultlab.py`` re-exports every name here).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from peakmem import PeakMemory

#: every process a fault case starts carries this variable; its descendants inherit it,
#: so a process left behind is found even after it was reparented to PID 1
MARKER_ENV = "HARNESS_FAULT_MARKER"
#: bytes of stdout/stderr a run keeps (the rest is only counted), so a flood cannot fill the test's memory
KEEP_OUTPUT = 4 << 20


# --- processes ----------------------------------------------------------------------------------

def _read_proc(pid: str, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def _parent(pid: str) -> int:
    stat = _read_proc(pid, "stat")
    # the command name in field 2 may hold spaces and ')'; ppid is the 2nd field after the last ')'
    rest = stat[stat.rfind(b")") + 2:].split() if stat else []
    return int(rest[1]) if len(rest) > 1 else -1


def _alive(pid: str) -> bool:
    stat = _read_proc(pid, "stat")
    return bool(stat) and stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] not in (b"Z", b"X")


def leftover_processes(marker: str | None = None, parent: int | None = None) -> list[tuple[int, str]]:
    """Live processes (pid, cmdline) that carry ``marker`` in their environment or command line, or are children of ``parent``."""
    found = []
    needle = marker.encode() if marker else None
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid() or not _alive(entry):
            continue
        cmdline = _read_proc(entry, "cmdline")
        hit = parent is not None and _parent(entry) == parent
        if needle is not None and not hit:
            hit = needle in cmdline or needle in _read_proc(entry, "environ")
        if hit:
            found.append((int(entry), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def kill_leftovers(marker: str) -> list[tuple[int, str]]:
    """SIGKILL every process carrying ``marker`` (test clean-up; the assertion is the test's job)."""
    left = leftover_processes(marker)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


# --- running harness commands -------------------------------------------------------------------

@dataclass
class HarnessRun:
    """What one finished command did, as a user at a terminal would see it."""

    argv: list[str]
    rc: int
    elapsed: float
    stdout: str
    stderr: str
    peak_rss_mib: float
    timed_out: bool
    output_bytes: int = 0  # stdout + stderr bytes, including those beyond what was kept
    pipes_left_open: bool = False  # a descendant still held stdout/stderr 2 s after the command exited

    def describe(self) -> str:
        return (f"{' '.join(self.argv)} -> rc {self.rc} after {self.elapsed:.1f}s (timed out: {self.timed_out}, "
                f"peak {self.peak_rss_mib:.0f} MiB); stderr tail: {self.stderr[-1500:]!r}; stdout tail: {self.stdout[-1500:]!r}")


class _Drain(threading.Thread):
    """Reads one pipe to its end, keeping the first KEEP_OUTPUT bytes and counting the rest."""

    def __init__(self, pipe: Any) -> None:
        super().__init__(daemon=True)
        self.pipe, self.kept, self.total = pipe, bytearray(), 0

    def run(self) -> None:
        fd = self.pipe.fileno()
        while chunk := os.read(fd, 65536):
            self.total += len(chunk)
            room = KEEP_OUTPUT - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self) -> str:
        return bytes(self.kept).decode("utf-8", "replace")


class HarnessProcess:
    """A started command: signal it (``proc``), watch its output so far, then ``wait`` with a deadline."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str | Path | None, stdin: int | None) -> None:
        self.argv = list(argv)
        self.started = time.monotonic()
        # Started as from a terminal, where Ctrl-C interrupts: a test run launched in the background by a shell
        # without job control ignores SIGINT, and an ignored SIGINT is inherited, so the command would never see
        # the Ctrl-C these tests send. The shim resets it and execs the command in the same process (same pid).
        shim = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                                      "os.execv(sys.argv[1], sys.argv[1:])"]
        self.proc = subprocess.Popen([*shim, *self.argv] if self.argv[0].startswith("/") else self.argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=cwd, start_new_session=True)
        self._out, self._err = _Drain(self.proc.stdout), _Drain(self.proc.stderr)
        self._out.start()
        self._err.start()
        self._memory = PeakMemory(self.proc.pid)
        self._memory.start()
        self.result: HarnessRun | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_so_far_mib(self) -> float:
        """The highest memory use sampled so far, in MiB."""
        return self._memory.peak_kib / 1024

    def stdout_so_far(self) -> str:
        return self._out.text()

    def stderr_so_far(self) -> str:
        return self._err.text()

    def wait(self, deadline: float) -> HarnessRun:
        """Wait until the command exits or ``deadline`` s from its start pass (then SIGKILL its process group)."""
        if self.result is not None:
            return self.result
        timed_out = not self._wait_exit(self.started + deadline)
        if timed_out:
            self._kill_group()
        self._memory.sample()  # a zombie has no memory left to read; this is the last look before reaping
        peak_mib = self._memory.stop()
        _, status, _usage = os.wait4(self.proc.pid, 0)
        elapsed = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        # a descendant that outlives the command may hold the pipes: note it, leave it for the leftover check
        until = time.monotonic() + 2
        for drain in (self._out, self._err):
            drain.join(max(0.0, until - time.monotonic()))
        left_open = self._out.is_alive() or self._err.is_alive()
        self.result = HarnessRun(self.argv, self.proc.returncode, elapsed, self._out.text(), self._err.text(),
                                 peak_mib, timed_out, self._out.total + self._err.total, left_open)
        return self.result

    def exited(self) -> bool:
        """True once the command has exited (it stays unreaped, so :meth:`wait` still gets its resource usage)."""
        return self._wait_exit(0)

    def _wait_exit(self, until: float) -> bool:
        fd = os.pidfd_open(self.proc.pid)
        try:
            return bool(select.select([fd], [], [], max(0.0, until - time.monotonic()))[0])
        finally:
            os.close(fd)

    def _kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_process(argv: Sequence[str], marker: str, env: dict[str, str] | None = None,
                  cwd: str | Path | None = None, stdin: int | None = subprocess.DEVNULL) -> HarnessProcess:
    """Start any command in its own session, marked with ``marker`` (see :data:`MARKER_ENV`)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    full_env.update(env or {})
    full_env[MARKER_ENV] = marker
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    return HarnessProcess(argv, full_env, cwd, stdin)


def harness_argv(*args: str) -> list[str]:
    """``harness ARGS`` run by this interpreter, so it is the code of this checkout."""
    return [sys.executable, "-m", "harness", *args]


def run_harness(args: Sequence[str], deadline: float, marker: str, **kw: Any) -> HarnessRun:
    """Run ``harness ARGS`` to its end or ``deadline`` s; see :class:`HarnessRun`."""
    return start_process(harness_argv(*args), marker, **kw).wait(deadline)
