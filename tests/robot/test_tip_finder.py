"""The stylus tip found in drawn camera frames where the emulated camera put it, over a dark and a light page.

Frames are drawn by the emulated camera's picture (a seeded camera over a
seeded placement: tilt, lens, glare, noise, blur, JPEG, the stylus with its
shadow); the truth is the stylus tip's position projected through that
camera, which the finder never sees. The stylus stands 1 mm above the glass
over a 4x4 grid of the screen (as calibration's map is measured), and at the
hover height over a 3x3 spread (as its rough map is), raised 12 mm for the
second view; on a light page the tip is placed to a fraction of a pixel.
Seeds: the one calibration failed on (857523: at the hover height the tip's
shadow lies beside it, and a dark tip over a dark page barely differs from
it) and a random one, printed.
"""

from __future__ import annotations

import random
from functools import lru_cache

import cv2
import numpy as np
import pytest

from harness.emulator.bench import place
from harness.emulator.camera_device import placement_of, view_of
from harness.lab.frames import screen_frames
from harness.profiles import load_profile
from harness.robot.calibration_fit import _disc, _grown_quad
from harness.robot.tip import TipNotFound, find_tip

#: The seed that failed in stop 24, and a fresh one each run. The ids are fixed: pytest-xdist refuses a run whose
#: workers collect different test names, and each worker draws its own random seed (printed by the test).
SEEDS = (pytest.param(857523, id="857523"), pytest.param(random.SystemRandom().randrange(10**6), id="random"))
GRID = (0.1, 0.37, 0.63, 0.9)
SPREAD = (0.15, 0.5, 0.85)
HOVER_Z = -20.0  # calibration's default hover height, machine mm (the glass is 16-19 mm under it)
#: Where a rough map may put the tip (camera px off the truth) and the window searched around it (calibration's).
AIM_ERROR_PX = 25.0


@lru_cache(maxsize=None)
def _welcome(theme: str) -> np.ndarray:
    return next(frame for name, frame in screen_frames("lumia-930", theme) if name == "setup_welcome")


def _errors(seed: int, theme: str, fractions: tuple[float, ...], z: float | None) -> list[float]:
    """How far (camera px) the tip is found from where it was drawn, over ``fractions`` of the screen, at height
    ``z`` (None: 1 mm above the glass)."""
    profile = load_profile("lumia-930")
    bench = place(profile, seed)
    view = view_of(placement_of(bench), seed)
    quality = random.Random(f"jpeg/{seed}").randint(72, 88)
    screen, key = _welcome(theme), object()

    def shot(stylus: tuple[float, float, float]) -> np.ndarray:
        jpeg = cv2.imencode(".jpg", view.frame(screen, stylus, key), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    # the stylus parked at three far corners of the travel, as calibration takes its background
    reference = np.median(np.stack([shot((x, y, -20.0)) for x, y in ((-1, -1), (-149, -1), (-1, -199))]), axis=0)
    reference = reference.astype(np.uint8)
    corners = view.screen_corners()
    region = _grown_quad(reference.shape, corners, 1.6)
    window = 0.2 * max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[3] - corners[0]))
    rng = random.Random(seed)
    errors = []
    height = bench.glass_z + 1.0 if z is None else z
    for fy in fractions:
        for fx in fractions:
            x, y = bench.bed_mm(fx * profile.width, fy * profile.height)
            truth = view.pose.project([(x, y, height)])[0]
            expect = truth + np.array([rng.uniform(-1, 1), rng.uniform(-1, 1)]) * AIM_ERROR_PX
            try:
                tip = find_tip(shot((x, y, height)), shot((x, y, height + 12.0)), reference, 12.0,
                               region & _disc(region.shape, expect, window), "", (float(expect[0]), float(expect[1])))
                errors.append(float(np.hypot(tip.x - truth[0], tip.y - truth[1])))
            except TipNotFound:
                errors.append(float("inf"))
    return errors


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_tip_is_found_where_the_camera_drew_it_just_above_the_glass(seed: int, theme: str) -> None:
    print(f"bench seed {seed}")
    errors = _errors(seed, theme, GRID, None)
    print(f"{theme}: tip errors (camera px):", [round(e, 1) for e in errors])
    # the map is fitted from the views that agree (RANSAC, 6 at least): most must be within a few pixels
    assert float(np.median(errors)) <= 4.0, errors
    assert sum(e <= 6.0 for e in errors) >= 8, errors
    if theme == "light":
        # the dark tip's round outline stands out on a light page: its centre to a fraction of a camera pixel
        # (tip_disc; the drawn centre itself is rounded to a pixel). Medians over 20 seeds 0.27-0.59 px; the
        # run-along-the-shaft finder alone was 0.9-2.7 px (a pixel is ~3 screen pixels)
        assert float(np.median(errors)) <= 1.0, errors


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_tip_not_its_shadow_at_the_hover_height(theme: str) -> None:
    errors = _errors(857523, theme, SPREAD, HOVER_Z)
    print(f"bench seed 857523 {theme}: tip errors at the hover height (camera px):", [round(e, 1) for e in errors])
    # the rough map needs 4 that agree; its shadow or the page's edge was taken for the tip at 6-7 of these 9
    assert sum(e <= 8.0 for e in errors) >= 6, errors


