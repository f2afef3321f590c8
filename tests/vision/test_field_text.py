"""A text field read back from the emulated handset's frames: its box found from the point the flow tapped,
what it shows read with OCR, a password's marks counted; the comparison that tells a typed text from one a
key was lost from or doubled in. In process (cheap), 480x800 and 1080x1920, both themes; each frame also as a
camera over a desk sees it: a lamp falling off across the field and a glare spot saturating its far end, so the
field's own fill spans some 90 grey levels (the robot sign-in once read an empty e-mail field as a dash, and
counted a password's fill as one more mark and the marks on it as one)."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.profiles import load_profile
from harness.vision import find_target
from harness.vision.field_text import count_marks, field_box, read_field, shows_typed
from harness.vision.matcher import ScreenLibrary

ADDRESS = "carol.recovery@example.com"
PASSWORD = "tr0ub4dor&3"


def _under_a_lamp(frame: np.ndarray, y: int) -> np.ndarray:
    """``frame`` lit unevenly: 0.55 of the light at its left edge, all of it at the right, and a wide glare spot
    at the height ``y`` towards the right that drives the panel's white past 255 (clipped, as a sensor does)."""
    h, w = frame.shape[:2]
    ramp = np.linspace(0.55, 1.0, w, dtype=np.float32)[None, :, None]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    glare = 130.0 * np.exp(-((xs - 0.85 * w) ** 2 + (ys - y) ** 2) / (2 * (0.3 * w) ** 2))
    return np.clip(frame * ramp + glare[..., None], 0, 255).astype(np.uint8)


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
            for look in (lambda f: f, lambda f: _under_a_lamp(f, point[1])):
                phone.goto(screen)
                phone.ui.tap(field)
                shown = look(frame())
                empty = field_box(shown, point)
                assert empty is not None, f"no field found at {point} on {screen}"
                assert empty.w > shown.shape[1] * 0.6, f"{empty}: not the whole field"
                assert count_marks(shown, empty) == 0
                assert read_field(shown, empty, every_way=True) == [""]
                phone.ui.text(value)
                shown = look(frame())
                box = field_box(shown, point)
                assert box is not None and abs(box.y - empty.y) <= 2 and abs(box.h - empty.h) <= 4
                if secret:
                    assert count_marks(shown, box) == len(value)
                else:
                    ok, read = shows_typed(shown, box, value)
                    assert ok, f"read {read!r}"
        assert field_box(frame(), (5, 5)) is None  # the status bar is no field
    finally:
        phone.close()


def test_a_field_whose_border_the_camera_blurred_is_still_its_box() -> None:
    # Rows 450-850 of a rectified camera frame (bench seed 156837, light theme, robot sign-in): the e-mail field's
    # blue border softened by blur and glare into steps as small as the fill's noise, so a fill grown at one
    # step leaked through it over the whole page ('no text field above the keyboard'). Measured on the image by
    # its blue (blue over red by more than 30): the border spans rows 121-242 and columns 47-1031 and is some
    # 10 px thick, so the field's fill is x 58-1020, y 132-232.
    crop = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data" / "camera_light_email_field.png")),
                        cv2.COLOR_BGR2RGB)
    box = field_box(crop, (143, 181))
    assert box is not None
    assert abs(box.x - 58) <= 4 and abs(box.y - 132) <= 4 and abs(box.w - 958) <= 8 and abs(box.h - 101) <= 6, box
    assert count_marks(crop, box) == 0 and read_field(crop, box, every_way=True) == [""]


#: Frames a field is looked at (robot:// looks until its deadline, some 10 frames through the emulated camera).
LOOKS = 3
#: What the phone's field shows for each address typed: right, and each way a robot's typing goes wrong (a key
#: lost, the '@' lost, a full stop lost, a letter taken twice, a neighbouring key).
SHOWN = {"alice@outlook.com": ("alice@outlook.com", "aliceoutlook.com", "alice@outlookcom",
                               "alice@outllook.com", "alice@putlook.com", "alice@outlook.xom", "alce@outlook.com"),
         "irina@outlook.com": ("irina@outlook.com", "irina@outlookcom", "itina@outlook.com", "irna@outlook.com",
                               "irina@outlok.com", "irinaa@outlook.com")}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_an_address_is_read_back_through_a_blurred_camera_and_a_typing_error_is_not(theme: str) -> None:
    # Bench seed 842483: the camera's blur leaves irina@outlook.com's r a t to some readings and alice's '@' a blob
    # (robot:// text() failed with TextNotTyped though the typing was right, both themes), and a lost full stop
    # passed. A field a key was lost from, or took twice, or that took a neighbouring key, must not pass. The
    # frame is the emulated camera's picture of that bench (JPEG at its quality), rectified through the screen's
    # true corners as a slot's calibration does.
    _ocr()
    from harness.camera.rectify import homography, normalise, rectify
    from harness.emulator.bench import place
    from harness.emulator.camera_device import placement_of, view_of

    sms = SmsNetwork()
    prof = load_profile("lumia-930")
    phone = EmulatedPhone(prof, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=theme))
    phone.start(instant=True)
    view = view_of(placement_of(place(prof, 842483)), 842483)
    quality = random.Random("jpeg/842483").randint(72, 88)
    h = homography(view.screen_corners(), prof.width, prof.height)
    try:
        phone.goto("account_email")
        rec, guess = ScreenLibrary.shared().classify(np.asarray(phone.frame().convert("RGB")), prof.scale)
        assert rec is not None and rec.screen == "account_email", guess.why()
        point = tuple(int(v) for v in find_target(rec, "field:email"))
        wrong = []
        for address, shown_texts in SHOWN.items():
            for typed in shown_texts:
                phone.goto("account_email")
                phone.ui.tap("field:email")
                phone.ui.text(typed)
                # as robot:// does, the field is looked at again until a frame shows the text (each frame's noise
                # is its own): here up to LOOKS frames
                looks = []
                for _ in range(LOOKS):
                    bgr = view.frame(np.asarray(phone.frame().convert("RGB")))
                    bgr = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1],
                                       cv2.IMREAD_COLOR)
                    shown = normalise(rectify(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), h, prof.width, prof.height))
                    box = field_box(shown, point)
                    assert box is not None, f"no field at {point} with {typed!r} typed"
                    looks.append(shows_typed(shown, box, address))
                    if looks[-1][0]:
                        break
                if looks[-1][0] != (typed == address):
                    wrong.append(f"{address!r} typed, the field shows {typed!r}, read {[r for _, r in looks]}")
        assert not wrong, wrong
    finally:
        phone.close()
