"""The on-screen keyboard found by vision and OCR in the emulated handset's frames: every key's box, the page it
shows, and the keys that type a text, checked by tapping those pixels and seeing what the field then holds.

Frames come from the emulated handset: in process for 480x800 and 1080x1920 in both themes (cheap), and once
over ADB, typing an address on the keyboard and reading on the next page, with OCR, that it was the one typed.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.profiles import load_profile
from harness.vision.keyboard import KeyboardUnknown, find_keyboard, keyboard_shown

#: Letters both ways, every symbol of the symbol page, comma, full stop and space.
TEXT = "Hello, World. qz@x-1 (ok)? #$%&*+=!'\":;/ 234567890 ASDFGHJKLbnmcv"


def _ocr():  # type: ignore[no-untyped-def]
    ocr = pytest.importorskip("harness.vision.ocr")
    try:
        ocr.read_text(np.zeros((40, 120, 3), np.uint8))
    except ocr.OcrUnavailable as exc:
        pytest.skip(str(exc))
    return ocr


@pytest.mark.parametrize("profile,theme", [("lumia-520", "dark"), ("lumia-520", "light"), ("lumia-930", "light"),
                                           ("lumia-930", "dark")])
def test_the_keys_found_type_a_text_of_both_pages_at_480_and_1080_in_both_themes(profile: str, theme: str) -> None:
    _ocr()
    sms = SmsNetwork()
    phone = EmulatedPhone(load_profile(profile), AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme, accent="lime" if theme == "dark" else "yellow"))
    phone.start(instant=True)
    try:
        phone.goto("account_email")

        def frame() -> np.ndarray:
            return np.asarray(phone.frame().convert("RGB"))

        assert find_keyboard(frame()) is None and not keyboard_shown(frame()), "a keyboard before a field was tapped"
        phone.ui.tap("field:email")
        kb = find_keyboard(frame())
        assert kb is not None and (kb.page, kb.shifted) == ("letters", False)
        assert kb.region.y > frame().shape[0] * 0.45, f"the keyboard found is not on the lower part: {kb.region}"
        for key in kb.plan(TEXT):
            phone.tap(*key.center)
        assert phone.ui.fields.get("email") == TEXT
        with pytest.raises(KeyboardUnknown):
            kb.plan("a\u00e9")
        shift = find_keyboard(frame())
        assert shift is not None
        phone.tap(*shift.key("shift").center)
        shifted = find_keyboard(frame())
        assert shifted is not None and (shifted.page, shifted.shifted) == ("letters", True)
        assert [k.name for k in shifted.taps_for("Q")] == ["q"] and [k.name for k in shifted.taps_for("q")] == ["shift", "q"]
        phone.tap(*shifted.key("mode").center)
        symbols = find_keyboard(frame())
        assert symbols is not None and symbols.page == "symbols"
        assert [k.name for k in symbols.taps_for("a")] == ["mode", "a"]
        phone.keyevent(4)  # back: the keyboard goes, the page stays
        assert not keyboard_shown(frame()) and find_keyboard(frame()) is None
    finally:
        phone.close()


@pytest.mark.profile("lumia-520")
@pytest.mark.theme("light")
@pytest.mark.emulator(screen="account_email", animation_ms=0)
def test_an_address_typed_on_the_keyboard_over_adb_is_the_one_the_next_page_names(flow, handset) -> None:
    ocr = _ocr()
    rec = flow.expect("account_email")
    flow.tap(rec, "field:email")
    kb = find_keyboard(handset.screenshot())
    assert kb is not None, "no keyboard after tapping the e-mail field"
    for key in kb.plan("bob@outlook.com"):
        handset.tap(*key.center)
    flow.close_keyboard("account_email")
    assert not keyboard_shown(handset.screenshot())
    flow.advance("account_email", "next", ["account_password"])
    assert "bob@outlook.com" in ocr.normalise(ocr.read_text(handset.screenshot()[60:]))
