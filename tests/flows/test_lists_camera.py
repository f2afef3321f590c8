"""People's and Calendar's lists read from rectified camera frames as ``harness sync`` reads them over robot://:
every entry's main line, on bench seed 842483 (a light theme's glare), both themes (over 8 seeds x 2 themes, 108 of
109 main lines were read by hand; the one missed, 748430 light, read "Petrova" for Irina Petrova).

Frames are drawn in process by the emulated camera's picture of the bench a seed makes, the screen found and
rectified as ``robot://`` does. Before, a camera's soft lines went wrong two ways: a bold name read 1.8 times
larger made blurred letters "panels" OCR turned over ("Dentist" read "De: st", "Microsoft account" "account",
"Dave Jones" nothing), and every line was taken for a dim one, as no blurred line reaches the big title's
contrast (842483 light: no calendar entry at all). Then the glare: it takes contrast from every line under it,
so no one level told Outlook's senders from their subjects (842483 dark: Bob Smith, Windows Phone Store and
Irina Petrova under the glare were taken for subjects; light: those three and Contoso Travel); each line is now
judged against the lines next to it.
"""

from __future__ import annotations

import pytest

from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.flows.app_lists import read_entries
from harness.lab.frames import screen_frames, through_camera
from harness.profiles import load_profile
from harness.vision import ScreenLibrary
from harness.vision.ocr import normalise as words, similarity

SEEDS = (842483,)
#: What the emulator's People and Calendar show (its demo data), as a person reads it.
SHOWN = {"people": ("Bob Smith", "Carol White", "Dave Jones", "Irina Petrova"),
         "calendar": ("Dentist", "Team offsite", "Flight to Lisbon"),
         "mail": ("Contoso Travel", "Bob Smith", "Windows Phone Store", "Irina Petrova", "Outlook.com Team",
                  "Fabrikam Bank", "Dave Jones", "Xbox")}
LIBRARY = ScreenLibrary.load_default()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_entry_of_people_and_calendar_is_read_on_camera_frames(theme: str) -> None:
    profile = load_profile("lumia-930")
    pages = dict(screen_frames(profile.name, theme, screens=tuple(SHOWN)))
    problems = []
    for seed in SEEDS:
        view = view_of(placement_of(place(profile, seed)), seed, SIZES["1280x720"])
        for screen, names in SHOWN.items():
            shot = through_camera(view.frame(pages[screen]), profile.width, profile.height)
            rec = LIBRARY.classify(shot)[0]
            if rec is None or rec.screen != screen:
                problems.append(f"seed {seed} {screen}: seen as {rec.screen if rec else 'unknown'}")
                continue
            read = [e.title for e in read_entries(rec)]
            missing = [n for n in names if not any(similarity(words(n), words(t)) >= 0.85 for t in read)]
            if missing:
                problems.append(f"seed {seed} {screen}: {missing} not read (read {read})")
    assert not problems, "; ".join(problems)


#: The subjects of the inbox's first screenful (the emulator's demo mail), as a person reads them.
SUBJECTS = ("Check in now", "Re: Lunch on Friday?", "Your receipt", "Photos from the hike", "Welcome to Outlook.com",
            "Your statement is ready", "Book club: December pick", "New achievements unlocked")


@pytest.mark.parametrize("profile_name, seeds", [("lumia-930", (842483, 21)), ("lumia-630", (21, 22))])
def test_mail_subjects_are_read_whole_on_camera_frames(profile_name: str, seeds: tuple[int, ...]) -> None:
    """A soft subject line (by its list's edges or its own: a 480-wide page's list may measure sharp) is read every
    way the field reader reads one, and the reading most agree on is kept: read once, a camera's dim line lost a
    word or a letter ("Your" for "Your receipt", "Weicome"). Dark theme, subjects read exactly before -> now:
    lumia-930 benches 842483 and 21: 5, 8 -> 8, 8; lumia-630 benches 21 and 22: 5, 7 -> 8, 8 (four benches, four
    profiles, both themes: 156 -> 193 of 256; a light page under heavy glare, 842483, still reads 1 or 2 of 8)."""
    profile = load_profile(profile_name)
    (_, page), = screen_frames(profile.name, "dark", screens=("mail",))
    problems = []
    for seed in seeds:
        view = view_of(placement_of(place(profile, seed)), seed, SIZES["1280x720"])
        rec = LIBRARY.classify(through_camera(view.frame(page), profile.width, profile.height))[0]
        assert rec is not None and rec.screen == "mail", f"seed {seed}: seen as {rec.screen if rec else 'unknown'}"
        read = [e.sub for e in read_entries(rec)]
        missed = [s for s in SUBJECTS if words(s) not in {words(r) for r in read}]
        if len(missed) > 1:
            problems.append(f"seed {seed}: {missed} not read whole (read {read})")
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("frame, screen", [("mail-630-light-305080.webp", "mail"),
                                           ("people-630-light-305080.webp", "people")])
def test_a_camera_frame_whose_list_measures_sharp_is_read_as_a_camera_s(frame: str, screen: str) -> None:
    """A 480-wide page's list region may measure sharp through the camera, and its lines were then judged dim or
    bright by the title's contrast alone: under glare Bob Smith, Windows Phone Store and Irina Petrova were taken
    for subjects and dropped (``harness sync --handset robot://``, lumia-630 light, bench 305080: 2 of 4 contacts).
    A frame is a camera's by its title's edges (``camera_frame``). The frames that run saved (lossless WebP)."""
    from pathlib import Path

    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(Path(__file__).parent / "frames" / frame).convert("RGB"))
    rec = LIBRARY.classify(image)[0]
    assert rec is not None and rec.screen == screen
    read = [e.title for e in read_entries(rec)]
    missing = [n for n in SHOWN[screen] if not any(similarity(words(n), words(t)) >= 0.85 for t in read)]
    assert not missing, f"{missing} not read (read {read})"
