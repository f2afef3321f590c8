"""Handset URIs: one module per scheme behind one registry, emulator options, and one-line errors for the rest."""

from __future__ import annotations

import importlib

import pytest

from harness.handsets import (
    SCHEMES, HandsetUri, HandsetUriError, connect_handset, parse_uri, starts_handset, with_options,
)
from harness.handsets.emulator import emulator_args


def test_schemes() -> None:
    assert parse_uri("emulator://lumia-520?theme=light") == HandsetUri(
        "emulator://lumia-520?theme=light", "emulator", "lumia-520", {"theme": "light"})
    assert parse_uri("adb-tcp://10.0.0.5:5555") == HandsetUri("adb-tcp://10.0.0.5:5555", "adb-tcp", "10.0.0.5:5555", {})
    assert parse_uri("adb-usb://930D00001000") == HandsetUri("adb-usb://930D00001000", "adb-usb", "930D00001000", {})
    assert parse_uri("emulator://").location == ""  # the default profile


def test_every_registered_scheme_can_parse_open_and_probe() -> None:
    for name in SCHEMES:
        module = importlib.import_module(SCHEMES[name])
        assert module.USAGE.startswith(f"{name}://")
        assert all(callable(getattr(module, f, None)) for f in ("parse", "open", "probe")), name


def test_each_scheme_parses_its_own_address() -> None:
    from harness.handsets import adb_tcp, adb_usb, emulator

    assert adb_tcp.parse(parse_uri("adb-tcp://[::1]:5037")) == adb_tcp.TcpAddress("adb-tcp://[::1]:5037", "::1", 5037)
    assert adb_usb.parse(parse_uri("adb-usb://930D00001000")).serial == "930D00001000"
    spec = emulator.parse(parse_uri("emulator://lumia-520?toasts=1&os=8.0"))
    assert (spec.profile, spec.args) == ("lumia-520", ("--toasts", "--os-version", "8.0"))


@pytest.mark.parametrize("uri, says", [
    ("ssh://phone", "scheme must be emulator://PROFILE, adb-tcp://HOST:PORT, adb-usb://SERIAL or robot://PORT?camera=URL&calibration=FILE&profile=NAME"),
    ("lumia-930", "expected SCHEME://..."),
    ("adb-tcp://10.0.0.5", "expected adb-tcp://HOST:PORT: no port"),
    ("adb-tcp://10.0.0.5:99999", "expected adb-tcp://HOST:PORT: port 99999 is out of range 1..65535"),
    ("adb-tcp://10.0.0.5:0", "expected adb-tcp://HOST:PORT: port 0 is out of range 1..65535"),
    ("adb-tcp://10.0.0.5:55x", "expected adb-tcp://HOST:PORT: port '55x' is not a number"),
    ("adb-tcp://10.0.0.5:5555/x", "expected adb-tcp://HOST:PORT: port '5555/x' is not a number"),
    ("adb-tcp://:5555", "expected adb-tcp://HOST:PORT: no host"),
    ("adb-tcp://[::1", "Invalid IPv6 URL"),
    ("adb-tcp://10.0.0.5:5555?theme=light", "adb-tcp://HOST:PORT takes no options (got theme)"),
    ("adb-usb://93/0D", "expected adb-usb://SERIAL"),
    ("emulator://nokia-3310", "no profile 'nokia-3310' (known: "),
    ("emulator://lumia-930?colour=red", "unknown option 'colour'"),
])
def test_bad_uris_get_one_line_naming_the_uri(uri: str, says: str) -> None:
    with pytest.raises(HandsetUriError) as caught:
        parse_uri(uri)
    message = str(caught.value)
    assert says in message and repr(uri) in message and "\n" not in message


def test_an_emulator_is_opened_not_connected() -> None:
    with pytest.raises(HandsetUriError, match="emulator:// starts a handset of its own; open it with open_handset"):
        connect_handset("emulator://lumia-930")


def test_only_an_emulator_uri_starts_its_handset_and_takes_a_profile_and_options() -> None:
    assert starts_handset("emulator://lumia-930") and starts_handset("emulator://")
    assert not starts_handset("adb-tcp://10.0.0.5:5555") and not starts_handset("adb-usb://930D00001000")
    assert not starts_handset("inventory://any") and not starts_handset("lumia-930")
    assert with_options("emulator://?toasts=1", "lumia-520", theme="light", animation_ms=0) == \
        "emulator://lumia-520?toasts=1&theme=light&animation_ms=0"
    assert with_options("emulator://lumia-930?theme=dark", theme="light", toasts=True) == \
        "emulator://lumia-930?theme=light&toasts=1"
    assert with_options("emulator://") == "emulator://lumia-930"
    with pytest.raises(HandsetUriError, match="adb-tcp:// is a phone as it is: it takes no profile or options"):
        with_options("adb-tcp://10.0.0.5:5555", "lumia-520")


def test_emulator_options_become_flags() -> None:
    uri = HandsetUri.split("emulator://lumia-930?theme=light&toasts=1&animation_ms=150&os_version=8.0")
    assert emulator_args(uri) == ["--theme", "light", "--toasts", "--animation-ms", "150", "--os-version", "8.0"]
    assert emulator_args(HandsetUri.split("emulator://lumia-930?toasts=0")) == []


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_registered_scheme_is_a_module_with_usage_parse_and_open(scheme: str) -> None:
    module = importlib.import_module(SCHEMES[scheme])
    assert module.USAGE.startswith(f"{scheme}://")
    assert callable(module.parse) and callable(module.open)
