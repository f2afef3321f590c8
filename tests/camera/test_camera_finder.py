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
    assert not wrong, f"{len(wrong)} of {len(pages)} frames: " + "; ".join(wrong)


#: Profiles with a body (they can lie on a robot's bed): bezels, keys and screens of other sizes and shapes.
BODIED = ("lumia-930", "lumia-520", "lumia-630", "lumia-920", "lumia-1320", "htc-8x")


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_stylus_over_the_bezel_s_corners_and_edges_pulls_no_edge_of_the_screen(theme: str) -> None:
    # the tip's disc and shadow over the outline's corner bulged the body's outline and tilted one fitted edge by
    # up to 27 px (59 of ~155 frames 3-8 mm in from a corner, 0-20 mm up); 179646 is the seed that missed in a
    # full run, the others fresh (seed, profile and screen printed)
    rng = random.SystemRandom()
    cases = [(179646, "lumia-930", "whats_new")] + [(rng.randrange(10**6), rng.choice(BODIED),
                                                     rng.choice(("setup_welcome", "account_password", "start")))
                                                    for _ in range(2)]
    print(f"bench seeds, profiles, screens: {cases}")
    wrong, worst = [], 0.0
    for seed, name, screen in cases:
        profile = load_profile(name)
        placement = placement_of(place(profile, seed))
        view = view_of(placement, seed)
        (_, page), = screen_frames(name, theme, screens=(screen,))
        quality = random.Random(f"jpeg/{seed}").randint(72, 88)
        body = np.asarray(placement.body, np.float64)
        centre = body.mean(axis=0)
        spots = []
        for corner in body:  # 3-8 mm in from each corner along its diagonal, touching or up to 20 mm above
            inward = (centre - corner) / np.linalg.norm(centre - corner)
            spots.append((corner + inward * rng.uniform(3.0, 8.0), rng.choice((0.0, 5.0, 10.0, 20.0))))
        for k in range(2):  # on a long and a short edge, anywhere along it, up to 3 mm either side
            a, b = body[k], body[k + 1]
            inward = centre - (a + b) / 2
            spots.append((a + (b - a) * rng.uniform(0.05, 0.95) + inward / np.linalg.norm(inward) * rng.uniform(-3, 3),
                          rng.choice((0.0, 5.0, 20.0))))
        for (x, y), height in spots:
            frame = view.frame(page, (float(x), float(y), placement.glass_z + height))
            jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
            rgb = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            where = f"seed {seed} {name} {screen} stylus ({x:.1f}, {y:.1f}) +{height:g} mm"
            try:
                error = float(np.linalg.norm(find_screen(rgb, profile.width / profile.height) - view.screen_corners(),
                                             axis=1).max())
            except ScreenNotFound as exc:
                wrong.append(f"{where}: {exc}")
                continue
            worst = max(worst, error)
            if error >= CORNER_TOLERANCE:
                wrong.append(f"{where}: corners {error:.1f} px off")
    print(f"worst corner error {worst:.2f} px")
    assert not wrong, f"{len(wrong)} of {6 * len(cases)} frames: " + "; ".join(wrong)
