"""The last resort of a bounded command: its process ends even when its main thread never returns.

``command_deadline`` ends a command by raising in its main thread, which needs that thread to run Python
again. A C call that retries on EINTR (a stalled stream read inside FFmpeg, a driver's ioctl) never gives it
back, and an overnight rack would wait for ever on one command. So a watcher thread, some time after the
deadline, writes the command's one-line error and every thread's stack, and ends the process with exit
status 2. Should the stuck call hold the GIL too, faulthandler's own C thread writes the stacks and ends the
process a little later (status 1).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from typing import Callable

#: Seconds past a command's deadline before its process is ended from outside its main thread: room for the
#: clean-up a raised ``CommandTimeout`` runs first (stopping an emulator child may take up to 20 s).
HARD_STOP_AFTER = 30.0
#: Seconds after that before faulthandler's C thread ends it, when the watcher thread itself cannot run.
GIL_HELD_AFTER = 10.0
#: The exit status of a command ended by the watcher: a failed command's, as the CLI's one-line errors have.
EXIT_STATUS = 2


class HardStop:
    """Within this block, the process ends ``seconds + after`` from now unless the block has been left.

    ``line()`` gives the one-line error written first (it is called then, so it names the stage reached).
    """

    def __init__(self, seconds: float, line: Callable[[], str], after: float = HARD_STOP_AFTER) -> None:
        self.at = time.monotonic() + seconds + after
        self.line = line
        self.after = after
        self._left = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="hard-stop", daemon=True)

    def __enter__(self) -> "HardStop":
        self._watcher.start()
        try:
            faulthandler.dump_traceback_later(max(0.001, self.at - time.monotonic()) + GIL_HELD_AFTER, exit=True)
        except (ValueError, OSError, RuntimeError):  # no usable stderr: the watcher thread alone
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        self._left.set()
        faulthandler.cancel_dump_traceback_later()

    def _watch(self) -> None:
        if self._left.wait(max(0.0, self.at - time.monotonic())):
            return
        try:
            sys.stderr.write(f"{self.line()}; its main thread has not returned for {self.after:g}s since, so the"
                             f" process is ended (every thread's stack follows)\n")
            sys.stderr.flush()
            faulthandler.dump_traceback(sys.stderr, all_threads=True)
        finally:
            os._exit(EXIT_STATUS)
