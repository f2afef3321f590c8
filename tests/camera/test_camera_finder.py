"""The screen found in drawn camera frames and rectified into screenshots the screen library recognises.

Frames are drawn by the emulated camera's picture (a seeded camera tilted up
to 15 degrees, lens distortion, uneven light, glare, noise, blur, a
stylus); the expected corners are the placement's screen corners projected
through that camera, and the expected screen is the one the emulated phone
was put on: neither comes from the finder.
"""

from __future__ import annotations

import random
from functools import lru_cache

import cv2
import numpy as np
import pytest

from harness.camera import CameraScreen, ScreenNotFound, find_screen
from harness.camera.rectify import homography, normalise, rectify
from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.bench import place
from harness.emulator.camera_device import placement_of, view_of
from harness.emulator.camera_view import CameraView, Placement
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.lab.frames import screen_frames
from harness.profiles import load_profile
from harness.vision import ScreenLibrary

SCREENS = ("setup_welcome", "account_password", "settings")
#: Seeds whose cameras are tilted 11.8 and 14.3 degrees, one with the phone's top to the frame's right, one left.
SEEDS = (6, 7)
CORNER_TOLERANCE = 8.0  # camera pixels (the phone's screen is ~850 camera pixels long)


@lru_cache(maxsize=None)
def _screens(theme: str) -> dict[str, np.ndarray]:
    out = {}
    for name, frame in screen_frames("lumia-930", theme):
        if name in SCREENS:
            out[name] = frame
        if len(out) == len(SCREENS):
            break
    return out


@lru_cache(maxsize=None)
def _library() -> ScreenLibrary:
    return ScreenLibrary.load_default()


def _view(seed: int) -> tuple[CameraView, Placement]:
    placement = placement_of(place(load_profile("lumia-930"), seed))
    return view_of(placement, seed), placement


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_screen_is_found_and_its_rectified_frame_recognised(theme: str, seed: int) -> None:
    view, placement = _view(seed)
    assert view.pose.tilt_deg > 10  # the cases this test is for
    truth = view.screen_corners()
    centre = np.mean(placement.body, axis=0)
    for i, (name, screen) in enumerate(_screens(theme).items()):
        # the stylus hovers over the phone in one frame, rests on the glass in another
        stylus = (centre[0] + 12, centre[1] - 20, placement.glass_z + (25.0 if i % 2 else 0.0))
        rgb = cv2.cvtColor(view.frame(screen, stylus), cv2.COLOR_BGR2RGB)
        corners = find_screen(rgb, 1080 / 1920)
        error = np.linalg.norm(corners - truth, axis=1)
        assert error.max() < CORNER_TOLERANCE, f"{name}: corner errors {np.round(error, 1)} px"
        shot = normalise(rectify(rgb, homography(corners, 1080, 1920), 1080, 1920))
        assert shot.shape == (1920, 1080, 3)
        recognition, guess = _library().classify(shot)
        assert recognition is not None and recognition.screen == name, f"{name} in {theme}: {guess.why()}"


def test_the_caller_can_say_where_the_top_points_and_a_camera_screen_uses_given_corners() -> None:
    view, placement = _view(7)
    truth = view.screen_corners()
    rgb = cv2.cvtColor(view.frame(_screens("dark")["settings"]), cv2.COLOR_BGR2RGB)
    # seed 7 puts the phone's top to the frame's left: saying "right" turns the screen upside down
    upside_down = find_screen(rgb, 1080 / 1920, top="right")
    assert np.linalg.norm(upside_down - np.roll(truth, 2, axis=0), axis=1).max() < CORNER_TOLERANCE
    assert np.linalg.norm(find_screen(rgb, 1080 / 1920, top="left") - truth, axis=1).max() < CORNER_TOLERANCE
    screen = CameraScreen("http://127.0.0.1:9/stream.mjpg", load_profile("lumia-930"), screen_corners=truth)
    assert np.allclose(screen.corners, truth)
    # the homography takes the screen's corners in the camera to the screenshot's corners
    assert np.allclose(screen.to_screen(truth), [[0, 0], [1080, 0], [1080, 1920], [0, 1920]], atol=1e-3)
    shot = screen.rectified(rgb)
    recognition = _library().recognize(shot)
    assert recognition is not None and recognition.screen == "settings"


