"""A list's lines as ``harness sync`` reads them, over ADB and through a camera: the words a person sees there.

Over ADB, People's "Irina Petrova" was listed as "lrina Petrova" (a sans face draws a capital I as an l) or as
"Petrova" (Tesseract was 8-29 sure of the name, and words under 30 were dropped) on 60 and 14 of the 120 renders
of People and Outlook (six profiles, both themes, five faces). Through a camera on lumia-1320 light (bench
298872, DejaVu Sans) a glare spot left "Photos from the hike" so faint that no line was found under Irina's name,
and ``harness sync`` over robot:// listed one mail fewer than over ADB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.flows.app_lists import read_entries
from harness.lab.frames import screen_frames
from harness.vision import ScreenLibrary
from harness.vision.ocr import capital_i

LIBRARY = ScreenLibrary.load_default()
FRAMES = Path(__file__).parent / "frames"


@pytest.mark.parametrize("profile, theme, font, screen", [
    ("lumia-520", "dark", "bundled", "people"),       # read "lrina Petrova"
    ("lumia-630", "light", "dejavu-sans", "people"),  # read "Petrova"
    ("lumia-930", "dark", "lato", "mail"),            # read "Petrova"
])
def test_a_name_ocr_is_unsure_of_is_listed_whole_over_adb(profile: str, theme: str, font: str, screen: str) -> None:
    (_, shot), = screen_frames(profile, theme, font=font, screens=(screen,))
    rec = LIBRARY.classify(shot)[0]
    assert rec is not None and rec.screen == screen
    titles = [e.title for e in read_entries(rec)]
    assert "Irina Petrova" in titles, titles


@pytest.mark.parametrize("read, meant", [
    ("lrina Petrova", "Irina Petrova"), ("lnstalled", "Installed"), ("Re: lrina", "Re: Irina"),
    ("(lrina)", "(Irina)"),
    ("lunch on Friday", "lunch on Friday"), ("llama", "llama"), ("lyric", "lyric"),   # words that begin so
    ("bob@lrs.example", "bob@lrs.example"), ("x.lrs", "x.lrs"), ("12lr", "12lr"),     # not a word's start
])
def test_an_l_no_word_begins_with_is_read_as_the_capital_i(read: str, meant: str) -> None:
    assert capital_i(read) == meant


def test_a_subject_washed_out_by_glare_is_still_a_line_of_its_mail() -> None:
    frame = np.asarray(Image.open(FRAMES / "mail-top-1320-light-298872.webp").convert("RGB"))
    rec = LIBRARY.classify(frame, frame.shape[1] / 480.0)[0]
    assert rec is not None and rec.screen == "mail"
    entries = read_entries(rec)
    assert len(entries) == 8, [e.title for e in entries]
    assert all(e.sub for e in entries), [(e.title, e.sub) for e in entries]
