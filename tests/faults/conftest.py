"""Fixtures of the fault-matrix suite; the helpers behind them are in faultlab.py."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from faultlab import Canary, FaultLab, make_canary


@pytest.fixture
def canary() -> Canary:
    """A fresh canary password and access code; finding either in any output is a leak."""
    return make_canary()


@pytest.fixture
def fault(tmp_path: Path) -> Iterator[FaultLab]:
    """This test's bench: marker, own TMPDIR, ``run``/``start``/``emulate``; kills what it started at teardown."""
    lab = FaultLab(tmp_path / "fault")
    try:
        yield lab
    finally:
        lab.close()
