"""Recognition on frames the library was not recorded from (issue 15): every screen, profile and theme under
seeded perturbations (harness.lab.perturb), each alone and two at a time; the screens drawn with other fonts
(Open Sans held out); and frames that are no screen. A wrong screen is never acceptable; an unknown frame is
(too little of the screen visible), down to a floor per group that holds today. The full table is
``benchmarks/bench_vision.py --perturbations``; here each group sees every screen of every profile once, in
one of the themes, under one of its perturbations picked with a fixed seed, so that the run stays bounded."""

from __future__ import annotations

import functools
import random
import zlib
from collections import Counter

import numpy as np
import pytest

from harness.emulator.ui import SCREENS
from harness.lab.frames import HELD_OUT_FACES, non_screen, screen_frames
from harness.lab.perturb import ORDERED, OVERLAYS, PAIRS, apply
from harness.profiles import load_all
from harness.vision import ScreenLibrary

from covered_frames import judge_covered

LIBRARY = ScreenLibrary.load_default()
PROFILES = [p.name for p in load_all()]
THEMES = ("dark", "light")
PAGE = [k for k in ORDERED if k not in OVERLAYS]
#: group -> (its perturbations, the share of frames that must be recognised; measured on 52 screens with the matcher of
#: 14ae657 (layouts + title OCR on ties; lead, 2026-11-26), rounded down: raise a floor when the matcher gets better)
GROUPS = {
    "page alone": (PAGE, 0.95),       # 100% and 99.4% (the two halves of the profiles)
    "page pairs": ([p for p in PAIRS if not set(p.split("+")) & set(OVERLAYS)], 0.95),  # 100%, 100%
    # overlays: 79% for profiles-0 once a screen must be told apart from its nearest rivals (h-fonts,
    # harness.vision.contest), back over 80% with a page framed off looked at where it lies (harness.vision.realign)
    # and faint bands found as covers (h-recall, 2026-11-27): the 0-wrong rule outranks recall; 0.82 with text
    # anchors read under a cover (harness.vision.anchor_text; h-fonts, 2026-11-27: pairs 83.3%, 85.9%)
    "overlay alone": (list(OVERLAYS), 0.82),  # 83.3%, 87.2% (banner 41/56 and 49/56, volume 40/51 and 41/53)
    "overlay pairs": ([p for p in PAIRS if set(p.split("+")) & set(OVERLAYS)], 0.82),  # 83.3%, 85.9%
}
#: font -> share of every screen (clean, any profile and theme) recognised with that face: 100% of 624 clean frames
#: each (every screen, profile and theme; h-fonts, 2026-11-26), one miss of 52 allowed here (two of 52 for the held-out
#: faces, Open Sans and Roboto, never tuned on). Two screens alike but for their titles' words are told apart by the
#: OCR of titles.
FONT_FLOORS = {"liberation-sans": 0.97, "dejavu-sans": 0.97, **dict.fromkeys(HELD_OUT_FACES, 0.95)}


@functools.cache
def _frames(profile: str, theme: str, font: str = "bundled") -> tuple[tuple[str, np.ndarray], ...]:
    return tuple(screen_frames(profile, theme, font))


def _verdicts(frames, kinds: list[str], seed: str, where: str):  # type: ignore[no-untyped-def]
    """(where, screen, kind, answer) for each (screen, frame) under one of ``kinds`` picked with ``seed``."""
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    pick = random.Random(seed)
    for screen, clean in frames:
        kind = pick.choice(kinds)
        yield where, screen, kind, LIBRARY.classify(apply(clean, kind, rng))


