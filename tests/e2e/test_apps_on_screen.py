"""The apps after sign-in, read from the screen only: ADB taps and swipes, vision names the page, OCR reads it.

The control socket is used only for what a lab does (deliver a mail to the account), never to read the result.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from harness.accounts import Credentials
from harness.flows.signin import finish_setup_without_account, sign_in_after_setup

ACCOUNTS = Path(__file__).with_name("apps_accounts.toml")
GINA = tomllib.loads(ACCOUNTS.read_text())["account"][0]
SUBJECTS = [m["subject"] for m in GINA["mail"]]

pytestmark = [pytest.mark.profile("lumia-930"), pytest.mark.theme("dark"),
              pytest.mark.emulator(accounts=str(ACCOUNTS), animation_ms=0, signin_delay=0.3, boot_time=0.6)]


def _ocr():  # type: ignore[no-untyped-def]
    ocr = pytest.importorskip("harness.vision.ocr")
    try:
        ocr.read_text(np.zeros((40, 120, 3), np.uint8))
    except ocr.OcrUnavailable as exc:
        pytest.skip(str(exc))
    return ocr


def _lines(handset, ocr) -> list[str]:  # type: ignore[no-untyped-def]
    """What the screen says below the status bar, one normalised line each."""
    image = handset.screenshot()
    return [ocr.normalise(line) for line in ocr.read_text(image[80:]).splitlines() if line.strip()]


def _shows(subject: str, lines: list[str], ocr) -> bool:  # type: ignore[no-untyped-def]
    want = ocr.normalise(subject)
    return any(want in line or ocr.similarity(want, line) >= 0.85 for line in lines)


def _settled(handset, deadline: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A screenshot once two in a row agree below the status bar (its clock may tick)."""
    before = handset.screenshot()
    while True:
        now = handset.screenshot()
        if np.array_equal(now[80:], before[80:]):
            return now
        assert time.monotonic() < deadline, "the screen never settled"
        before = now


def _swipe_until_still(handset, up: bool, on_page, deadline: float) -> None:  # type: ignore[no-untyped-def]
    """Swipe the list (finger up: further down the list) until a swipe changes nothing; ``on_page`` sees each page."""
    w, h = handset.info.width, handset.info.height
    frame = _settled(handset, deadline)
    on_page()
    for _ in range(12):
        y1, y2 = (int(h * 0.75), int(h * 0.3)) if up else (int(h * 0.3), int(h * 0.75))
        handset.swipe(w // 2, y1, w // 2, y2, 200)
        after = _settled(handset, deadline)
        if np.array_equal(after[80:], frame[80:]):
            return
        frame = after
        on_page()
    raise AssertionError("the list kept moving after 12 swipes")


def test_signed_out_store_then_mail_after_sign_in_scrolls_to_every_subject_and_new_mail_arrives(
        flow, handset, emulator_control) -> None:
    ocr = _ocr()
    deadline = time.monotonic() + 240
    finish_setup_without_account(flow)
    flow.advance("start", "store", ["store_no_account"])
    assert any("microsoft account" in line for line in _lines(handset, ocr))
    sign_in_after_setup(flow, Credentials.of(GINA["address"], GINA["password"]))
    flow.press("start")
    flow.advance("start", "outlook", ["mail"])

    seen: list[str] = []

    def read() -> None:
        lines = _lines(handset, ocr)
        seen.extend(s for s in SUBJECTS if s not in seen and _shows(s, lines, ocr))
    _swipe_until_still(handset, True, read, deadline)   # sync may still be under way: read again below
    while len(seen) < len(SUBJECTS) and time.monotonic() < deadline:
        _swipe_until_still(handset, False, read, deadline)
        _swipe_until_still(handset, True, read, deadline)
    assert sorted(seen) == sorted(SUBJECTS), f"read {seen}"

    emulator_control.call("mail_deliver", to=GINA["address"], subject="Regatta starts at noon",
                          **{"from": "Sailing Club"})
    _swipe_until_still(handset, False, lambda: None, deadline)   # back to the top: newest first
    while not _shows("Regatta starts at noon", _lines(handset, ocr)[:6], ocr):
        assert time.monotonic() < deadline, f"the new mail never showed at the top: {_lines(handset, ocr)}"
    assert flow.expect("mail").screen == "mail"


def test_reset_password_in_internet_explorer_then_the_old_one_fails_and_the_new_one_signs_in(
        flow, sms_codes) -> None:
    from harness.flows import SignInFailed
    from harness.flows.help_page import reset_password

    hank = tomllib.loads(ACCOUNTS.read_text())["account"][1]
    new = Credentials.of(hank["address"], "hank-new-pass-2")
    assert reset_password(flow, new, sms_codes).screen == "reset_done"
    with pytest.raises(SignInFailed) as info:
        sign_in_after_setup(flow, Credentials.of(hank["address"], hank["password"]))
    assert info.value.screen == "wrong_password"
    assert sign_in_after_setup(flow, new).final_screen == "account_settings"


def test_what_an_account_unlocks_before_and_after_sign_in(flow) -> None:
    from harness.flows.help_page import unlocks

    finish_setup_without_account(flow)
    before = unlocks(flow)
    assert before == {"store": False, "xbox": False, "music": False, "video": False, "facebook_chat": False,
                      "feeds": False}, before
    sign_in_after_setup(flow, Credentials.of(GINA["address"], GINA["password"]))
    after = unlocks(flow)
    assert after == {"store": True, "xbox": True, "music": True, "video": True, "facebook_chat": True,
                     "feeds": True}, after
