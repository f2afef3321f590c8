"""The on-screen keyboard found on rectified camera frames: random bench seeds (printed), both themes.

The frames are drawn in process by the emulated camera's picture of the bench a seed makes (tilt, distance,
lens, uneven light, glare, noise, blur, JPEG, the stylus hovering over the phone), rectified through the
screen's corners as ``robot://`` does through its calibration's. Whether the keys found are the right ones is told by the emulated phone
itself: each key planned for a text is tapped at its centre on the phone, and the field must then hold the
text (the page and shift state found are checked the same way, by what the phone does).
"""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from harness.camera.rectify import homography, normalise, rectify
from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.bench import place
from harness.emulator.camera_device import placement_of, view_of
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.profiles import load_profile
from harness.vision.keyboard import find_keyboard, keyboard_shown

#: 192155: a glare spot over the light keyboard's middle left one gap of its third row where the layout puts
#: them (the shifted page was not found); 122037: glare saturated the light keys and their band alike over all
#: but the left fifth of the keyboard (no gaps there, only the keys' labels; with shift up, the blue shift key
#: hid the row gap above it too); two more at random.
SEEDS = [192155, 122037, *random.SystemRandom().sample(range(10**6), 2)]
#: Both pages and shift: capitals, digits, symbols, a full stop.
TEXT = "Ab@x9.Q"


@pytest.fixture(scope="module", autouse=True)
def _ocr() -> None:
    ocr = pytest.importorskip("harness.vision.ocr")
    try:
        ocr.read_text(np.zeros((40, 120, 3), np.uint8))
    except ocr.OcrUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_keys_found_on_camera_frames_type_a_text_on_random_benches(theme: str) -> None:
    print(f"bench seeds {SEEDS}")
    profile = load_profile("lumia-930")
    sms = SmsNetwork()
    phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme))
    phone.start(instant=True)
    try:
        for seed in SEEDS:
            placement = placement_of(place(profile, seed))
            view = view_of(placement, seed)
            centre = np.mean(placement.body, axis=0)
            # the screen's corners as a slot's calibration holds them (robot:// rectifies through those)
            h = homography(view.screen_corners(), profile.width, profile.height)

            def shot() -> np.ndarray:
                stylus = (centre[0] + 8, centre[1] + 30, placement.glass_z + 20)  # hovering over the page
                rgb = cv2.cvtColor(view.frame(np.asarray(phone.frame().convert("RGB")), stylus), cv2.COLOR_BGR2RGB)
                return normalise(rectify(rgb, h, profile.width, profile.height))  # noqa: B023

            phone.goto("account_email")
            assert not keyboard_shown(shot()), f"seed {seed}: a keyboard before a field was tapped"
            phone.ui.tap("field:email")
            board = find_keyboard(shot())
            assert board is not None and (board.page, board.shifted) == ("letters", False), f"seed {seed}: {board}"
            for key in board.plan(TEXT):
                phone.tap(*key.center)
            assert phone.ui.fields.get("email") == TEXT, f"seed {seed} {theme}: typed {phone.ui.fields.get('email')!r}"
            phone.tap(*board.key("shift").center)
            shifted = find_keyboard(shot())
            assert shifted is not None and (shifted.page, shifted.shifted) == ("letters", True), f"seed {seed}"
            phone.tap(*shifted.key("mode").center)
            symbols = find_keyboard(shot())
            assert symbols is not None and symbols.page == "symbols", f"seed {seed}"
            phone.keyevent(4)  # back: the keyboard goes
            assert not keyboard_shown(shot()), f"seed {seed}: a keyboard after the back key"
    finally:
        phone.close()
