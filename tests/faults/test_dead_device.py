"""Fault matrix: a handset whose emulator child died is known dead at once, not retried for a minute."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest


def test_a_killed_emulator_child_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.adb.handset import DeviceGone
    from harness.devices import open_handset

    monkeypatch.setenv("HARNESS_ADB_KEY", str(tmp_path / "adbkey"))
    opened = open_handset("emulator://lumia-930?animation_ms=0", timeout=30)
    try:
        opened.handset.tap(5, 5)  # it works before
        os.kill(opened.emulator.proc.pid, signal.SIGKILL)
        opened.emulator.proc.wait(10)
        started = time.monotonic()
        with pytest.raises(DeviceGone, match=r"its emulator process exited with -9"):
            opened.handset.tap(5, 5)
        elapsed = time.monotonic() - started
    finally:
        opened.close()
    assert elapsed < 3, f"expected the dead child noticed at once, not after the handset's 30 s; took {elapsed:.1f}s"
