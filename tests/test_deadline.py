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
