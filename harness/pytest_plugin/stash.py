"""What the fixtures leave on a test item for the report hooks to find after a failure."""

from __future__ import annotations

from typing import Any

import pytest

ARTIFACTS = pytest.StashKey[Any]()
DEVICE = pytest.StashKey[Any]()
FLOW = pytest.StashKey[Any]()
CONSOLE = pytest.StashKey[Any]()
