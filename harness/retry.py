"""Retrying an attempt until a deadline: how the harness waits for a device that is booting or re-enumerating."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from harness.deadline import left
from harness.errors import DeviceUnavailable, HarnessTimeout

T = TypeVar("T")

#: Failures that mean "not there yet" (refused, dropped, silent); anything else (a bad key, a bad URI) is final.
NOT_READY_ERRORS: tuple[type[Exception], ...] = (DeviceUnavailable, HarnessTimeout)


def keep_trying(attempt: Callable[[], T], timeout: float, retry_on: tuple[type[Exception], ...] = NOT_READY_ERRORS,
                pause: float = 0.25, on_retry: Callable[[Exception], None] | None = None) -> T:
    """Call ``attempt`` until it returns; at the deadline its last failure is raised, so the caller sees why.

    It is tried at least once, even with no time left, so a zero timeout means "try once, do not wait".
    An enclosing ``harness.deadline.within`` block cuts ``timeout`` short.
    """
    deadline = time.monotonic() + (left(timeout) or 0.0)
    while True:
        try:
            return attempt()
        except retry_on as exc:
            if time.monotonic() + pause >= deadline:
                raise
            if on_retry is not None:
                on_retry(exc)
            time.sleep(pause)
            if time.monotonic() >= deadline:  # the sleep overran (a loaded machine): no attempt after the deadline
                raise
