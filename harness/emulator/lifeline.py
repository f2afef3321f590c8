"""An emulator started by the harness dies with its parent, however the parent dies.

A parent killed by SIGKILL (or by SIGTERM, whose default action runs no
``finally``) cannot stop its children, so the child watches for itself, two ways:

* a lifeline pipe: the parent keeps the write end (close-on-exec, so no other
  program inherits it) and the child blocks reading the other end. When the
  parent process is gone, however it went and whichever thread started the
  child, the read returns end-of-file and the child stops itself.
* ``PR_SET_PDEATHSIG`` (Linux): the kernel sends the child SIGTERM when its
  parent dies. The kernel means the parent *thread*, so the parent asks for it
  only when the main thread starts the child; otherwise the pipe alone serves.

The first signal is handled in the main thread, which sleeps in ``wait_for_stop``.
The kernel may hand a process's signal to any of its threads (one that is
starting a thread, say), and Python then runs the handler only when the main
thread next runs: ``signal.pause()`` alone slept on for good there. So the
signal also writes to a wakeup pipe (``signal.set_wakeup_fd``) that the main
thread waits on, whichever thread took it.

A stopping emulator removes the temporary folders it made. The parent gives it
a runtime folder to make them in (``TMPDIR``), and removes that folder itself
when the child died first (SIGKILL, a crash): whichever side survives cleans up.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import select
import shutil
import signal
import sys
import threading
from typing import Any, Iterator

PR_SET_PDEATHSIG = 1
#: Seconds a stopping emulator may spend cleaning up before it exits regardless (its folders removed first).
STOP_DEADLINE = 20.0


#: The read end of the wakeup pipe of the innermost ``stop_on_signals`` (``wait_for_stop`` waits on it).
_WAKEUPS: list[int] = []


class Stopping(BaseException):
    """Raised in the main thread by the first SIGINT/SIGTERM (or the parent's death): unwind and clean up. A
    BaseException, as KeyboardInterrupt is: code that catches Exception to carry on must not swallow a stop (the
    later signals are ignored, so a swallowed stop would leave only the deadline to end the process)."""


def die_with_parent_thread(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` when the thread that started this process exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(fd: int) -> None:
    """Block until the parent's end of the lifeline closes, then stop this process like SIGTERM does."""
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals(parent_fd: int | None = None, parent_death_signal: bool = False,
                    runtime_dir: str | None = None, stop_deadline: float = STOP_DEADLINE) -> Iterator[None]:
    """Turn the first SIGINT/SIGTERM into ``Stopping`` so ``finally`` blocks run; later ones are ignored.

    With ``parent_fd``, the parent's death stops this process too; ``runtime_dir``
    (the parent's folder for this child) is removed on the way out. A clean-up that
    takes over ``stop_deadline`` s ends the process anyway (the folder removed first).
    """
    stopping = threading.Event()

    def give_up() -> None:
        """Clean-up hangs (a stuck thread): remove the folders and exit, so nothing outlives its deadline."""
        if runtime_dir:
            shutil.rmtree(runtime_dir, ignore_errors=True)
        os.write(2, f"harness emulate: clean-up took over {stop_deadline:g}s; exiting without it; where each "
                    "thread was:\n".encode())
        with contextlib.suppress(Exception):  # what hung, for the log (stderr gone: nothing to say it to)
            faulthandler.dump_traceback(2, all_threads=True)
        os._exit(1)

    def on_signal(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            timer = threading.Timer(stop_deadline, give_up)
            timer.daemon = True
            timer.start()
            raise Stopping(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    wake_read, wake_write = os.pipe()  # close-on-exec, as every descriptor Python makes
    for fd in (wake_read, wake_write):
        os.set_blocking(fd, False)  # set_wakeup_fd's must not block; the read end is drained without waiting
    previous_wakeup = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    _WAKEUPS.append(wake_read)
    try:
        if parent_death_signal:
            die_with_parent_thread(signal.SIGTERM)
        if parent_fd is not None:
            threading.Thread(target=_watch, args=(parent_fd,), name="lifeline", daemon=True).start()
        yield
    except Stopping:
        pass
    finally:
        stopping.set()  # a signal during clean-up no longer interrupts it
        if runtime_dir:
            shutil.rmtree(runtime_dir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_wakeup)
        _WAKEUPS.remove(wake_read)
        os.close(wake_read)
        os.close(wake_write)


def wait_for_stop() -> None:
    """Sleep until a signal (or the lifeline) raises ``Stopping``, in the main thread.

    Inside ``stop_on_signals`` it waits on the wakeup pipe, which every handled signal writes to whichever thread
    took it; Python runs the handler as soon as the main thread runs again.
    """
    while True:
        if not _WAKEUPS:
            signal.pause()
            continue
        fd = _WAKEUPS[-1]
        select.select([fd], [], [])  # a signal taken by this thread ends it with EINTR, and the handler runs
        try:
            os.read(fd, 512)  # a signal another thread took: the handler runs here, at the next bytecode
        except BlockingIOError:
            pass


class Lifeline:
    """The parent's side: a runtime folder and the pipe whose end the child watches."""

    def __init__(self) -> None:
        import tempfile

        self.runtime_dir = tempfile.mkdtemp(prefix="harness-emulator-")
        self._read, self._write = os.pipe()  # both close-on-exec: no other child inherits them
        self.parent_death_signal = threading.current_thread() is threading.main_thread()

    def child_args(self) -> list[str]:
        args = ["--parent-fd", str(self._read), "--runtime-dir", self.runtime_dir]
        return args + (["--parent-death-signal"] if self.parent_death_signal else [])

    def child_env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, "TMPDIR": self.runtime_dir}

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self._read,)

    def started(self) -> None:
        """The child holds its end now; the parent must not (else the child never sees end-of-file)."""
        if self._read >= 0:
            os.close(self._read)
            self._read = -1

    def cut(self) -> None:
        """Close the parent's end (the child stops) and remove what the child may have left."""
        self.started()
        if self._write >= 0:
            os.close(self._write)
            self._write = -1
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
