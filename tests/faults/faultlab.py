"""Shared base of the fault-matrix suite: run the harness from outside and check what a lab would notice.

Every case in ``tests/faults/`` asserts the same things about a run that met a
fault: it ended within its deadline, its error is one bounded line that names
what was expected and seen, no canary secret reached any file or output, no
process was left behind and memory stayed under a cap. The helpers here do the
measuring so each case states only its fault and its expectations.

Use the ``fault`` and ``canary`` fixtures (conftest.py); import the rest with
``from faultlab import ...`` (a module name of its own, so no other conftest
shadows it). Running commands and finding what they leave behind lives in
``faultruns.py``; its names are re-exported here. Self-tests: ``test_matrix_base.py``.
"""

from __future__ import annotations

import json
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from faultruns import (KEEP_OUTPUT, MARKER_ENV, HarnessProcess, HarnessRun, harness_argv, kill_leftovers,  # noqa: F401
                       leftover_processes, run_harness, start_process)

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

def assert_no_leftover_processes(marker: str | None = None, parent: int | None = None, timeout: float = 10.0) -> None:
    """Wait up to ``timeout`` s for every marked process / child of ``parent`` to be gone; fail listing the survivors."""
    wait_until(lambda: not leftover_processes(marker, parent), timeout,
               f"no process left with marker {marker!r} or parent {parent}",
               lambda: leftover_processes(marker, parent))


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes, to show that a run left earlier files as they were."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


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


def process_state(pid: int) -> bytes:
    """The state letter of process ``pid`` (/proc/PID/stat: R, S, D, Z...); X when it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return b"X"
    return data[data.rfind(b")") + 2:data.rfind(b")") + 3]


def emulator_logs(artifacts: Path) -> dict[str, str]:
    """The tail of every emulator log under a run's ``artifacts`` (what a stop that hung said there)."""
    return {str(p.relative_to(artifacts)): p.read_text(errors="replace")[-3000:] for p in artifacts.rglob("emulator*.log")}


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
