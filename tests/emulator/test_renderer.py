"""The renderer: every screen at every shipped profile in both themes, with text and buttons where the layout says."""

from __future__ import annotations

import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.filesystem import FileSystem
from harness.emulator.renderer import Palette, Renderer
from harness.emulator.sms import SmsNetwork
from harness.emulator.ui import SCREENS, PhoneModel, PhoneUI
from harness.profiles import ACCENTS, hex_rgb, load_all

PROFILES = load_all()


def _ui() -> PhoneUI:
    sms = SmsNetwork()
    ui = PhoneUI(PhoneModel(serial="S", os_version="8.0", ms_account="alice@outlook.com"),
                 AccountService(load_accounts(DEMO_ACCOUNTS), sms), FileSystem(), lambda d, f: None, lambda s: None)
    return ui


def _px(image: np.ndarray, scale: float, x: float, y: float) -> tuple[int, ...]:
    return tuple(int(v) for v in image[int(round(y * scale)), int(round(x * scale))])


def _has_colour(region: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> bool:
    return bool((np.abs(region.astype(int) - np.array(colour)).sum(axis=2) < tol).any())


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_every_screen_renders_where_the_layout_says(profile, theme) -> None:
    accent = hex_rgb(ACCENTS[profile.accent])
    renderer = Renderer(profile.width, profile.height, profile.scale, theme, accent)
    palette = Palette.for_theme(theme, accent)
    ui = _ui()
    s = profile.scale
    for screen in SCREENS:
        ui.go(screen, push=False, address="alice@outlook.com", sent_to="••••00")
        page = ui.page(profile.view_height)
        image = np.asarray(renderer.page(page))
        assert image.shape == (profile.height, profile.width, 3), screen
        background = (0, 0, 0) if screen == "booting" else palette.background
        assert _px(image, s, 2, profile.view_height - 2) == background, screen
        for w in page.widgets:
            r = w.rect
            assert 0 <= r.x and r.x + r.w <= 480 and r.y + r.h <= profile.view_height, (screen, w)
            box = image[int(r.y * s):int((r.y + r.h) * s), int(r.x * s):int((r.x + r.w) * s)]
            if w.kind == "button" and w.primary:
                assert _px(image, s, r.x + 3, r.y + r.h / 2) == accent, (screen, w.id)
                assert _has_colour(box, (255, 255, 255)), (screen, w.id)
            elif w.kind == "button":
                assert _px(image, s, r.x + 0.5, r.y + r.h / 2) == palette.foreground, (screen, w.id)
            elif w.kind in ("title", "header", "item"):
                colour = palette.accent if w.selected else palette.foreground
                assert _has_colour(box, colour), (screen, w.kind, w.text)
            elif w.kind == "tile":
                assert _px(image, s, r.x + 2, r.y + 2) == accent


def test_buttons_do_not_overlap_text_on_the_smallest_screen() -> None:
    profile = min(PROFILES, key=lambda p: p.view_height)
    ui = _ui()
    for screen in SCREENS:
        ui.go(screen, push=False, address="alice@outlook.com")
        ui.error = "An error line that is long enough to wrap onto a second line of the page."
        page = ui.page(profile.view_height)
        buttons = [w.rect for w in page.widgets if w.kind == "button" and w.rect.y > 600]
        others = [w.rect for w in page.widgets if w.kind != "button"]
        for b in buttons:
            for o in others:
                assert o.y + o.h <= b.y, f"{screen}: {o} overlaps the bottom button {b}"
