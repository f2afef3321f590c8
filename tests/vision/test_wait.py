"""wait_for_screen on a handset reached over ADB: the screen it waits for, or a timeout that names the evidence."""

from __future__ import annotations

import time

import pytest

from harness.vision import ScreenLibrary
from harness.vision.wait import ScreenTimeout, wait_for_screen

LIBRARY = ScreenLibrary.load_default()
SETUP = ["setup_welcome", "setup_terms", "setup_settings", "setup_region"]


def test_waits_for_the_screen_and_finds_its_targets(handset) -> None:
    rec = wait_for_screen(handset, SETUP, timeout=20, library=LIBRARY)
    assert rec.screen in SETUP and rec.score >= 0.6 and rec.targets
    x, y = rec.targets[next(iter(rec.targets))]
    assert 0 <= x < handset.info.width and 0 <= y < handset.info.height


def test_timeout_names_the_expected_screen_the_best_guess_and_the_screenshot(handset, artifacts) -> None:
    shown = wait_for_screen(handset, SETUP, timeout=20, library=LIBRARY).screen
    started = time.monotonic()
    with pytest.raises(ScreenTimeout) as info:
        wait_for_screen(handset, "email_accounts", timeout=1.5, library=LIBRARY, artifacts_dir=artifacts.dir)
    assert 1.5 <= time.monotonic() - started < 10
    error = info.value
    assert error.expected_screens == ["email_accounts"] and error.guess is not None and error.guess[0] == shown
    assert "email_accounts" in str(error) and f"best guess {shown} (score" in str(error)
    assert error.screenshot is not None and error.screenshot.exists() and error.screenshot.parent == artifacts.dir
