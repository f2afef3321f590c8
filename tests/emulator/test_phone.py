"""The phone as a whole: pixels in, pixels out, power, animation and toasts (tests of the emulator itself)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import KEY_BACK, KEY_POWER, EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.profiles import load_profile


@pytest.fixture
def make_phone():
    phones: list[EmulatedPhone] = []

    def make(profile: str = "lumia-1320", clock=time.monotonic, **options) -> EmulatedPhone:
        sms = SmsNetwork()
        phone = EmulatedPhone(load_profile(profile), AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                              PhoneOptions(**options), clock=clock)
        phone.start(instant=True)
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        phone.close()


def _until(predicate, what: str, timeout: float = 10.0):
    """Poll ``predicate`` until it returns neither None nor False; fail after ``timeout`` s saying what did not happen."""
    deadline = time.monotonic() + timeout
    while (value := predicate()) is None or value is False:
        assert time.monotonic() < deadline, f"expected {what} within {timeout}s"
        time.sleep(0.01)
    return value


def _center(phone: EmulatedPhone, wid: str) -> tuple[float, float]:
    widget = phone.ui.page(phone.profile.view_height).widget(wid)
    assert widget is not None
    cx, cy = widget.rect.center
    return cx * phone.profile.scale, cy * phone.profile.scale


def test_tap_in_device_pixels_hits_the_button_and_a_tap_on_nothing_does_nothing(make_phone) -> None:
    phone = make_phone(animation_ms=0)
    phone.tap(5, phone.profile.height // 2)
    assert phone.ui.screen == "setup_welcome"
    phone.tap(*_center(phone, "next"))
    assert phone.ui.screen == "setup_terms"
    phone.keyevent(KEY_BACK)
    assert phone.ui.screen == "setup_welcome"


def test_screen_change_animates_through_real_intermediate_frames(make_phone) -> None:
    """Every moment of a page turn is its own frame, between the two pages; input waits until it is over.

    The panel's clock is the test's, stepped by hand: what is checked does not depend on how fast frames draw."""
    now = [1000.0]
    phone = make_phone(animation_ms=1500, clock=lambda: now[0])
    before = np.asarray(phone.frame()).astype(int)
    phone.tap(*_center(phone, "next"))
    assert phone.animating() and phone.ui.screen == "setup_terms"
    middles = []
    for step in range(4):               # 0.3, 0.6, 0.9 and 1.2 s into the 1.5 s turn
        now[0] += 0.3
        assert phone.animating(), f"the transition ended {now[0] - 1000:.1f}s into 1.5s"
        middles.append(np.asarray(phone.frame()).astype(int))
        if step == 1:
            phone.tap(*_center(phone, "accept"))    # input during the transition is ignored
    now[0] += 0.4                       # 1.6 s: over
    assert not phone.animating()
    after = np.asarray(phone.frame()).astype(int)
    assert phone.ui.screen == "setup_terms", "a tap during the transition was taken"
    assert np.abs(after - before).mean() > 1
    away = [round(float(np.abs(middle - before).mean()), 2) for middle in middles]
    to_go = [round(float(np.abs(middle - after).mean()), 2) for middle in middles]
    assert min(away) > 1 and min(to_go) > 1, f"a frame of the turn is one of its ends: {away}, {to_go}"
    assert away == sorted(away) and to_go == sorted(to_go, reverse=True), \
        f"the frames do not go from the first page to the second: away {away}, to go {to_go}"


def test_seeded_toasts_cover_the_top_and_are_reproducible(make_phone) -> None:
    phone = make_phone(animation_ms=0, toasts=True, toast_seed=7, toast_interval=0.05, toast_duration=0.5)
    accent = np.array(phone.profile.accent_rgb)

    def top_row_in_accent() -> bool:
        frame = np.asarray(phone.frame())
        return bool((np.abs(frame[5, :, :].astype(int) - accent).sum(axis=1) < 10).mean() > 0.9)

    _until(top_row_in_accent, "a toast in the accent colour across the top of the screen", timeout=5)


def test_power_off_goes_black_and_ignores_input_then_boots_again(make_phone) -> None:
    phone = make_phone(animation_ms=0, boot_time=0.2)
    events: list[bool] = []
    phone.add_power_listener(events.append)
    phone.power_off()
    assert not np.asarray(phone.frame()).any()
    phone.tap(*_center(phone, "next"))
    phone.power_on()
    _until(lambda: phone.booted, "the phone to finish booting")
    assert events == [False, True] and phone.booted and phone.ui.screen == "setup_welcome"
    phone.keyevent(KEY_POWER)
    assert not np.asarray(phone.frame()).any()
    phone.keyevent(KEY_POWER)
    assert np.asarray(phone.frame()).any()


def test_the_phone_says_booted_only_once_its_power_listeners_were_told(make_phone) -> None:
    """A host that sees ``booted`` must find what the listeners start (adbd listening) already up."""
    phone = make_phone(animation_ms=0, boot_time=0.2)
    told, release = threading.Event(), threading.Event()
    booted_when_told: list[bool] = []

    def slow_service(on: bool) -> None:  # a service that takes its time to come up at boot
        if on:
            booted_when_told.append(phone.booted)
            told.set()
            assert release.wait(20), "the test never let the service finish"

    phone.add_power_listener(slow_service)
    phone.power_off()
    phone.power_on()
    assert told.wait(10), "expected the power listener told of the boot within 10s"
    try:
        assert booted_when_told == [False] and not phone.booted, "the phone said booted before its listener returned"
    finally:
        release.set()
    _until(lambda: phone.booted, "the phone to finish booting once its listener returned")


def test_frames_are_rgba_and_png_of_the_panel(make_phone) -> None:
    import io

    from PIL import Image

    phone = make_phone("lumia-930", animation_ms=0)
    w, h, rgba = phone.frame_rgba()
    assert (w, h) == (1080, 1920) and len(rgba) == w * h * 4
    png = Image.open(io.BytesIO(phone.frame_png()))
    assert png.size == (1080, 1920)
    assert np.array_equal(np.asarray(png.convert("RGB")), np.frombuffer(rgba, np.uint8).reshape(h, w, 4)[:, :, :3])


def test_start_screen_option(make_phone) -> None:
    phone = make_phone(animation_ms=0, start_screen="email_accounts")
    assert phone.ui.screen == "email_accounts" and phone.model.setup_complete


def test_every_keystroke_shows_on_the_next_frame_however_many_pages_were_drawn(make_phone) -> None:
    """Typing draws a new page per character; a frame is never served for an older page the renderer let go."""
    phone = make_phone("lumia-520", animation_ms=0, start_screen="account_email")
    field = phone.ui.page(phone.profile.view_height).widget("field:email")
    assert field is not None
    x0, y0, x1, y1 = (round(v * phone.profile.scale) for v in (field.rect.x, field.rect.y,
                                                                field.rect.x + field.rect.w, field.rect.y + field.rect.h))
    seen = [np.asarray(phone.frame())[y0:y1, x0:x1].copy()]
    for ch in "alice.backup@outlook.com":
        phone.text(ch)
        seen.append(np.asarray(phone.frame())[y0:y1, x0:x1].copy())
        assert not np.array_equal(seen[-1], seen[-2]), f"typing {ch!r} did not change the e-mail field on screen"