def test_the_tip_not_its_shadow_just_above_a_dark_page() -> None:
    # bench seed 358389 dark: a millimetre over the glass the shadow (offset by the light's slant and by parallax)
    # is as dark as the tip, and the circle fitted to the two together was 2-3 px towards the shadow: median 2.9
    # px before the shadow's side was told from the raised view (tip_shadow), 1.18 after. Over 30 other seeds the
    # dark median per seed was 0.42-1.43 px (0.43-2.90 before)
    errors = _errors(358389, "dark", GRID, None)
    print("bench seed 358389 dark: tip errors (camera px):", [round(e, 1) for e in errors])
    assert float(np.median(errors)) <= 1.6, errors


def test_the_rough_maps_tips_not_the_shafts_far_end() -> None:
    # bench seed 997207 dark (calibration failed on it in CI once, "tips misread"): at the hover height, with no
    # map yet to say where the tip should be, the finder took the far end of the shaft for the tip over
    # (-75, -128) (200-260 camera px off) when the tip's own end was not read in both views. The far end moves
    # the wrong way when the stylus rises (towards its end): it cannot be the tip, and is no longer taken for it
    profile = load_profile("lumia-930")
    view = view_of(placement_of(place(profile, 997207)), 997207)
    screen, key = _welcome("dark"), object()

    def shot(stylus: tuple[float, float, float]) -> np.ndarray:
        jpeg = cv2.imencode(".jpg", view.frame(screen, stylus, key), [cv2.IMWRITE_JPEG_QUALITY, 80])[1]
        return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    reference = np.median(np.stack([shot((x, y, HOVER_Z)) for x, y in ((-1, -1), (-149, -1), (-1, -199))]), axis=0)
    reference = reference.astype(np.uint8)
    region = _grown_quad(reference.shape, view.screen_corners(), 1.6)
    errors = {}
    for dx, dy in ((0, 0), (12, 20), (-12, 20), (12, -20), (-12, -20), (0, 28), (0, -28)):  # calibration's rough points
        x, y = -75.0 + dx, -100.0 + dy
        truth = view.pose.project([(x, y, HOVER_Z)])[0]
        tip = find_tip(shot((x, y, HOVER_Z)), shot((x, y, HOVER_Z + 12.0)), reference, 12.0, region, f"at ({x}, {y})")
        errors[(x, y)] = round(float(np.hypot(tip.x - truth[0], tip.y - truth[1])), 1)
    print("bench seed 997207 dark: rough tips' errors (camera px):", errors)
    assert all(e <= 8.0 for e in errors.values()), errors
