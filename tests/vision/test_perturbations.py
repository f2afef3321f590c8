"""Recognition on frames the library was not recorded from: every screen, profile and theme under seeded
perturbations (harness.lab.perturb), each alone and two at a time, sampled with a fixed seed so that CI
stays short (benchmarks/bench_vision.py runs the full table). A wrong screen is never acceptable; an
unknown frame is, where too little of the screen is visible."""

from __future__ import annotations

import random
import zlib
from collections import Counter

import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.emulator.ui import SCREENS
from harness.lab.perturb import PAIRS, apply
from harness.lab.record_screens import show_screen
from harness.profiles import ACCENTS, load_all
from harness.vision import ScreenLibrary

LIBRARY = ScreenLibrary.load_default()
PROFILES = load_all()
#: What the page itself goes through (a camera, a codec, another panel) and a finger over part of it.
PAGE = ["brightness", "blur", "noise", "jpeg", "shift", "scale", "finger"]
PAGE_PAIRS = [p for p in PAIRS if set(p.split("+")) <= set(PAGE)]
#: A banner or the volume overlay over the top, alone or with one of the above.
OVERLAYS = ["banner", "volume"] + [p for p in PAIRS if p.split("+")[0] in ("banner", "volume") and p not in PAGE_PAIRS]


def _frames(profile, theme: str, kinds: list[str]):  # type: ignore[no-untyped-def]
    seed = zlib.crc32(f"{profile.name}/{theme}/{','.join(kinds)}".encode())
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    sms = SmsNetwork()
    phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme, accent=pick.choice(sorted(ACCENTS))))
    phone.start(instant=True)
    try:
        for screen in SCREENS:
            show_screen(phone, screen)
            kind = pick.choice(kinds)
            yield screen, kind, apply(np.asarray(phone.frame()), kind, rng)
    finally:
        phone.close()


def _check(profile, theme: str, kinds: list[str], floor: float) -> None:  # type: ignore[no-untyped-def]
    wrong, right, seen = [], Counter(), Counter()
    for screen, kind, image in _frames(profile, theme, kinds):
        rec, guess = LIBRARY.classify(image)
        seen[kind] += 1
        if rec is not None and rec.screen != screen:
            wrong.append(f"{screen} under {kind} taken for {rec.screen} ({guess.why()})")
        right[kind] += rec is not None and rec.screen == screen
    assert not wrong, "; ".join(wrong)
    rate = sum(right.values()) / sum(seen.values())
    assert rate >= floor, {k: f"{right[k]}/{seen[k]}" for k in seen}


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_perturbed_pages_are_recognised_and_never_wrong(profile, theme) -> None:
    _check(profile, theme, PAGE + PAGE_PAIRS, floor=0.85)


def test_pages_under_a_banner_are_never_wrong() -> None:
    wrong = []
    for profile in PROFILES:
        for theme in ("dark", "light"):
            for screen, kind, image in _frames(profile, theme, OVERLAYS):
                rec = LIBRARY.recognize(image)
                if rec is not None and rec.screen != screen:
                    wrong.append(f"{profile.name}/{theme}: {screen} under {kind} taken for {rec.screen}")
    assert not wrong, "; ".join(wrong)
