"""A password's marks counted on rectified camera frames as robot:// sees the field after typing (it waits until
the field shows as many marks as keys typed, else the sign-in stops with TextNotTyped).

Under a bench's glare on a light page the marks under the spot are lifted towards the fill: by one fixed contrast
they went uncounted (a random sweep's sign-in typed 12 and saw 8; offline, bench 2's seven marks counted 1-4 on
four profiles, 42 of 48 frames right over four benches). Each pixel is now judged against the darkest ink near
it: 48 of 48, and 96 of 96 on eight more benches.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.lab.frames import through_camera
from harness.profiles import load_profile
from harness.vision import find_target
from harness.vision.field_text import count_marks, field_box
from harness.vision.matcher import ScreenLibrary


@pytest.mark.parametrize("profile_name,seed,password", [("lumia-630", 2, "Pw-2-x!"), ("htc-8x", 222034, "Pw-222034-x!")])
def test_every_mark_of_a_password_is_counted_under_a_light_pages_glare(profile_name: str, seed: int,
                                                                       password: str) -> None:
    profile = load_profile(profile_name)
    sms = SmsNetwork()
    phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme="light"))
    phone.start(instant=True)
    try:
        phone.goto("account_password")
        rec = ScreenLibrary.shared().classify(np.asarray(phone.frame().convert("RGB")), profile.scale)[0]
        assert rec is not None and rec.screen == "account_password"
        point = tuple(int(v) for v in find_target(rec, "field:password"))
        view = view_of(placement_of(place(profile, seed)), seed, SIZES["1280x720"])
        phone.ui.tap("field:password")
        counts = []
        for typed in ("", password):
            phone.ui.text(typed)
            camera = through_camera(view.frame(np.asarray(phone.frame().convert("RGB"))), profile.width,
                                    profile.height)
            box = field_box(camera, point)
            assert box is not None, f"no field at {point}"
            counts.append(count_marks(camera, box))
    finally:
        phone.close()
    assert counts == [0, len(password)], f"counted {counts[0]} marks in the empty field, {counts[1]} of {len(password)}"
