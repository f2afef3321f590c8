"""keep_trying: a booting device is retried until it answers; the caller sees the last reason, and final errors at once."""

from __future__ import annotations

import time

import pytest

from harness.errors import ConfigError, DeviceUnavailable
from harness.retry import keep_trying


def test_returns_once_the_device_answers_and_reports_each_miss() -> None:
    answers = iter([DeviceUnavailable("refused"), DeviceUnavailable("reset"), "connected"])
    heard: list[str] = []

    def attempt() -> str:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    assert keep_trying(attempt, timeout=5, pause=0.01, on_retry=lambda exc: heard.append(str(exc))) == "connected"
    assert heard == ["refused", "reset"]


def test_raises_the_last_failure_at_the_deadline() -> None:
    calls = []

    def attempt() -> None:
        calls.append(time.monotonic())
        raise DeviceUnavailable(f"refused (attempt {len(calls)})")

    with pytest.raises(DeviceUnavailable) as caught:
        keep_trying(attempt, timeout=0.3, pause=0.01)
    assert len(calls) >= 2 and str(caught.value) == f"refused (attempt {len(calls)})"
    assert calls[-1] - calls[0] < 0.3  # no attempt starts after the deadline


def test_a_final_error_is_not_retried_and_zero_timeout_tries_once() -> None:
    calls = []

    def bad_uri() -> None:
        calls.append(1)
        raise ConfigError("rack.toml", "handset.uri", "expected adb-tcp://HOST:PORT")

    with pytest.raises(ConfigError):
        keep_trying(bad_uri, timeout=10)
    assert calls == [1]

    def powered_off() -> None:
        calls.append(2)
        raise DeviceUnavailable("off")

    with pytest.raises(DeviceUnavailable):
        keep_trying(powered_off, timeout=0)
    assert calls == [1, 2]
