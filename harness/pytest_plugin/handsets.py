"""One test per handset URI, and the opened handset each test gets.

``--handset`` URIs (or the ini's ``handsets``) parametrise every test that uses
a handset; ``profile`` and ``theme`` markers multiply emulated and inventory
handsets. With ``--inventory`` each test leases a matching rack handset.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from harness.handsets import HandsetUri, starts_handset, with_options
from harness.pytest_plugin import stash
from harness.pytest_plugin.options import emulator_options, option


def _handset_uris(config: pytest.Config) -> list[str]:
    from harness.pytest_plugin.places import coordinator

    if coordinator(config) and not option(config, "handset"):
        return ["place://any"]  # labgrid's --lg-coordinator: places reserved by tags
    if option(config, "inventory") and not option(config, "handset"):
        return ["inventory://any"]
    return list(option(config, "handset") or ["emulator://lumia-930"])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "handset_uri" not in metafunc.fixturenames:
        return
    uris = _handset_uris(metafunc.config)
    profiles = [a for m in metafunc.definition.iter_markers("profile") for a in m.args]
    themes = [a for m in metafunc.definition.iter_markers("theme") for a in m.args]
    params, ids = [], []
    for uri in uris:
        if uri.startswith(("inventory://", "place://")):
            scheme = uri.split(":", 1)[0]
            for profile in profiles or ["any"]:
                for theme in themes or [None]:
                    params.append(f"{scheme}://{profile}" + (f"?theme={theme}" if theme else ""))
                    ids.append(f"{profile}" + (f"-{theme}" if theme else ""))
        elif starts_handset(uri):  # an emulator: one handset per profile and theme the markers ask for
            for profile in profiles or [None]:
                for theme in themes or [None]:
                    u = with_options(uri, profile, **({"theme": theme} if theme else {}))
                    params.append(u)
                    ids.append(HandsetUri.split(u).location + (f"-{theme}" if theme else ""))
        else:
            params.append(uri)
            ids.append(re.sub(r"[^A-Za-z0-9.:-]+", "_", uri))
    metafunc.parametrize("handset_uri", params, ids=ids, indirect=False)


@pytest.fixture
def device(request: pytest.FixtureRequest, handset_uri: str, artifacts: Any) -> Iterator[Any]:
    """The opened handset with its endpoints; emulated handsets start fresh for each test."""
    from harness.handsets import open_handset
    from harness.lab.leased_handset import open_inventory_handset

    uri = handset_uri
    if uri.startswith("place://"):
        from harness.pytest_plugin.places import open_place_handset

        wanted = uri[len("place://"):].split("?", 1)[0]
        opened = open_place_handset(request, None if wanted == "any" else wanted,
                                    emulator_options(request).get("os_version"))
    elif uri.startswith("inventory://"):
        from urllib.parse import parse_qsl, urlsplit

        from harness.lab.leases import NoMatchingHandset

        parts = urlsplit(uri)
        options = emulator_options(request)
        theme = dict(parse_qsl(parts.query)).get("theme")
        try:
            opened = open_inventory_handset(_inventory(request.config), None if parts.netloc == "any" else parts.netloc,
                                            options.pop("os_version", None), theme, options)
        except NoMatchingHandset as exc:
            pytest.skip(str(exc))
    else:
        if starts_handset(uri):
            uri = with_options(uri, **emulator_options(request))
        held = _lease_of_uri(request.config, uri)  # --handset URI of an inventory handset: leased like its name
        try:
            opened = open_handset(uri, log_dir=artifacts.dir)
        except BaseException:
            if held is not None:
                held.release()
            raise
        opened.lease = held
    request.node.stash[stash.DEVICE] = opened
    console = None
    try:
        os_marker = request.node.get_closest_marker("os_version")
        if os_marker and not opened.emulated:
            version = opened.handset.info.os_version
            if version and version != os_marker.args[0]:
                pytest.skip(f"needs OS {os_marker.args[0]}, handset runs {version}")
        if "console" in opened.endpoints:
            from harness.console import SerialConsole, console_port

            console = SerialConsole(console_port(opened.endpoints["console"], opened.profile),
                                    log_path=artifacts.claim("console.log"))
            console.open()
            request.node.stash[stash.CONSOLE] = console
        yield opened
    finally:
        if console is not None:
            console.close()
        opened.close()


_INVENTORY: dict[str, Any] = {}


def _lease_of_uri(config: pytest.Config, uri: str) -> Any:
    """The lease of the inventory handset at ``uri`` (None without --inventory, or for a URI not in it)."""
    if not option(config, "inventory") or starts_handset(uri):
        return None
    from harness.lab.leases import lease
    from harness.lab.chosen import entry_with_uri

    inventory = _inventory(config)
    entry = entry_with_uri(inventory, uri)
    return lease(inventory, entry.name) if entry is not None else None


def _inventory(config: pytest.Config) -> Any:
    from harness.lab.inventory import Inventory

    path = option(config, "inventory")
    if path not in _INVENTORY:
        _INVENTORY[path] = Inventory.load(path)
    return _INVENTORY[path]


@pytest.fixture
def handset(device: Any) -> Any:
    """The Handset under test."""
    return device.handset
