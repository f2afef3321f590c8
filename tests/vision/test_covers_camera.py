"""A camera's uneven light is no cover, and what does lie over the page still is, on rectified camera frames:
bench seed 842483 (its light-theme Start was taken for 65% cover: the vignette darkened the side margins the
page background is read from, and the tiles looked like a cover reaching the edge) and 296492, both themes.

Frames are drawn in process by the emulated camera's picture of the bench a seed makes (tilt, distance, lens,
vignette, a glare spot, noise, blur, JPEG), the screen found and rectified as ``robot://`` does, then evened out.
A banner is drawn on the phone's own screen, so the camera sees it as it sees the page. Evening out a dark page's
light takes a large banner for the floor and leaves its top rows only ~22 grey levels over the page, so most, not
all, of its rows are found: on 296492 dark setup_welcome 68-100% from one frame to the next (sensor noise), on one
frame each of 11 other seeds (46 frames) 93-100%, though 897414 dark once gave 68%; the old rule found 5-34%.
"""

from __future__ import annotations

import cv2
import pytest

from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.lab.frames import screen_frames, through_camera
from harness.profiles import load_profile
from harness.vision import ScreenLibrary
from harness.vision.features import Frame

SEEDS = [842483, 296492]
#: Share of the banner's rows that must be covered.
BANNER_FOUND = 0.5
#: Start (tiles near both margins) and a page with a button low down (glare between it and the bottom edge).
SCREENS = ("start", "setup_welcome")
LIBRARY = ScreenLibrary.load_default()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_uneven_light_is_no_cover_and_a_banner_still_is(theme: str) -> None:
    profile = load_profile("lumia-930")
    pages = dict(screen_frames(profile.name, theme, screens=SCREENS))
    problems = []
    for seed in SEEDS:
        view = view_of(placement_of(place(profile, seed)), seed, SIZES["1280x720"])
        for name, page in pages.items():
            where = f"seed {seed} {theme} {name}"
            shot = through_camera(view.frame(page), profile.width, profile.height)
            frame = Frame(shot, bands=LIBRARY.page_bands)
            if frame.any_cover:
                problems.append(f"{where}: {frame.covered.mean():.0%} of the clean page taken for a cover")
            rec, guess = LIBRARY.classify(shot)
            if rec is None or rec.screen != name:
                problems.append(f"{where}: {rec.screen if rec else 'unknown'} ({guess.why()})")
            bannered = page[..., :3].copy()
            rows = profile.height // 7
            bannered[:rows] = (70, 90, 160) if theme == "dark" else (40, 40, 48)
            cv2.putText(bannered, "3 missed calls", (profile.width // 20, rows // 2), cv2.FONT_HERSHEY_SIMPLEX,
                        profile.width / 500, (255, 255, 255), max(1, profile.width // 300), cv2.LINE_AA)
            covered = Frame(through_camera(view.frame(bannered), profile.width, profile.height),
                            bands=LIBRARY.page_bands)
            k = covered.covered.shape[0] / profile.height
            share = covered.covered[:int(rows * k * 0.9)].mean()  # the banner's rows (its blurred lower edge aside)
            if share < BANNER_FOUND:
                problems.append(f"{where}: a banner over the top {share:.0%} covered")
    assert not problems, "; ".join(problems)
