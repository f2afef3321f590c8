"""One deadline for a whole operation, seen by every wait beneath it.

A desk command given ``--timeout 30``, or a failure hook allowed a few
seconds for a last screenshot, must end by then however many reads,
reconnects and retries it makes on the way. Each wait in the drivers
asks ``left(its_own_timeout)`` and gets the smaller of its own timeout and
the time left in the innermost ``within`` block of its thread (or task),
so the first wait to reach the deadline raises its own typed error,
which says what it was waiting for and what it saw.
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import threading
import time
from typing import Iterator

from harness.errors import HarnessTimeout
from harness.hard_stop import HARD_STOP_AFTER, HardStop

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("harness_deadline", default=None)


class CommandTimeout(HarnessTimeout):
    """A whole command ran past its ``--timeout`` (raised when no inner wait said so first)."""


def left(timeout: float | None = None) -> float | None:
    """Seconds a wait may take: ``timeout`` (None: unbounded) cut to what the enclosing deadline leaves, >= 0."""
    at = _deadline.get()
    if at is None:
        return timeout
    rest = max(0.0, at - time.monotonic())
    return rest if timeout is None else min(timeout, rest)


def deadline_of(timeout: float | None) -> float | None:
    """The monotonic instant a wait of ``timeout`` seconds ends, cut to the enclosing deadline (None: never)."""
    rest = left(timeout)
    return None if rest is None else time.monotonic() + rest


def until(at: float | None) -> float | None:
    """Seconds from now to the instant ``at`` (None: unbounded), >= 0."""
    return None if at is None else max(0.0, at - time.monotonic())


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Every wait inside ends by ``seconds`` from now (an outer, earlier deadline still wins)."""
    at = time.monotonic() + max(0.0, seconds)
    outer = _deadline.get()
    token = _deadline.set(at if outer is None else min(at, outer))
    try:
        yield
    finally:
        _deadline.reset(token)


class Stage:
    """What a command is doing now, for the one-line error when its deadline passes."""

    def __init__(self, text: str = "starting") -> None:
        self.text = text

    def __call__(self, text: str) -> None:
        self.text = text


@contextlib.contextmanager
def command_deadline(seconds: float, expected: str, stage: Stage, grace: float | None = None,
                     hard_stop_after: float = HARD_STOP_AFTER) -> Iterator[None]:
    """Bound a whole CLI command: inner waits end at the deadline, and a timer signal backs them up.

    Inner waits are cut to ``seconds - grace`` (default: a tenth, between 0.5 and 1 s) so that they, knowing
    what they waited for, report first, even on a loaded machine;
    if something not driven by this module's waits holds on (a serial read, a library call), SIGALRM at
    ``seconds`` raises ``CommandTimeout`` in the main thread, naming the command's current stage; should the
    main thread never come back to Python (a C call stuck), ``HardStop`` ends the process ``hard_stop_after``
    seconds later with that line and every thread's stack.
    """
    started = time.monotonic()
    grace = min(1.0, max(0.5, seconds / 10)) if grace is None else grace
    armed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    fired = [0]

    def overdue() -> CommandTimeout:
        return CommandTimeout(expected, f"still {stage.text} after {time.monotonic() - started:.1f}s", seconds)

    def expire(_signum: int, _frame: object) -> None:
        # CommandTimeout is a TimeoutError: a wait that catches those turns it into its own error (saying what it
        # waited for); should one swallow it, it comes again each second, a few times (not forever: clean-up in
        # finally blocks, such as stopping an emulator child, must be able to finish)
        fired[0] += 1
        signal.setitimer(signal.ITIMER_REAL, 1.0 if fired[0] < 4 else 0)
        raise overdue()

    previous = signal.signal(signal.SIGALRM, expire) if armed else None
    if armed:
        signal.setitimer(signal.ITIMER_REAL, max(0.001, seconds))
    try:
        with HardStop(seconds, lambda: str(overdue()), hard_stop_after), within(max(0.0, seconds - grace)):
            yield
    except HarnessTimeout as exc:  # an inner wait cut short by this deadline says so, not only "after 0s"
        if not isinstance(exc, CommandTimeout) and time.monotonic() >= started + seconds - grace and \
                len(exc.args) == 1 and isinstance(exc.args[0], str):
            exc.args = (f"{exc.args[0]}; the command's --timeout of {seconds:g}s ran out",)
        raise
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous or signal.SIG_DFL)