def test_a_frame_without_a_phone_is_a_one_line_error() -> None:
    rng = np.random.default_rng(5)
    desk = np.clip(rng.normal(160, 6, (720, 1280, 3)), 0, 255).astype(np.uint8)
    with pytest.raises(ScreenNotFound) as err:
        find_screen(desk, 1080 / 1920)
    assert "\n" not in str(err.value) and "desk" in str(err.value)
    # a phone whose lit area has another shape than the profile's screen
    view, _ = _view(6)
    rgb = cv2.cvtColor(view.frame(_screens("light")["settings"]), cv2.COLOR_BGR2RGB)
    with pytest.raises(ScreenNotFound, match="aspect"):
        find_screen(rgb, 480 / 1000)


def _keyboard_page(theme: str) -> np.ndarray:
    """The e-mail page with its field focused: the on-screen keyboard up."""
    sms = SmsNetwork()
    phone = EmulatedPhone(load_profile("lumia-930"), AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme))
    phone.start(instant=True)
    try:
        phone.goto("account_email")
        phone.ui.tap("field:email")
        return np.asarray(phone.frame().convert("RGB"))
    finally:
        phone.close()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_screen_is_found_with_the_keyboard_up_and_the_stylus_over_the_phone(theme: str) -> None:
    # 612758: a light page's bezel cut in two by the stylus's shaft and the glare (it failed: 'no edge found on
    # its top, bottom side'); the others fresh, printed
    seeds = [612758] + random.SystemRandom().sample(range(10**6), 5)
    print(f"bench seeds {seeds}")
    pages = [(name, frame) for name, frame in screen_frames("lumia-930", theme)]
    pages.append(("keyboard up", _keyboard_page(theme)))
    rng = random.Random(seeds[1])
    views = {seed: _view(seed) for seed in seeds}
    wrong = []
    for i, (name, page) in enumerate(pages):
        seed = seeds[i % len(seeds)]
        view, placement = views[seed]
        centre = np.mean(placement.body, axis=0)
        # hovering (20 mm up) or touching anywhere over the phone 10 mm in from its outline (over the screen and
        # the keys, where the robot works), or where the shaft crosses the bezel and the glare cuts it
        dx, dy = (8.0, 30.0) if i % 3 == 0 else (rng.uniform(-25, 25), rng.uniform(-55, 55))
        stylus = (centre[0] + dx, centre[1] + dy, placement.glass_z + (20.0 if i % 2 else 0.0))
        rgb = cv2.cvtColor(view.frame(page, stylus), cv2.COLOR_BGR2RGB)
        try:
            error = np.linalg.norm(find_screen(rgb, 1080 / 1920) - view.screen_corners(), axis=1).max()
        except ScreenNotFound as exc:
            wrong.append(f"{name} seed {seed} stylus {np.round(stylus, 1).tolist()}: {exc}")
            continue
        if error >= CORNER_TOLERANCE:
            wrong.append(f"{name} seed {seed} stylus {np.round(stylus, 1).tolist()}: corners {error:.1f} px off")
    # a floor, as the perturbation tests have: 0 of 420 frames missed over 20 seeds (h-calib), then 1 of 53 in a
    # full run (seed 179646, whats_new dark, stylus 10 mm up over the bezel's corner: 'no edge found on its top,
    # bottom side'); more than one miss in a run is the finder going back (14 of 106 without its piece-joining)
    assert len(wrong) <= 1, f"{len(wrong)} of {len(pages)} frames: " + "; ".join(wrong)
    if wrong:
        print(f"missed (within the floor of 1): {wrong[0]}")
