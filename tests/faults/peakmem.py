"""Peak memory of a child process as the child itself used it (see :class:`PeakMemory`)."""

from __future__ import annotations

import re
import threading


class PeakMemory(threading.Thread):
    """Samples the child's VmHWM (its own high-water mark, reset by exec) until it exits.

    ``wait4``'s ``ru_maxrss`` is no use here: it keeps the peak of the forked copy of
    this (possibly large) test process from before the exec, so ``python -c 1``
    started by a 700 MiB xdist worker "peaks" at 700 MiB. Samples taken before the
    exec (the child still shows this process's command line) are ignored.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib = pid, 0
        self._done = threading.Event()
        with open("/proc/self/cmdline", "rb") as f:
            self._parent_cmdline = f.read()

    def run(self) -> None:
        while not self._done.wait(0.01):
            self.sample()

    def sample(self) -> None:
        try:
            with open(f"/proc/{self.pid}/cmdline", "rb") as f:
                if f.read() == self._parent_cmdline:
                    return
            with open(f"/proc/{self.pid}/status", "rb") as f:
                status = f.read()
        except OSError:
            return
        found = re.search(rb"^VmHWM:\s+(\d+) kB", status, re.M)
        if found:
            self.peak_kib = max(self.peak_kib, int(found.group(1)))

    def stop(self) -> float:
        """The peak seen, in MiB (the child has exited or is about to be reaped)."""
        self._done.set()
        self.join(1)
        return self.peak_kib / 1024