def _tally(verdicts) -> tuple[float, dict[str, str], list[str]]:  # type: ignore[no-untyped-def]
    """Share recognised, recognised/seen per perturbation, and the wrong screens (none is ever tolerated)."""
    wrong, right, seen = [], Counter(), Counter()
    for where, screen, kind, (rec, guess) in verdicts:
        seen[kind] += 1
        right[kind] += rec is not None and rec.screen == screen
        if rec is not None and rec.screen != screen:
            wrong.append(f"{where}: {screen} under {kind} taken for {rec.screen} ({guess.why()})")
    return sum(right.values()) / max(1, sum(seen.values())), {k: f"{right[k]}/{seen[k]}" for k in sorted(seen)}, wrong


@pytest.mark.parametrize("half", [0, 1], ids=["profiles-0", "profiles-1"])
@pytest.mark.parametrize("group", list(GROUPS))
def test_every_screen_profile_and_theme_under_perturbations(group: str, half: int) -> None:
    """Each group sees every screen of every profile once (this half of the profiles here, the other in the
    other test), in the dark theme for one half of the screens and the light for the other, swapped from one
    group to the next: over the groups every screen, profile and theme is seen."""
    kinds, floor = GROUPS[group]
    g = list(GROUPS).index(group)
    verdicts = []
    for p in range(half, len(PROFILES), 2):
        for t, theme in enumerate(THEMES):
            frames = [f for s, f in enumerate(_frames(PROFILES[p], theme)) if (p + s + g + t) % 2 == 0]
            verdicts += _verdicts(frames, kinds, f"{group}/{PROFILES[p]}/{theme}", f"{PROFILES[p]}/{theme}")
    rate, per_kind, wrong = _tally(verdicts)
    assert not wrong, "; ".join(wrong)
    assert rate >= floor, f"{group}, profiles {PROFILES[half::2]}: {rate:.0%} recognised, floor {floor:.0%}: {per_kind}"


@pytest.mark.parametrize("font", list(FONT_FLOORS))
def test_screens_drawn_with_another_font(font: str) -> None:
    """The library was recorded with the bundled font; the same screens drawn with another face are recognised
    (or unknown), never taken for another screen. Each screen is drawn on a profile and theme picked by seed."""
    pick = random.Random(font)
    drawn: dict[tuple[str, str], list[str]] = {}  # (profile, theme) -> the screens drawn there
    for screen in SCREENS:
        drawn.setdefault((pick.choice(PROFILES), pick.choice(THEMES)), []).append(screen)
    verdicts = []
    for (profile, theme), screens in drawn.items():  # only the frames asked for: not every screen in every face
        verdicts += _verdicts(screen_frames(profile, theme, font, screens=tuple(screens)), ["clean"], font,
                              f"{profile}/{theme}")
    rate, _, wrong = _tally(verdicts)
    assert not wrong, "; ".join(wrong)
    assert rate >= FONT_FLOORS[font], f"{font}: {rate:.0%} recognised, floor {FONT_FLOORS[font]:.0%}"


def test_random_non_screens_are_unknown() -> None:
    """Noise, flat colours, blurred blotches, boxes, other apps' text pages (some perturbed): none is a screen."""
    rng = np.random.default_rng(15)
    named = []
    for k in range(60):
        image = non_screen(rng, k)
        rec = LIBRARY.recognize(image)
        if rec is not None:
            named.append(f"non-screen {k} ({image.shape[1]}x{image.shape[0]}, kind {k % 6}) taken for {rec.screen}")
    assert not named, "; ".join(named)


#: Pages whose header and title a volume overlay or a banner (and a 6-pixel shift) hides, each of which was taken,
#: before the rule of harness.vision.rivals, for a screen seen by one anchor below the cover with a page that fitted
#: less well (account_email, reset_choose, wrong_password, signing_in): (profile, theme, screen, perturbation)
COVERED = [("htc-8x", "dark", "two_step_code", "volume+shift"), ("lumia-630", "light", "two_step_code", "volume+shift"),
           ("lumia-520", "light", "two_step_code", "volume+shift"), ("htc-8x", "dark", "music_no_account", "banner+shift"),
           ("lumia-1320", "light", "music_no_account", "volume+shift"), ("lumia-1320", "light", "store_app", "volume+shift"),
           ("lumia-1320", "dark", "store_app", "banner+shift"), ("lumia-520", "light", "phone_update", "banner+shift")]


