"""Fault matrix: a handset whose emulator child died is known dead at once, not retried for a minute."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest


def test_a_killed_emulator_child_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.adb import DeviceGone
    from harness.handsets import open_handset

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
    assert elapsed < 10, f"expected the dead child noticed at once, not after the handset's 30 s; took {elapsed:.1f}s"


def test_a_screen_wait_ends_at_its_deadline_when_the_handset_goes_silent(tmp_path: Path) -> None:
    """wait_for_screen(timeout=2) on a handset that answers its handshake and then nothing (its own timeout: 30 s)."""
    import socket

    from adbfaults import HostileDevice, Seen, handshake, hold

    from harness.handsets import connect_handset
    from harness.errors import HarnessTimeout
    from harness.vision.matcher import ScreenLibrary
    from harness.vision.wait import SCREENSHOT_GRACE, wait_for_screen

    def silent(sock: socket.socket, seen: Seen) -> None:
        handshake(sock)
        hold(sock)

    # Loaded before the clock starts: on a loaded machine compiling the library alone can take
    # longer than this wait's 2 s (5.5 s seen at load 25); what is timed here is the silent handset.
    library = ScreenLibrary.load_default()
    with HostileDevice(silent) as device:
        handset = connect_handset(device.uri, timeout=30, key_path=str(tmp_path / "adbkey"))
        started = time.monotonic()
        try:
            with pytest.raises(HarnessTimeout, match="OKAY for OPEN"):
                wait_for_screen(handset, "keep_your_life_in_sync", timeout=2, library=library)
        finally:
            handset.close()
        elapsed = time.monotonic() - started
    assert elapsed < 2 + SCREENSHOT_GRACE + 1, f"expected the wait over after about {2 + SCREENSHOT_GRACE:g}s; took {elapsed:.1f}s"
