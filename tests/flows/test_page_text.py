"""What a page says after an action (backup's 'last backup: today', the Store's 'Installed'), read through a camera:
a dim line read together with the page came out "last ba" on a rectified camera frame (lumia-1320, light theme,
Open Sans, bench 606998: ``harness unlocks --handset robot://`` failed 'backup said neither ...' after 15 s while
the line stood on screen); each line under the title is now read on its own as well, evened out (lumia-630 light,
bench 305080: glare left the line 36 grey levels from the page, and the field reader saw no ink), and a line read a
letter or two off still says its phrase. A list item's label dropped from the reading of the whole list (Settings'
"email+accounts" on that frame: ``harness sync`` failed "no tap target 'email_accounts'") is read line by line.

The frames are the ones those runs saved (tests/flows/frames: the backup pages re-encoded as JPEG, Settings as
lossless WebP, as a JPEG of it reads the label whole)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import pytest

from harness.flows.help_page import _any_says, page_text
from harness.vision import ScreenLibrary, find_target

FRAMES = Path(__file__).parent / "frames"


@pytest.mark.parametrize("frame, today", [("backup-done-1320-light-606998.jpg", True),
                                          ("backup-done-630-light-305080.jpg", True),
                                          # a glare spot over "backup" (htc-8x light, Open Sans, bench 964285):
                                          # "ist tnicecip today" after the backup, "last boc never" before it
                                          ("backup-done-8x-light-964285.webp", True),
                                          ("backup-never-8x-light-964285.webp", False)])
def test_a_dim_line_of_a_camera_frame_is_read_whole(frame: str, today: bool) -> None:
    image = np.asarray(Image.open(FRAMES / frame).convert("RGB"))
    rec = ScreenLibrary.shared().classify(image)[0]
    assert rec is not None and rec.screen == "backup"
    said = page_text(rec)
    assert _any_says(said, ("last backup: today",)) is today, said
    assert not _any_says(said, ("Sign in with a Microsoft account",)), said


def test_a_list_item_dropped_from_the_whole_reading_is_found_line_by_line() -> None:
    image = np.asarray(Image.open(FRAMES / "settings-630-light-305080.webp").convert("RGB"))
    rec = ScreenLibrary.shared().classify(image)[0]
    assert rec is not None and rec.screen == "settings"
    x, y = find_target(rec, "email_accounts")
    assert 215 <= y <= 245 and x < 240, (x, y)  # the second row of the list, as drawn on the frame


@pytest.mark.parametrize("line, phrase, says", [
    ("last backups toctay", "last backup: today", True), ("last tricep today", "last backup: today", True),
    ("lnstalled", "Installed", True),
    ("last backup: yesterday", "last backup: today", False), ("last backup: never", "last backup: today", False),
    ("last ba", "last backup: today", False), ("tricep backup yesterday", "last backup: today", False),
    ("Install", "Installed", False), ("Installing", "Installed", False),
])
def test_a_line_read_a_letter_off_says_its_phrase_and_another_answer_does_not(line: str, phrase: str,
                                                                              says: bool) -> None:
    assert _any_says([line], (phrase,)) is says
