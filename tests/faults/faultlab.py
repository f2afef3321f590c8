"""Shared base of the fault-matrix suite: run the harness from outside and check what a lab would notice.

Every case in ``tests/faults/`` asserts the same things about a run that met a
fault: it ended within its deadline, its error is one bounded line that names
what was expected and seen, no canary secret reached any file or output, no
process was left behind and memory stayed under a cap. The helpers here do the
measuring so each case states only its fault and its expectations.

Use the ``fault`` and ``canary`` fixtures (conftest.py); import the rest with
``from faultlab import ...`` (a module name of its own, so no other conftest
shadows it). Self-tests: ``test_matrix_base.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from peakmem import PeakMemory

#: every process a fault case starts carries this variable; its descendants inherit it,
#: so a process left behind is found even after it was reparented to PID 1
MARKER_ENV = "HARNESS_FAULT_MARKER"
#: bytes of stdout/stderr a run keeps (the rest is only counted), so a flood cannot fill the test's memory
KEEP_OUTPUT = 4 << 20

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, expected: str, seen: Callable[[], object] | None = None,
               interval: float = 0.02) -> T:
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` s naming what was expected and seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            last = seen() if seen is not None else value
            raise AssertionError(f"expected {expected} within {timeout:g}s; saw {last!r}"[:2000])
        time.sleep(interval)


# --- canaries -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Canary:
    """A password and an access code made for one test, so finding either anywhere is proof of a leak."""

    password: str
    code: str

    def values(self) -> tuple[str, str]:
        return (self.password, self.code)


def make_canary() -> Canary:
    """Fresh random values; the code has the emulator's shape (7 digits) but no leading zero to lose."""
    return Canary(password="canary-pw-" + secrets.token_hex(8), code=str(1_000_000 + secrets.randbelow(9_000_000)))


def canary_hits(values: Iterable[str], folders: Iterable[str | Path] = (),
                texts: Iterable[str | bytes] = ()) -> list[str]:
    """Where any of ``values`` occurs: every file under ``folders`` (read as bytes) and every captured text."""
    needles = [v.encode() for v in values if v]
    assert needles, "no canary values to look for"
    hits = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            hits += [f"{path}: {n.decode()!r}" for n in needles if n in data]
    for i, text in enumerate(texts):
        data = text.encode(errors="replace") if isinstance(text, str) else text
        hits += [f"captured output #{i}: {n.decode()!r}" for n in needles if n in data]
    return hits


def assert_no_canary(values: Canary | Iterable[str], folders: Iterable[str | Path] = (),
                     texts: Iterable[str | bytes] = ()) -> int:
    """Fail naming each file/output that holds a canary; returns how many files were read (assert it is > 0)."""
    vals = values.values() if isinstance(values, Canary) else tuple(values)
    folders = [Path(f) for f in folders]
    hits = canary_hits(vals, folders, texts)
    assert not hits, "a secret leaked into: " + "; ".join(hits)
    return sum(1 for f in folders for p in f.rglob("*") if p.is_file())


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


def assert_no_leftover_processes(marker: str | None = None, parent: int | None = None, timeout: float = 10.0) -> None:
    """Wait up to ``timeout`` s for every marked process / child of ``parent`` to be gone; fail listing the survivors."""
    wait_until(lambda: not leftover_processes(marker, parent), timeout,
               f"no process left with marker {marker!r} or parent {parent}",
               lambda: leftover_processes(marker, parent))


def kill_leftovers(marker: str) -> list[tuple[int, str]]:
    """SIGKILL every process carrying ``marker`` (test clean-up; the assertion is the test's job)."""
    left = leftover_processes(marker)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes, to show that a run left earlier files as they were."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


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


def assert_one_line_error(stderr: str, *words: str, max_chars: int = 500) -> str:
    """The error is one line of at most ``max_chars`` characters, no traceback, containing each of ``words``."""
    text = stderr.strip()
    assert text, "expected an error on stderr; saw nothing"
    assert "Traceback (most recent call last)" not in text, f"expected a one-line error; saw a traceback: {text[-2000:]!r}"
    assert "\n" not in text, f"expected one line; saw {text.count(chr(10)) + 1}: {text[:2000]!r}"
    assert len(text) <= max_chars, f"expected at most {max_chars} characters; saw {len(text)}: {text[:300]!r}..."
    missing = [w for w in words if w.lower() not in text.lower()]
    assert not missing, f"expected the error to name {missing}; saw {text!r}"
    return text


