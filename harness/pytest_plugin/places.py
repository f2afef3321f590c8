"""Handsets from labgrid places: ``pytest --lg-coordinator HOST:PORT`` (labgrid's own option) reserves them by tags.

Each test that uses a handset asks the coordinator for a place whose tags match
its markers (``profile``, ``os_version``), through labgrid's reservations; a
pytest-xdist worker holds one place at a time and keeps it while the next test
wants the same tags (``harness.lab.labgrid.reservations``). A test whose tags no
place has is skipped with the reason at once; one whose places are all busy is
skipped with the reason after ``--lg-place-wait`` seconds. The place beats while
held (a killed run's places are freed by the janitor) and is released, its
reservation cancelled, when the worker ends.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

_POOL: dict[str, Any] = {}


def coordinator(config: pytest.Config) -> str | None:
    """The address of ``--lg-coordinator`` (registered by labgrid's own pytest plugin), None without it."""
    return getattr(config.option, "lg_coordinator", None) or None


def open_place_handset(request: pytest.FixtureRequest, profile: str | None, os_version: str | None) -> Any:
    """The handset of a place held for this worker, with tags ``profile``/``os_version``; skips when none is."""
    from harness.handsets import OpenedHandset, connect_when_up
    from harness.lab.labgrid.reservations import NoFreePlace, NoSuchPlace

    tags = {k: v for k, v in (("profile", profile), ("os_version", os_version)) if v}
    try:
        name, inventory = _pool(request.config).get(tags)
    except (NoSuchPlace, NoFreePlace) as exc:
        pytest.skip(str(exc))
    entry = inventory.handsets[0]
    endpoints = {k: v for k, v in (("console", entry.console), ("modem", entry.modem),
                                   ("modem_number", entry.modem_number), ("place", name)) if v}
    return OpenedHandset(entry.uri, connect_when_up(entry.uri), inventory.profile_of(entry), endpoints)


def _pool(config: pytest.Config) -> Any:
    from harness.lab.labgrid.reservations import PlacePool

    address = coordinator(config)
    assert address
    if address not in _POOL:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        wait = float(config.getoption("lg_place_wait"))
        _POOL[address] = PlacePool(address, command=f"pytest {worker}".strip(), wait=wait,
                                   note=lambda line: print(f"\n{line}", file=sys.stderr, flush=True))
    return _POOL[address]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Give every place back (the worker ends)."""
    while _POOL:
        _, pool = _POOL.popitem()
        pool.close()
