"""What a page says after an action (backup's 'last backup: today', the Store's 'Installed'), read through a camera:
a dim line read together with the page came out "last ba" on a rectified camera frame (lumia-1320, light theme,
Open Sans, bench 606998: ``harness unlocks --handset robot://`` failed 'backup said neither ...' after 15 s while
the line stood on screen); each line under the title is now read on its own as well.

The frame is the one that run saved (tests/flows/frames, re-encoded as JPEG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from harness.flows.help_page import page_text
from harness.vision import ScreenLibrary
from harness.vision.ocr import normalise

FRAMES = Path(__file__).parent / "frames"


def test_a_dim_line_of_a_camera_frame_is_read_whole() -> None:
    image = np.asarray(Image.open(FRAMES / "backup-done-1320-light-606998.jpg").convert("RGB"))
    rec = ScreenLibrary.shared().classify(image)[0]
    assert rec is not None and rec.screen == "backup"
    said = page_text(rec)
    assert any(normalise("last backup: today") in text for text in said), said
    assert not any(normalise("Sign in with a Microsoft account") in text for text in said), said
