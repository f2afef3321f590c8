"""Fixtures for racks on labgrid: a real ``labgrid-coordinator`` per test module, and ``labgrid-client`` to ask it.

One coordinator per module (about a second of CPU to start): tests of one
module share it, so they must name their places and exporters uniquely.
"""

from __future__ import annotations

import subprocess
from typing import Callable, Iterator

import pytest

from harness.lab.labgrid import LabgridError, program
from harness.lab.labgrid.client import run_client
from harness.lab.labgrid.coordinator import LocalCoordinator


@pytest.fixture(scope="module")
def lg_coordinator(tmp_path_factory) -> Iterator[LocalCoordinator]:
    """A running ``labgrid-coordinator`` on 127.0.0.1 (OS-picked port) in a temporary folder; ``.address``."""
    try:
        program("labgrid-coordinator")
    except LabgridError as exc:
        pytest.skip(str(exc))
    coordinator = LocalCoordinator(tmp_path_factory.mktemp("coordinator")).start()
    yield coordinator
    coordinator.stop()


@pytest.fixture(scope="module")
def lg_client(lg_coordinator) -> Callable[..., subprocess.CompletedProcess]:
    """``lg_client(*args)``: ``labgrid-client -x <the coordinator> ARGS...`` as a labgrid user runs it."""
    return lambda *args, **kw: run_client(lg_coordinator.address, *args, **kw)
