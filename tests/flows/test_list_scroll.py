"""Following a list across screenfuls (``harness.flows.list_scroll``): the move a swipe made, measured from the
frames, says which entries two screenfuls share, whatever OCR made of them.

Before, only the readings said it. Through a camera on lumia-630 light (bench 305080, a heavy glare spot over
the top of the glass) the four mails both screenfuls of the inbox showed were read differently on each, and
``harness sync`` over robot:// listed 16 mails for 12; the subjects under the glare were taken as read there
("Veer" for "Your statement is ready") though the screenful before had shown them away from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.flows.app_lists import list_region, read_entries
from harness.flows.list_scroll import SAME_PLACE, Entry, following, scrolled_by
from harness.lab.frames import lab_phone, through_camera
from harness.profiles import load_profile
from harness.vision import ScreenLibrary
from harness.vision.definitions import Box
from harness.vision.ocr import normalise as words, similarity

FRAMES = Path(__file__).parent / "frames"
LIBRARY = ScreenLibrary.load_default()
#: The inbox of the emulator's demo mail, as a person reads it: (sender, subject), top to bottom.
INBOX = (("Contoso Travel", "Check in now"), ("Bob Smith", "Re: Lunch on Friday?"),
         ("Windows Phone Store", "Your receipt"), ("Irina Petrova", "Photos from the hike"),
         ("Outlook.com Team", "Welcome to Outlook.com"), ("Fabrikam Bank", "Your statement is ready"),
         ("Dave Jones", "Book club: December pick"), ("Xbox", "New achievements unlocked"),
         ("Carol White", "Quarterly report draft"), ("OneDrive", "Your photos are backed up"),
         ("Bob Smith", "Lunch on Friday?"), ("Contoso Travel", "Your trip to Lisbon"))


def _exact_move(before: np.ndarray, after: np.ndarray) -> int:
    """How far a screenshot's list moved, by the pixels alone: the shift after which the two regions agree."""
    h = before.shape[0]
    misfit = {dy: float(np.abs(before[dy:].astype(np.int16) - after[:h - dy]).mean()) for dy in range(1, h * 3 // 4)}
    best = min(misfit, key=misfit.__getitem__)
    typical = float(np.median(list(misfit.values())))
    assert misfit[best] < typical / 4, f"no shift makes the screenshots agree: {best} px at best, {misfit[best]:.1f} apart"
    return best


@pytest.mark.parametrize("profile_name, theme, seed", [("lumia-930", "dark", 842483), ("lumia-630", "light", 305080)])
def test_the_move_of_a_swipe_is_measured_on_screenshots_and_camera_frames(profile_name: str, theme: str,
                                                                         seed: int) -> None:
    profile = load_profile(profile_name)
    with lab_phone(profile_name, theme) as phone:
        from harness.lab.record_screens import show_screen

        show_screen(phone, "mail")
        before = np.asarray(phone.frame().convert("RGB"))
        rec = LIBRARY.classify(before)[0]
        region = list_region(rec)
        phone.swipe(before.shape[1] // 2, region.y + region.h * 3 // 4, before.shape[1] // 2, region.y + region.h // 5,
                    200)
        after = np.asarray(phone.frame().convert("RGB"))
    rows = slice(region.y, region.y + region.h)
    exact = _exact_move(before[rows], after[rows])
    assert scrolled_by(before[rows], after[rows], rec.scale) == exact
    view = view_of(placement_of(place(profile, seed)), seed, SIZES["1280x720"])
    cams = [through_camera(view.frame(shot), profile.width, profile.height)[rows] for shot in (before, after)]
    seen = scrolled_by(cams[0], cams[1], rec.scale)
    assert seen is not None and abs(seen - exact) <= SAME_PLACE * rec.scale / 2, (seen, exact)


def test_a_bare_list_says_nothing_of_a_move() -> None:
    rng = np.random.default_rng(7)
    page = np.clip(235 + rng.normal(0, 3, (640, 480, 3)), 0, 255).astype(np.uint8)   # a camera's noise, no ink
    assert scrolled_by(page, page[::-1].copy(), 1.0) is None


def test_the_inbox_under_glare_is_listed_once_each_line_as_its_clearer_screenful_read_it() -> None:
    frames = [np.asarray(Image.open(FRAMES / f"mail-{part}-630-light-305080.webp").convert("RGB")) for part in ("top", "end")]
    recs = [LIBRARY.classify(f, f.shape[1] / 480.0)[0] for f in frames]
    assert [r.screen for r in recs] == ["mail", "mail"]
    region = list_region(recs[0])
    rows = slice(region.y, region.y + region.h)
    moved = scrolled_by(frames[0][rows], frames[1][rows], recs[0].scale)
    pages = [read_entries(r) for r in recs]
    listed = following(following([], [], pages[0], None, recs[0].scale), pages[0], pages[1], moved, recs[1].scale)
    assert len(listed) == len(INBOX), [e.title for e in listed]
    senders = [similarity(words(e.title), words(sender)) >= 0.8 for e, (sender, _) in zip(listed, INBOX)]
    assert all(senders), [e.title for e in listed]
    # the mails both screenfuls showed: under the glare on the second, away from it on the first
    assert similarity(words(listed[5].sub), words("Your statement is ready")) >= 0.9, listed[5]


def _at(y: int) -> Box:
    return Box(0, y, 400, 60)


def test_entries_at_other_places_are_new_though_read_alike() -> None:
    # a newsletter's mails: every sender alike, the subjects washed out; the list moved past all of them
    previous = [Entry("Newsletter", "Issue", _at(y), (200.0, 40.0)) for y in (100, 175, 250)]
    page = [Entry("Newsletter", "Issue", _at(y), (200.0, 40.0)) for y in (100, 175, 250)]
    assert len(following(list(previous), previous, page, 400, 1.0)) == 6


def test_places_that_agree_take_each_line_from_the_clearer_screenful() -> None:
    previous = [Entry("Bob Smith", "Lunch", _at(100), (210.0, 40.0)), Entry("Xbox", "New achievements", _at(175), (215.0, 110.0))]
    page = [Entry("Xbox", "Hew acteeve", _at(100), (200.0, 45.0)), Entry("OneDrive", "Your photos", _at(175), (210.0, 100.0))]
    listed = following(list(previous), previous, page, 75, 1.0)
    assert [(e.title, e.sub) for e in listed] == [("Bob Smith", "Lunch"), ("Xbox", "New achievements"),
                                                 ("OneDrive", "Your photos")]


def test_places_whose_main_lines_disagree_fall_back_to_the_readings() -> None:
    # a move measured wrong (or a list that changed): the names at the places differ, so the readings decide
    previous = [Entry("Bob Smith", "Lunch", _at(100)), Entry("Carol White", "Report", _at(175))]
    page = [Entry("Dave Jones", "Book club", _at(100)), Entry("Xbox", "New", _at(175))]
    assert len(following(list(previous), previous, page, 75, 1.0)) == 4
