"""The renderer: every screen at every shipped profile in both themes, with text and buttons where the layout says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
        ui.go(screen, push=False, address="alice@outlook.com", sent_to="••••00", app="netflix")
        page = ui.page(profile.view_height)
        image = np.asarray(renderer.page(page))
        assert image.shape == (profile.height, profile.width, 3), screen
        background = (0, 0, 0) if screen == "booting" else palette.background
        bar = next((w.rect for w in page.widgets if w.kind == "appbar"), None)
        if bar is None:
            assert _px(image, s, 2, profile.view_height - 2) == background, screen
        else:  # an application bar: a band of its own colour at the bottom, the page's background above it
            assert _px(image, s, 2, bar.y - 2) == background, screen
            assert _px(image, s, 2, profile.view_height - 2) not in (background, palette.foreground), screen
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


FONTS = {"DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         "LiberationSans": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"}


@pytest.mark.parametrize("face", sorted(FONTS))
def test_another_font_draws_other_glyphs_in_the_same_places(face) -> None:
    """--font changes every glyph and nothing else: text rows stay inside their widgets, buttons keep their fill."""
    path = FONTS[face]
    if not Path(path).exists():
        pytest.skip(f"{path} missing: apt-get install fonts-dejavu-core fonts-liberation (scripts/setup does)")
    profile = next(p for p in PROFILES if p.name == "lumia-930")
    accent = hex_rgb(ACCENTS[profile.accent])
    bundled = Renderer(profile.width, profile.height, profile.scale, "dark", accent)
    other = Renderer(profile.width, profile.height, profile.scale, "dark", accent, font=path)
    ui = _ui()
    s = profile.scale
    for screen in ("keep_your_life_in_sync", "settings", "account_password"):
        ui.go(screen, push=False, address="alice@outlook.com")
        page = ui.page(profile.view_height)
        a, b = np.asarray(bundled.page(page)), np.asarray(other.page(page))
        for w in page.widgets:
            r = w.rect
            box = (slice(int(r.y * s), int((r.y + r.h) * s)), slice(int(r.x * s), int((r.x + r.w) * s)))
            if w.kind in ("title", "header", "text") and w.text.strip():
                ink_a, ink_b = a[box].max(axis=2) > 128, b[box].max(axis=2) > 128
                assert ink_b.any() and (ink_a != ink_b).mean() > 0.01, (face, screen, w.text)  # drawn, differently
            if w.kind == "button" and w.primary:
                assert _px(b, s, r.x + 3, r.y + r.h / 2) == accent, (face, screen, w.id)
        # nothing is drawn outside the widgets of the page (below the status bar)
        outside = np.ones(b.shape[:2], bool)
        outside[:int(40 * s)] = False
        for w in page.widgets:
            r = w.rect
            outside[int((r.y - 4) * s):int((r.y + r.h + 8) * s), int((r.x - 4) * s):int((r.x + r.w + 40) * s)] = False
        assert (b[outside] == b[-2, 2]).all(), (face, screen)


def test_emulate_refuses_a_file_that_is_no_font(tmp_path: Path) -> None:
    bad = tmp_path / "font.ttf"
    bad.write_text("not a font")
    out = subprocess.run([sys.executable, "-m", "harness", "emulate", "--font", str(bad)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and f"font {bad}: not a TrueType" in out.stderr.strip().splitlines()[-1]


def test_frames_drawn_for_tests_show_one_clock_at_any_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test's frames are the same pixels whatever the host's clock says (the status bar's time moved the levels
    a camera test read a name by); ``harness emulate --clock`` takes HH:MM only."""
    import time

    from harness.lab.frames import screen_frames

    first = dict(screen_frames("lumia-520", "light", screens=("settings",)))["settings"]
    monkeypatch.setattr(time, "strftime", lambda fmt, *a: "23:59" if "%H" in fmt else "")
    again = dict(screen_frames("lumia-520", "light", screens=("settings",)))["settings"]
    assert np.array_equal(first, again)
    out = subprocess.run([sys.executable, "-m", "harness", "emulate", "--clock", "24:00"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "expected a time as HH:MM" in out.stderr.strip().splitlines()[-1]