# --- emulated handsets --------------------------------------------------------------------------

@dataclass
class EmulatedHandset:
    """A ``harness emulate`` child and the endpoints it announced (``adb``, ``control``, ``console``, ...)."""

    process: HarnessProcess
    endpoints: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, deadline: float = 15.0) -> HarnessRun:
        """SIGTERM, then wait up to ``deadline`` s (SIGKILL past it); returns how it ended."""
        if self.process.proc.returncode is None:
            try:
                self.process.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        return self.process.wait(time.monotonic() - self.process.started + deadline)


def start_emulated_handset(args: Sequence[str], marker: str, timeout: float = 60.0, **kw: Any) -> EmulatedHandset:
    """Start ``harness emulate ARGS`` and read its JSON endpoints line within ``timeout`` s."""
    proc = start_process(harness_argv("emulate", *args), marker, **kw)

    def line_or_exit() -> str | None:
        out = proc.stdout_so_far()
        if "\n" in out:
            return out.partition("\n")[0]
        return "" if proc.exited() else None  # "" (exited) ends the wait too

    try:
        line = wait_until(lambda: line_or_exit() is not None, timeout, "the endpoints JSON line of harness emulate",
                          proc.stderr_so_far) and line_or_exit()
        if not line:
            run = proc.wait(timeout)
            raise AssertionError(f"harness emulate exited before its endpoints line: {run.describe()}")
        return EmulatedHandset(proc, json.loads(line))
    except BaseException:
        proc.wait(0)
        raise


# --- one test's bench (the ``fault`` fixture) ---------------------------------------------------

class FaultLab:
    """One test's fault bench: a unique marker, its own TMPDIR, and clean-up of whatever it started.

    Every command started here gets ``TMPDIR=self.tmp``, so temp folders a run
    leaves behind show up in :meth:`leftover_temp` and are scanned for canaries.
    """

    def __init__(self, base: Path) -> None:
        self.marker = "fault-" + secrets.token_hex(6)
        self.base = base
        self.tmp = base / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.handsets: list[EmulatedHandset] = []

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"TMPDIR": str(self.tmp), **(extra or {})}

    def start(self, *args: str, env: dict[str, str] | None = None, **kw: Any) -> HarnessProcess:
        """Start ``harness ARGS`` (to signal it mid-run); finish with ``.wait(deadline)``."""
        return start_process(harness_argv(*args), self.marker, env=self.env(env), **kw)

    def run(self, *args: str, deadline: float, env: dict[str, str] | None = None, **kw: Any) -> HarnessRun:
        """Run ``harness ARGS`` to its end or ``deadline`` s."""
        return self.start(*args, env=env, **kw).wait(deadline)

    def emulate(self, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> EmulatedHandset:
        """Start an emulated handset (stopped at teardown if the test does not stop it)."""
        handset = start_emulated_handset(args, self.marker, timeout, env=self.env(env))
        self.handsets.append(handset)
        return handset

    def leftover_temp(self) -> list[Path]:
        """What runs left in this test's TMPDIR."""
        return sorted(self.tmp.iterdir())

    def assert_no_canary(self, canary: Canary | Iterable[str], *folders: str | Path,
                         runs: Iterable[HarnessRun] = ()) -> int:
        """No canary in ``folders``, this test's TMPDIR, or the output of ``runs``."""
        texts = [t for r in runs for t in (r.stdout, r.stderr)]
        return assert_no_canary(canary, [*folders, self.tmp], texts)

    def assert_no_leftovers(self, timeout: float = 10.0) -> None:
        """No process this test started is alive (after up to ``timeout`` s) and no temp folder remains."""
        assert_no_leftover_processes(self.marker, timeout=timeout)
        assert not self.leftover_temp(), f"expected an empty TMPDIR; saw {[p.name for p in self.leftover_temp()]}"

    def close(self) -> None:
        for handset in self.handsets:
            if handset.process.proc.returncode is None:
                handset.stop()
        kill_leftovers(self.marker)
