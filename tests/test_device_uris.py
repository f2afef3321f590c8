"""Handset URIs: the three schemes, emulator options, and clear errors for the rest."""

from __future__ import annotations

import pytest

from harness.devices import HandsetUriError, emulator_args, parse_uri


def test_schemes() -> None:
    assert parse_uri("emulator://lumia-520?theme=light") == ("emulator", "lumia-520", {"theme": "light"})
    assert parse_uri("adb-tcp://10.0.0.5:5555") == ("adb-tcp", "10.0.0.5:5555", {})
    assert parse_uri("adb-usb://930D00001000") == ("adb-usb", "930D00001000", {})
    with pytest.raises(HandsetUriError, match="scheme must be"):
        parse_uri("ssh://phone")


def test_emulator_options_become_flags() -> None:
    assert emulator_args({"theme": "light", "toasts": "1", "animation_ms": "150", "os_version": "8.0"}) == [
        "--theme", "light", "--toasts", "--animation-ms", "150", "--os-version", "8.0"]
    with pytest.raises(HandsetUriError, match="unknown option 'colour'"):
        emulator_args({"colour": "red"})
