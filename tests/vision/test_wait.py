"""wait_for_screen on a handset reached over ADB: the screen it waits for, or a timeout that names the evidence."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from harness.vision import ScreenLibrary, matcher
from harness.vision.definitions import DEFAULT_LIBRARY
from harness.vision.features import working_factor
from harness.vision.wait import ScreenTimeout, wait_for_screen

LIBRARY = ScreenLibrary.load_default()
SETUP = ["setup_welcome", "setup_terms", "setup_settings", "setup_region"]


class _Watched:
    """The handset under test, noting when its first screenshot was asked for (what a person watching it sees)."""

    def __init__(self, handset, on_first) -> None:  # type: ignore[no-untyped-def]
        self.handset, self.on_first, self.shots = handset, on_first, 0

    def screenshot(self):  # type: ignore[no-untyped-def]
        self.shots += 1
        if self.shots == 1:
            self.on_first()
        return self.handset.screenshot()


def test_a_wait_gives_the_handset_its_whole_timeout_and_finds_the_targets(handset, emulator_control) -> None:
    """wait_for_screen without a library, in a process that has not compiled one: the screen waited for shows
    0.5 s after the wait's first screenshot, and a 1 s wait must see it. Loading and compiling the library
    (1.4 s of CPU on an idle machine, 5.5-6.8 s at load 25) is not the handset's time. The library is then kept
    for the next wait, and loaded again only when its files change."""
    shown = wait_for_screen(handset, SETUP, timeout=20, library=LIBRARY).screen
    emulator_control.call("goto", screen="about")
    assert wait_for_screen(handset, "about", timeout=20, library=LIBRARY).screen == "about"
    emulator_control.call("goto", screen=shown)
    wait_for_screen(handset, shown, timeout=20, library=LIBRARY)  # the handset shows it, settled
    matcher._SHARED.clear()  # a process that has not loaded the default library yet
    timer = threading.Timer(0.5, lambda: emulator_control.call("goto", screen="about"))
    watched = _Watched(handset, timer.start)
    try:
        rec = wait_for_screen(watched, "about", timeout=1.0)
    finally:
        timer.cancel()
        timer.join()
    assert rec.screen == "about" and watched.shots >= 3 and set(rec.targets) == {"reset"}
    x, y = rec.targets["reset"]
    assert 0 <= x < handset.info.width and 0 <= y < handset.info.height
    kept = ScreenLibrary.shared()
    assert kept is ScreenLibrary.shared() and kept.is_compiled(rec.scale / working_factor(rec.scale))


def test_the_kept_library_is_loaded_again_when_a_file_changes(tmp_path) -> None:
    """A lab re-records a screen while a long session runs: the next wait sees the new definition."""
    folder = tmp_path / "screens"
    shutil.copytree(DEFAULT_LIBRARY, folder)
    first = ScreenLibrary.shared(folder)
    assert ScreenLibrary.shared(folder) is first and "about" in first.names
    (folder / "about.toml").unlink()
    again = ScreenLibrary.shared(folder)
    assert again is not first and "about" not in again.names and ScreenLibrary.shared(folder) is again
    text = (folder / "backup.toml").read_text()
    (folder / "backup.toml").write_text(text.replace('description = "', 'description = "edited: ', 1))
    assert ScreenLibrary.shared(folder).definitions["backup"].description.startswith("edited: ")


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
