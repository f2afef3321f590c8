"""Frames drawn at a recording's size (``screenrecord --size``) show what the whole frame shows, scaled.

The panel draws a frame at a smaller size from its layers (pages scaled once, a page turn blended and the
status bar drawn at that size) instead of drawing it whole and scaling it. Whatever the size, the picture must
be the one a person sees on the panel: the whole frame, shrunk by OpenCV's area filter (not the emulator's
code), letterboxed on black when the aspect differs. A panel clock the test steps holds a page turn still.
"""

from __future__ import annotations

import numpy as np
import pytest
import cv2

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.profiles import load_profile

SIZES = [(576, 1024), (540, 960), (270, 480), (400, 400)]


@pytest.fixture(scope="module")
def panel() -> tuple[EmulatedPhone, list[float]]:
    clock = [100.0]
    sms = SmsNetwork()
    phone = EmulatedPhone(load_profile("lumia-930"), AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=1000, toasts=True, toast_seed=3, toast_interval=30),
                          clock=lambda: clock[0])
    phone.start(instant=True)
    yield phone, clock
    phone.close()


def _expected(whole: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The whole frame shrunk into ``size`` keeping its aspect, centred on black."""
    h, w = whole.shape[:2]
    k = min(size[0] / w, size[1] / h)
    fw, fh = max(1, round(w * k)), max(1, round(h * k))
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    x, y = (size[0] - fw) // 2, (size[1] - fh) // 2
    canvas[y:y + fh, x:x + fw] = cv2.resize(whole, (fw, fh), interpolation=cv2.INTER_AREA)
    return canvas


def _check(frame, size: tuple[int, int], what: str) -> None:
    small = np.asarray(frame.at(size))
    assert small.shape == (size[1], size[0], 3), f"{what} at {size}: {small.shape}"
    expected = _expected(np.asarray(frame.image()), size)
    diff = np.abs(small.astype(np.int16) - expected)
    assert diff.mean() < 2.0, f"{what} at {size}: mean difference {diff.mean():.2f} from the whole frame shrunk"
    # the status bar (its clock, a toast's first line): text drawn at the small size is not pixel for pixel the
    # shrunk text, so both are blurred a little first; a missing clock or toast still stands out
    band = max(1, size[1] // 25)
    blurred = [cv2.blur(image[:band * 2].astype(np.float32), (5, 5))[:band] for image in (small, expected)]
    off = np.abs(blurred[0] - blurred[1]).mean()
    assert off < 4.0, f"{what} at {size}: the status bar differs by {off:.2f} on average"


def test_a_frame_at_a_recording_size_is_the_whole_frame_shrunk(panel) -> None:
    phone, clock = panel
    phone.goto("keep_your_life_in_sync")
    clock[0] += 5
    still = phone.panel()
    for size in SIZES:
        _check(still, size, "a still page")
    # a page turn, looked at in its first, middle and last thirds: the new page slides in over the old
    phone.goto("app_list")
    for step in (0.1, 0.5, 0.9):
        clock[0] += 0.2 if step > 0.1 else 0.1
        turning = phone.panel()
        assert phone.animating(), "the page turn ended early"
        for size in SIZES:
            _check(turning, size, f"a page turn at {step:.0%}")
    # a toast over the status bar (one comes every 30 s or so of the panel's clock), then the panel off
    for _ in range(2000):
        clock[0] += 0.5
        if phone.display.current_toast() is not None:
            break
    else:
        pytest.fail("no toast in 1000 s of the panel's clock")
    toasted = phone.panel()
    for size in SIZES[:3]:
        _check(toasted, size, "a toast")
    # a thumbnail's size (a scale of 1/16): drawn, its status bar too, at that size
    assert np.asarray(toasted.at((60, 100))).shape == (100, 60, 3)
    phone.power_off()
    off = phone.panel()
    assert not np.asarray(off.at((120, 200))).any(), "the panel off is not black at a recording size"


def test_screenrecord_sends_a_page_turn_at_most_once_per_refresh(panel) -> None:
    # a display is composed once per vsync (60 Hz): a recording gets no more frames of a one-second page turn than
    # that, however fast its host reads; the panel's clock is the recording's, stepped only by its waits
    from harness.emulator.screenrecord import Recording, stream

    phone, clock = panel
    phone.power_on(instant=True)
    phone.goto("keep_your_life_in_sync")
    clock[0] += 5
    phone.panel()
    phone.goto("app_list")   # a one-second page turn starts now
    started, sent = clock[0], []

    def write(*parts: bytes) -> bool:
        sent.append(clock[0])
        return len(sent) < 500   # a runaway recording is cut off here rather than looping for ever

    def idle(seconds: float) -> None:
        clock[0] += seconds

    stream(phone, Recording((120, 200), 2.0, True), write, lambda: False, clock=lambda: clock[0], idle=idle)
    during = [t for t in sent if t < started + 1.0]
    assert 50 <= len(during) <= 61, f"{len(during)} frames in the turn's second (60 Hz: 60)"
    assert len(sent) - len(during) <= 2, f"{len(sent) - len(during)} frames after the turn ended"
