"""A page whose header and title a cover hides is told by what shows below the cover: its own buttons and field
labels (harness.vision.standins). Pages laid out alike (the "needs an account" pages, the code and password
pages) are never taken for one another: a frame whose visible part does not tell them apart stays unknown."""

from __future__ import annotations

from harness.lab.frames import screen_frames
from harness.profiles import load_all
from harness.vision import ScreenLibrary

from covered_frames import judge_covered

LIBRARY = ScreenLibrary.load_default()
#: pages alike in layout: a header and title (under the cover), a line or two of text, a button or a field
ALIKE = ("two_step_code", "account_password", "reset_code", "whats_new", "whats_new_no_account", "store_no_account",
         "music_no_account", "video_no_account", "games_no_account", "phone_update")
#: view pixels from the top a flat grey cover reaches: over the header and the title, not the text below them
REACH = 145
#: told by their stand-ins on every profile and theme under that cover (two_step_code was on 4 of 12 before: its
#: page fits account_password's within 0.03; its "next" button and "Code" label tell it)
TOLD = ("two_step_code",)


def test_a_page_covered_to_its_text_is_told_by_its_buttons_never_taken_for_another() -> None:
    wrong, missed, told = [], [], 0
    for profile in (p.name for p in load_all()):
        for theme in ("dark", "light"):
            for screen, clean in screen_frames(profile, theme, screens=ALIKE):
                told += judge_covered(LIBRARY, clean, screen, REACH, f"{profile}/{theme}", screen in TOLD, wrong, missed)
    print(f"{told} of {12 * len(ALIKE)} recognised")
    assert not wrong, "; ".join(wrong)
    assert not missed, "; ".join(missed)
