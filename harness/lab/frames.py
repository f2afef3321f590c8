"""Frames to measure vision with: every emulator screen per profile, theme and font, and frames that are no screen.

The vision tests and ``benchmarks/bench_vision.py`` draw their frames here so
that both measure the same thing: the screens the emulator shows (the answer
is the screen it was told to show, not anything vision computed), drawn with
the bundled font or another face (a renderer the library was not recorded
from), and seeded non-screens that must come back unknown.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from harness.lab.perturb import apply
from harness.lab.record_screens import show_screen

#: Faces the emulator can draw with (``--font``); None is the bundled font the library was recorded from.
#: Open Sans and Roboto are held out: no one tunes the matcher on them. Debian packages (scripts/setup):
#: fonts-liberation, fonts-dejavu-core, fonts-open-sans, fonts-roboto-unhinted.
FONTS: dict[str, str | None] = {
    "bundled": None,
    "liberation-sans": "LiberationSans-Regular.ttf",
    "dejavu-sans": "DejaVuSans.ttf",
    "open-sans": "OpenSans-Regular.ttf",
    "roboto": "Roboto-Regular.ttf",
}
HELD_OUT = "open-sans"
#: every face held out (drawn only to check, never to tune on): Open Sans since 2026-11, Roboto from h-fonts' session
HELD_OUT_FACES = (HELD_OUT, "roboto")
#: More faces for sweeps (benchmarks/bench_fonts.py), not drawn by the suite's every-face tests: Lato (fonts-lato),
#: Nimbus Sans, a Helvetica (fonts-urw-base35), Cantarell (fonts-cantarell; held out: swept only to check)
MORE_FONTS: dict[str, str] = {"lato": "Lato-Regular.ttf", "nimbus-sans": "NimbusSans-Regular.otf",
                              "cantarell": "Cantarell-Regular.otf"}
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")


def font_file(name: str) -> str | None:
    """The TrueType file of face ``name`` of FONTS or MORE_FONTS (None for the bundled font); FileNotFoundError in
    one line."""
    file = FONTS[name] if name in FONTS else MORE_FONTS[name]
    if file is None:
        return None
    for folder in FONT_DIRS:
        found = sorted(folder.rglob(file)) if folder.is_dir() else []
        if found:
            return str(found[0])
    raise FileNotFoundError(f"font {name}: no {file} under {', '.join(map(str, FONT_DIRS))} "
                            "(scripts/setup installs fonts-liberation, fonts-dejavu-core, fonts-open-sans, fonts-roboto-unhinted, "
                            "fonts-lato, fonts-urw-base35, fonts-cantarell)")


#: The status bar's time on every frame drawn here: a test or a benchmark sees the same pixels at any hour (with
#: the host's clock a camera test read a name at some minutes and not at others).
CLOCK = "10:30"


def screen_frames(profile: str, theme: str, font: str = "bundled", seed: int = 0, accounts: str | Path | None = None,
                  account: str | None = None, outlook: tuple[str, ...] = (), installed: tuple[str, ...] = (),
                  screens: tuple[str, ...] | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """(screen, RGB frame) for every emulator screen (or ``screens``) on ``profile`` in ``theme``, drawn with face
    ``font``, in an accent colour picked with ``seed``. With ``accounts`` (an accounts file, as ``harness emulate
    --accounts`` takes) the pages that show an account show ``account``'s data (its first account by default),
    with ``outlook`` accounts beside it and the apps ``installed`` on the phone."""
    from harness.emulator.accounts import DEMO_ACCOUNTS, load_accounts
    from harness.lab.record_screens import ACCOUNT, OUTLOOK
    from harness.emulator.ui import SCREENS

    known = load_accounts(accounts or DEMO_ACCOUNTS)
    if accounts is None:
        account, outlook = ACCOUNT, OUTLOOK
    with lab_phone(profile, theme, font, seed, accounts) as phone:
        for app in installed:
            phone.install_app(app)
        for screen in screens or SCREENS:
            show_screen(phone, screen, account or known[0].address, outlook)
            yield screen, np.asarray(phone.frame().convert("RGB"))


@contextmanager
def lab_phone(profile: str, theme: str, font: str = "bundled", seed: int = 0,
              accounts: str | Path | None = None) -> Iterator[Any]:
    """An emulated phone in process (no services), started at once, as ``screen_frames`` draws with: ``theme``,
    face ``font``, an accent picked with ``seed``, the status bar at CLOCK; closed when the block ends."""
    from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
    from harness.emulator.phone import EmulatedPhone, PhoneOptions
    from harness.emulator.sms import SmsNetwork
    from harness.profiles import ACCENTS, load_profile

    accent = random.Random(f"{profile}/{theme}/{font}/{seed}").choice(sorted(ACCENTS))
    sms = SmsNetwork()
    phone = EmulatedPhone(load_profile(profile), AccountService(load_accounts(accounts or DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme, accent=accent, font=font_file(font), clock=CLOCK))
    phone.start(instant=True)
    try:
        yield phone
    finally:
        phone.close()


def through_camera(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    """The screenshot robot:// takes from a camera's ``picture`` (BGR, as the emulated camera's ``view.frame``
    draws it): the screen found in it, rectified to ``width`` x ``height`` and evened out (RGB)."""
    from harness.camera import find_screen, homography, normalise, rectify

    rgb = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)
    corners = find_screen(rgb, width / height)
    return normalise(rectify(rgb, homography(corners, width, height), width, height))


SIZES = [(1920, 1080), (1280, 720), (1280, 768), (800, 480)]


def non_screen(rng: np.random.Generator, kind: int) -> np.ndarray:
    """A frame that is none of the handset's screens, of one of six kinds (``kind`` modulo 6): noise, a flat
    colour, a smooth blotchy picture (a photo out of focus), stripes and boxes (another app's layout),
    another app's text page, or a screen's worth of page-like text in a dark or light theme under a
    perturbation (a page of another phone seen through a camera)."""
    h, w = SIZES[int(rng.integers(len(SIZES)))]
    kind %= 6
    if kind == 0:
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if kind == 1:
        return np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
    if kind == 2:
        small = rng.integers(0, 256, (int(rng.integers(6, 40)), int(rng.integers(4, 24)), 3), dtype=np.uint8)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    dark = bool(rng.integers(2))
    bg, ink = ((0, 0, 0), (255, 255, 255)) if dark else ((255, 255, 255), (0, 0, 0))
    out = np.full((h, w, 3), bg, np.uint8)
    s = w / 480
    if kind == 3:
        for _ in range(int(rng.integers(4, 12))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            cv2.rectangle(out, (x0, y0), (x0 + int(rng.integers(20, w)), y0 + int(rng.integers(10, h // 4))), colour, -1)
        return out
    words = ["settings", "inbox", "photos", "account", "sign in", "music", "maps", "store", "next", "ok", "later"]
    y = int(40 * s)
    cv2.putText(out, " ".join(rng.choice(words, 2)), (int(20 * s), int(90 * s)), cv2.FONT_HERSHEY_SIMPLEX,
                1.4 * s, ink, max(1, round(2 * s)), cv2.LINE_AA)
    y = int(150 * s)
    while y < h - 20 * s:
        text = " ".join(rng.choice(words, int(rng.integers(1, 5))))
        cv2.putText(out, text, (int(20 * s), y), cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.5, 0.9)) * s,
                    ink, max(1, round(1.5 * s)), cv2.LINE_AA)
        y += int(rng.integers(30, 70) * s)
    if kind == 5:
        out = apply(out, str(rng.choice(["jpeg", "noise", "blur", "banner", "shift+scale"])), rng)
    return out
