"""A command's whole deadline (``--timeout``): the wait it cuts short reports, and says the deadline cut it."""

from __future__ import annotations

import time

import pytest

from harness.deadline import Stage, command_deadline, deadline_of, left, until
from harness.errors import HarnessTimeout


def _wait_for_a_frame(own_timeout: float) -> None:
    """A driver's wait as the drivers write one: its own timeout, cut to the enclosing deadline."""
    allowed = left(own_timeout) or 0.0
    at = deadline_of(own_timeout)
    while until(at):
        time.sleep(0.01)  # polling a device that never answers
    raise HarnessTimeout("a camera frame", "none after the request", allowed)


def test_a_wait_the_commands_deadline_cut_short_names_the_deadline() -> None:
    with pytest.raises(HarnessTimeout) as caught:
        with command_deadline(0.6, "`harness sync` to finish within --timeout", Stage("syncing"), grace=0.5):
            time.sleep(0.15)  # the command's first steps use up its time (0.1 s left for the wait)
            _wait_for_a_frame(30.0)
    message = str(caught.value)
    assert message.startswith("timed out after 0s waiting for a camera frame")
    assert message.endswith("the command's --timeout of 0.6s ran out"), message


def test_a_wait_that_ran_out_on_its_own_clock_says_only_its_own_timeout() -> None:
    with pytest.raises(HarnessTimeout) as caught:
        with command_deadline(30.0, "`harness sync` to finish within --timeout", Stage("syncing")):
            _wait_for_a_frame(0.1)
    assert str(caught.value) == "timed out after 0.1s waiting for a camera frame; saw none after the request"


#: A command whose main thread is stuck where no signal reaches it (SIGALRM blocked there, as in a C call that
#: retries on EINTR): its deadline must still end the process, saying which command and stage, with the stacks.
_STUCK = """
import signal, threading, time
from harness.deadline import Stage, command_deadline
stage = Stage("reading the camera")
with command_deadline(0.5, "`harness calibrate` to finish within --timeout", stage, hard_stop_after=0.5):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(60)  # stuck_here
"""


def test_a_command_whose_main_thread_never_returns_is_ended_with_its_one_line_error_and_stacks() -> None:
    import subprocess
    import sys

    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _STUCK], capture_output=True, text=True, timeout=30)
    took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    first = done.stderr.splitlines()[0]
    assert "`harness calibrate` to finish within --timeout" in first and "still reading the camera" in first
    assert "main thread has not returned" in first
    assert "line 7" in done.stderr  # the stuck line's place in every thread's stack
    assert took < 20, f"ended after {took:.1f}s, not soon after its 0.5 s deadline"


def test_a_command_stuck_in_a_c_call_that_holds_the_gil_is_ended_by_faulthandler_with_its_stacks() -> None:
    import subprocess
    import sys

    script = _STUCK.replace("import signal,", "import ctypes, signal,").replace(
        "time.sleep(60)", "ctypes.PyDLL(None).sleep(60)").replace(
        "from harness.deadline", "import harness.hard_stop as h; h.GIL_HELD_AFTER = 0.5\nfrom harness.deadline")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "Timeout" in done.stderr and "line 8" in done.stderr, done.stderr
    assert time.monotonic() - started < 20
