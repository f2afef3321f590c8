"""Text fields and buttons of the sign-in pages found on rectified camera frames: random bench seeds (printed),
both themes.

Frames are drawn in process by the emulated camera's picture of the bench a seed makes (tilt, distance, lens,
uneven light, a glare spot, noise, blur, JPEG, the stylus hovering over the phone where the seed puts it),
rectified through the screen's corners as ``robot://`` does through its calibration's. Where each target was
found is judged by the emulated phone's own layout: the widget its tap point falls on must be that target
(a field's label washed out by glare once put ``field:email`` 90 px too low, or nowhere, and the robot's
sign-in failed there).
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
from harness.lab.record_screens import show_screen
from harness.profiles import load_profile
from harness.vision import find_target
from harness.vision.matcher import ScreenLibrary

#: 160880 and 842483: glare over the e-mail field's dim label (light theme) put the field 90 px too low, or
#: found none; one more at random.
SEEDS = [160880, 842483, random.SystemRandom().randrange(10**6)]
#: Frames not recognised allowed per run: 1 of 200 light-theme frames over 40 seeds was not (968696,
#: two_step_code, before and after the field change); a target is judged only on a recognised frame.
UNKNOWN_FLOOR = 1
#: The pages of the sign-in flows with a text field, and their buttons.
SCREENS = ("account_email", "account_password", "two_step_code", "outlook_signin", "reset_password")


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_fields_and_buttons_are_tapped_on_themselves_on_camera_frames(theme: str) -> None:
    print(f"bench seeds {SEEDS}")
    profile = load_profile("lumia-930")
    library = ScreenLibrary.shared()
    sms = SmsNetwork()
    phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme))
    phone.start(instant=True)
    missed: list[str] = []
    unknown: list[str] = []
    try:
        for seed in SEEDS:
            placement = placement_of(place(profile, seed))
            view = view_of(placement, seed)
            h = homography(view.screen_corners(), profile.width, profile.height)
            body = np.asarray(placement.body)
            rng = random.Random(seed)
            for screen in SCREENS:
                show_screen(phone, screen)
                # the stylus hovers where the seed puts it over the phone, as after a tap
                x, y = (rng.uniform(lo, hi) for lo, hi in zip(body.min(axis=0), body.max(axis=0)))
                raw = view.frame(np.asarray(phone.frame().convert("RGB")), (x, y, placement.glass_z + 20))
                shot = normalise(rectify(cv2.cvtColor(raw, cv2.COLOR_BGR2RGB), h, profile.width, profile.height))
                rec, guess = library.classify(shot, profile.scale)
                if rec is None or rec.screen != screen:  # recognition's own floor (issue 15), not this test's
                    unknown.append(f"seed {seed} {screen}: {rec.screen if rec else guess.why()}")
                    continue
                page = phone.ui.page(profile.view_height)
                for target in rec.definition.targets:  # type: ignore[union-attr]
                    if page.widget(target.name) is None:
                        continue  # not on the page in this state
                    try:
                        tx, ty = find_target(rec, target.name)
                    except KeyError:
                        missed.append(f"seed {seed} {screen} {target.name}: not found")
                        continue
                    hit = page.hit(tx / profile.scale, ty / profile.scale)
                    if hit is None or hit.id != target.name:
                        missed.append(f"seed {seed} {screen} {target.name}: ({tx:.0f}, {ty:.0f}) taps "
                                      f"{hit.id if hit else 'nothing'}")
    finally:
        phone.close()
    print(f"{theme}: frames not recognised: {unknown}")
    assert len(unknown) <= UNKNOWN_FLOOR, f"{theme}: frames not recognised: {unknown}"
    assert not missed, f"{theme}: " + "; ".join(missed)
