"""A text field read back from the emulated handset's frames: its box found from the point the flow tapped,
what it shows read with OCR, a password's marks counted; the comparison that tells a typed text from one a
key was lost from or doubled in. In process (cheap), 480x800 and 1080x1920, both themes."""

from __future__ import annotations

import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.profiles import load_profile
from harness.vision import find_target
from harness.vision.field_text import count_marks, field_box, read_field, same_typed
from harness.vision.matcher import ScreenLibrary

ADDRESS = "carol.recovery@example.com"
PASSWORD = "tr0ub4dor&3"


def _ocr() -> None:
    ocr = pytest.importorskip("harness.vision.ocr")
    try:
        ocr.read_text(np.zeros((40, 120, 3), np.uint8))
    except ocr.OcrUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("profile,theme", [("lumia-520", "light"), ("lumia-930", "dark")])
def test_a_field_shows_what_was_typed_and_a_password_as_many_marks(profile: str, theme: str) -> None:
    _ocr()
    sms = SmsNetwork()
    prof = load_profile(profile)
    phone = EmulatedPhone(prof, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme))
    phone.start(instant=True)
    library = ScreenLibrary.shared()
    try:
        def frame() -> np.ndarray:
            return np.asarray(phone.frame().convert("RGB"))

        for screen, field, value, secret in (("account_email", "field:email", ADDRESS, False),
                                             ("account_password", "field:password", PASSWORD, True)):
            phone.goto(screen)
            rec, guess = library.classify(frame(), prof.scale)
            assert rec is not None and rec.screen == screen, guess.why()
            point = tuple(int(v) for v in find_target(rec, field))
            phone.ui.tap(field)
            empty = field_box(frame(), point)
            assert empty is not None, f"no field found at {point} on {screen}"
            assert empty.w > frame().shape[1] * 0.6, f"{empty}: not the whole field"
            assert count_marks(frame(), empty) == 0 and read_field(frame(), empty) == [""]
            phone.ui.text(value)
            box = field_box(frame(), point)
            assert box is not None and abs(box.y - empty.y) <= 2 and abs(box.h - empty.h) <= 4
            if secret:
                assert count_marks(frame(), box) == len(value)
            else:
                read = read_field(frame(), box)[0]
                assert same_typed(read, value), f"read {read!r}"
        assert field_box(frame(), (5, 5)) is None  # the status bar is no field
    finally:
        phone.close()


def test_a_lost_or_doubled_key_is_not_the_text_typed() -> None:
    assert same_typed("carol.recovery@example.com", "carol.recovery@example.com")
    assert same_typed("caroI recovery@examp1e com", "carol.recovery@example.com")  # OCR's l/I/1, a dot not seen
    assert not same_typed("carl.recovery@example.com", "carol.recovery@example.com")  # a key lost
    assert not same_typed("carol.recovery@exaample.com", "carol.recovery@example.com")  # a key taken twice
    assert not same_typed("", "x") and not same_typed("", "")
