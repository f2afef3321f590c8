"""Screens drawn in other fonts under a cover are never taken for another screen of their family (issue 15).

Each case below was a wrong screen in ``benchmarks/bench_fonts.py`` (seed 1, overlays alone, 8 faces) before
``harness.vision.contest``: a screen was taken on a title or a paragraph that in another font fitted it no better
than the screen shown (calendar's "agenda" in Lato for messaging's "chats"), or on its layout alone while another
page laid out alike fitted as well (account_email under the volume overlay for account_password). The frame must
now be its own screen or unknown. The random test draws a few more frames of random faces, screens and covers
(its seed printed) and holds them to the same rule.
"""

from __future__ import annotations

import random

import pytest

from harness.emulator.ui import SCREENS
from harness.lab.frames import FONTS, MORE_FONTS, screen_frames
from harness.lab.perturb import OVERLAYS, PAIRS, apply, frame_rng
from harness.profiles import load_all
from harness.vision import ScreenLibrary

LIBRARY = ScreenLibrary.shared()
#: seed/font/profile/theme/screen/perturbation -> the screen it was taken for before
WRONG_BEFORE = {
    "1/dejavu-sans/lumia-1320/light/setup_terms/banner": "phone_update",
    "1/dejavu-sans/lumia-520/dark/setup_terms/banner": "phone_update",
    "1/dejavu-sans/lumia-520/dark/account_email/volume": "account_password",
    "1/open-sans/lumia-520/dark/account_email/volume": "account_password",
    "1/lato/htc-8x/dark/calendar/finger": "messaging",
    "1/lato/lumia-520/light/calendar/finger": "messaging",
    "1/nimbus-sans/lumia-1320/light/calendar/finger": "messaging",
    "1/nimbus-sans/lumia-520/dark/wrong_password/volume": "unknown_account",
    "1/nimbus-sans/lumia-630/light/wrong_password/banner": "unknown_account",
    "1/nimbus-sans/lumia-630/light/reset_done/banner": "about",
    "1/nimbus-sans/lumia-630/light/reset_done/volume": "about",
    # (bench_fonts seed 2, pairs) a page alike to account_password's below the cover, fitting it less well (0.88, 0.97)
    "2/bundled/lumia-630/dark/two_step_code/banner+volume": "account_password",
    # (seed 3) a finger over "signing in": OCR read "sign in", account_email's title, where the cover cut the words
    "3/lato/lumia-520/dark/signing_in/finger": "account_email",
    # (seed 8, overlay pairs) the volume overlay over the title, a finger beside the paragraph: in Cantarell
    # wrong_password's own paragraph read 0.68 closer, unknown_account's 0.73 there, and their pages fit alike
    "8/cantarell/lumia-630/dark/wrong_password/finger+volume": "unknown_account",
    # (seed 9) a banner over the header: phone_update taken on its anchor in view (0.72), its page fitting 0.66 to 0.92
    "9/dejavu-sans/lumia-630/light/sign_in_again/banner": "phone_update",
    # (seeds 2 and 10, pairs) a finger over the paragraph: moved back 9 px to fit messaging's page (0.82 as it came,
    # messaging_no_account's 0.93), messaging was named on its page alone (0.95-0.98)
    "2/dejavu-sans/lumia-520/light/messaging_no_account/banner+finger": "messaging",
    "10/dejavu-sans/lumia-630/light/messaging_no_account/finger+volume": "messaging",
    # (seed 10, h-wrong) a finger along the right margin: the page's light was taken from it and the frame was all
    # cover (unknown); once it was not, settings_applications (no page compared) was named on "applications"
    # fitting "restore from a" (0.71), the rest of that title under the finger, restore_backup's page fitting 0.94
    "10/open-sans/lumia-630/light/restore_backup/finger": "settings_applications",
}
FACES = [f for f in [*FONTS, *MORE_FONTS] if f != "bundled"]
COVERS = [*OVERLAYS, *(p for p in PAIRS if set(p.split("+")) & set(OVERLAYS))]
RANDOM_FRAMES = 10


def _answer(key: str) -> tuple[str, str | None, str]:
    seed, font, profile, theme, screen, kind = key.split("/")
    (_, clean), = screen_frames(profile, theme, font, screens=(screen,))
    rec, guess = LIBRARY.classify(apply(clean, kind, frame_rng(seed, font, profile, theme, screen, kind)))
    return screen, rec.screen if rec else None, guess.why()


def test_screens_once_taken_for_another_of_their_family_are_not() -> None:
    wrong = []
    for key, before in WRONG_BEFORE.items():
        screen, answer, why = _answer(key)
        if answer not in (None, screen):
            wrong.append(f"{key} taken for {answer} (before: {before}; {why})")
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("seed", [pytest.param(random.SystemRandom().randrange(1 << 30), id="random")])
def test_random_faces_screens_and_covers_are_never_a_wrong_screen(seed: int) -> None:
    print(f"seed {seed}")
    pick = random.Random(seed)
    profiles = [p.name for p in load_all()]
    wrong = []
    for _ in range(RANDOM_FRAMES):
        key = "/".join([str(seed), pick.choice(FACES), pick.choice(profiles), pick.choice(["dark", "light"]),
                        pick.choice(SCREENS), pick.choice(COVERS)])
        screen, answer, why = _answer(key)
        if answer not in (None, screen):
            wrong.append(f"{key} taken for {answer} ({why})")
    assert not wrong, f"seed {seed}: " + "; ".join(wrong)
