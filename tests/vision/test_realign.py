"""Covered frames the matcher used to leave unknown although their page is in full view below the cover (issue 15):
a page framed a few pixels off under a banner (its layout no longer fits where it was recorded: harness.vision.realign),
and a volume overlay whose grey is close to a dark page's black (harness.vision.covers: a faint band over the top).
Wrong screens are never tolerated; targets of a page moved back are where the frame shows them."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from harness.lab.frames import screen_frames
from harness.lab.perturb import shift_by
from harness.vision import ScreenLibrary
from harness.vision.features import Frame

LIBRARY = ScreenLibrary.load_default()
CASES = [("lumia-520", "light"), ("lumia-630", "dark")]


@functools.cache
def _frames(profile: str, theme: str) -> tuple[tuple[str, np.ndarray], ...]:
    return tuple(screen_frames(profile, theme))


def _band(image: np.ndarray, rows: int, grey: int) -> np.ndarray:
    """A notification band of one grey over the top ``rows`` rows with a line of white text, as a person sees one."""
    out = image.copy()
    out[:rows] = grey
    w = out.shape[1]
    cv2.putText(out, "3 missed calls", (w // 20, rows // 2), cv2.FONT_HERSHEY_SIMPLEX, w / 600, (255, 255, 255),
                max(1, w // 320), cv2.LINE_AA)
    return out


@pytest.mark.parametrize("profile,theme", CASES)
def test_a_covered_page_framed_off_is_recognised_where_it_lies(profile: str, theme: str) -> None:
    """Every screen under a grey band over its top sixth, then the whole frame moved 6 pixels right and down:
    most are recognised (each was, unmoved, by its layout below the band) and none is taken for another screen;
    each target below the band lies where the clean frame's target lies, moved by the 6 pixels."""
    named, wrong, off = 0, [], []
    for screen, clean in _frames(profile, theme):
        h = clean.shape[0]
        rec, guess = LIBRARY.classify(shift_by(_band(clean, h // 6, 60), 6, 6))
        if rec is None:
            continue
        if rec.screen != screen:
            wrong.append(f"{screen} taken for {rec.screen} ({guess.why()})")
            continue
        named += 1
        base = LIBRARY.recognize(clean)
        for name, (x, y) in rec.targets.items():
            if base is not None and name in base.targets and base.targets[name][1] > h // 6 + h // 20:  # in view
                bx, by = base.targets[name]
                if abs(x - bx - 6) > 3 or abs(y - by - 6) > 3:
                    off.append(f"{screen}.{name} at ({x:.0f}, {y:.0f}), clean ({bx:.0f}, {by:.0f}) + 6")
    assert not wrong, "; ".join(wrong)
    assert not off, "; ".join(off)
    # 40 of 52 (lumia-520 light) and 43 of 52 (lumia-630 dark) measured; 26 and 27 without moving the page back
    assert named >= 36, f"{profile}/{theme}: {named} of {len(_frames(profile, theme))} recognised"


@pytest.mark.parametrize("grey", [12, 20])
def test_a_band_close_to_a_dark_pages_black_is_a_cover(grey: int) -> None:
    """A volume overlay of grey 12 or 20 over a black page (under COVER_CONTRAST from it) is found as a cover over
    its rows, and no cover is found on the clean pages nor where a camera's glare brightens the top of the frame
    by as much, smoothly."""
    problems = []
    for screen, clean in _frames("lumia-930", "dark"):
        rows = clean.shape[0] // 7
        frame = Frame(_band(clean, rows, grey), bands=LIBRARY.page_bands)
        k = frame.covered.shape[0] / clean.shape[0]
        share = frame.covered[:int(rows * k) - 1].mean()
        if share < 0.95:
            problems.append(f"{screen}: {share:.0%} of the band's rows covered")
        if Frame(clean, bands=LIBRARY.page_bands).any_cover:
            problems.append(f"{screen}: a cover on the clean page")
        glare = clean.astype(np.float32)
        glare[:rows * 2] += np.linspace(grey, 0, rows * 2, dtype=np.float32)[:, None, None]
        if Frame(np.clip(glare, 0, 255).astype(np.uint8), bands=LIBRARY.page_bands).any_cover:
            problems.append(f"{screen}: glare taken for a cover")
    assert not problems, "; ".join(problems)
