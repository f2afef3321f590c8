"""What the fixtures leave on a test item for the report hooks to find after a failure."""

from __future__ import annotations

from typing import Any

import pytest

ARTIFACTS = pytest.StashKey[Any]()
DEVICE = pytest.StashKey[Any]()
FLOW = pytest.StashKey[Any]()
CONSOLE = pytest.StashKey[Any]()
RECORDING = pytest.StashKey[Any]()  # the test's RunRecording: its video recorder and timeline.html
FAILED = pytest.StashKey[bool]()  # setup or call failed: --record failures keeps the video
