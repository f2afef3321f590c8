"""Calibration sees a touch only by its effect: the page changes in a glance at the camera's picture of the screen.

Set-up's first pages (welcome, terms, settings) are pages of text that differ in their words. A glance at a
quarter of the phone's pixels was 120 px wide on a 480x800 Lumia 520 (and 630): shrunk further to compare, the
pages differed by nothing, so the touch search tapped twice (welcome -> terms -> settings), the back key
"brought the page back" to terms, and the verifying tap changed "nothing" (bench_calibration on lumia-520: 4 of
4 seeds failed so, both themes). A glance is now sized by the page's own unit (view pixels), as on the 930.

Frames are the emulated camera's picture of a bench seed's slot, drawn in process with the stylus hovering over
'next' as the touch search holds it, the screen found and glanced at as ``harness calibrate`` does.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from harness.camera import find_screen, homography
from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.lab.frames import screen_frames
from harness.profiles import load_profile
from harness.robot.screen_change import changed_share, glance, looks_changed

PAGES = ("setup_welcome", "setup_terms", "setup_settings")
SEED = 257754  # a lumia-520 slot that failed to calibrate so (the others alike)


@pytest.mark.parametrize("profile_name,theme", [("lumia-520", "dark"), ("lumia-520", "light")])
def test_a_glance_tells_setups_pages_apart_and_a_page_from_itself_not(profile_name: str, theme: str) -> None:
    profile = load_profile(profile_name)
    view = view_of(placement_of(place(profile, SEED)), SEED, SIZES["1280x720"])
    tl, tr, _, bl = (np.asarray(p, np.float64) for p in view.placement.screen)
    over_next = tl + 0.5 * (tr - tl) + 0.93 * (bl - tl)  # 'next', at the bottom of set-up's pages
    stylus = (float(over_next[0]), float(over_next[1]), view.placement.glass_z + 17.0)
    looks: dict[str, list[np.ndarray]] = {}
    for name, page in screen_frames(profile_name, theme, screens=PAGES):
        frames = [cv2.cvtColor(view.frame(page, stylus), cv2.COLOR_BGR2RGB) for _ in range(2)]
        corners = find_screen(frames[0], profile.width / profile.height)
        h = homography(corners, profile.width, profile.height)
        looks[name] = [glance(f, h, profile) for f in frames]
    problems = []
    for a, b in itertools.combinations(PAGES, 2):
        if looks_changed(looks[a][0], looks[b][0]) is not True:
            problems.append(f"{a} -> {b} not seen as a change ({changed_share(looks[a][0], looks[b][0]):.4f} changed)")
    for name, (one, two) in looks.items():
        if looks_changed(one, two) is not False:
            problems.append(f"two frames of {name} not seen as the same page ({changed_share(one, two):.4f} changed)")
    assert not problems, f"{profile_name} {theme}, bench seed {SEED}: " + "; ".join(problems)