def test_a_covered_page_is_never_taken_for_a_screen_seen_by_one_anchor() -> None:
    """When a cover hides a page's header and title, the page's own screen has no anchor left to say so; a screen
    with one anchor visible below the cover and a page that fits less well must not be taken for it (unknown, or
    the page's own screen). Each case once per theme and both overlays, its seed fixed."""
    wrong = []
    for profile, theme, screen, kind in COVERED:
        for t in THEMES:
            (_, clean), = screen_frames(profile, t, screens=(screen,))
            for k in {kind, kind.replace("volume", "banner"), kind.replace("banner", "volume")}:
                rng = np.random.default_rng(zlib.crc32(f"{profile}/{t}/{screen}/{k}/0".encode()))
                rec, guess = LIBRARY.classify(apply(clean, k, rng))
                if rec is not None and rec.screen != screen:
                    wrong.append(f"{profile}/{t}/{screen} under {k} taken for {rec.screen} ({guess.why()})")
    assert not wrong, "; ".join(wrong)


#: (profile, theme, view pixels from the top that a flat grey cover reaches, screens): a cover over the header that
#: reaches into the title's row, over its top margin and the tops of its letters. Each page listed was unknown while
#: an anchor more than 5% covered counted as hidden; the visible part of it is now compared (harness.vision.partial).
PART_COVERED = [("lumia-520", "light", 80, ("settings", "email_accounts", "outlook_signin", "people", "store")),
                ("lumia-930", "dark", 86, ("settings", "store")), ("htc-8x", "light", 86, ("settings", "store")),
                ("lumia-1320", "dark", 92, ("settings", "store"))]


def test_a_title_covered_in_part_is_matched_by_its_visible_part() -> None:
    """Every screen under such a cover is its own screen or unknown, never another; the pages listed are
    recognised by what shows of their titles."""
    wrong, missed = [], []
    for profile, theme, reach, screens in PART_COVERED:
        for screen, clean in _frames(profile, theme):
            judge_covered(LIBRARY, clean, screen, reach, f"{profile}/{theme}", screen in screens, wrong, missed)
    assert not wrong, "; ".join(wrong)
    assert not missed, "; ".join(missed)


#: (profile, theme, screen, perturbation, seed of its random generator): a banner leaves little of the page in view
#: but blank rows and the application bar; setup_done's page fitted that nearly blank part at 0.96 and was taken on
#: its layout alone (a wrong screen before the layout's contrast counted), as reset_choose's did for calendar when
#: its [[ignore]] rows (the account's phone and e-mail) were in. With those rows, two_step_code under the volume
#: overlay was taken for reset_choose (0.79, one anchor and a page that fits without its data rows): they stay out.
LEFT_BLANK = [("lumia-520", "dark", "calendar", "banner", 4), ("lumia-630", "dark", "calendar", "banner", 4),
              ("lumia-630", "light", "calendar", "banner", 4),
              ("lumia-630", "light", "mail", "banner", zlib.crc32(b"0/lumia-630/light/mail/banner")),
              ("lumia-630", "light", "two_step_code", "volume+shift",
               zlib.crc32(b"0/lumia-630/light/two_step_code/volume+shift"))]


def test_a_page_a_cover_leaves_nearly_blank_is_not_taken_on_another_pages_layout() -> None:
    wrong = []
    for profile, theme, screen, kind, seed in LEFT_BLANK:
        (_, clean), = screen_frames(profile, theme, screens=(screen,))
        rec, guess = LIBRARY.classify(apply(clean, kind, np.random.default_rng(seed)))
        if rec is not None and rec.screen != screen:
            wrong.append(f"{profile}/{theme}/{screen} under {kind} (seed {seed}) taken for {rec.screen} ({guess.why()})")
    assert not wrong, "; ".join(wrong)
