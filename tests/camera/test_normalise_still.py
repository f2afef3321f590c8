"""A still page through the camera stays still once evened out: frames that differ only by the sensor's noise must
look alike to a wait (``same_picture``), or the wait for the page never ends ("screen never stable").

The frames are three in a row as the emulated camera sent them (JPEG, untouched), of bench 191735's lumia-630 on
its start page (light theme, DejaVu Sans, orange tiles), the stylus parked above the screen's top edge as robot://
parks it after a tap; the corners and lens are its ``harness calibrate``'s. The light page's ceiling over the big
tiles near the left edge flipped by 18 grey levels from frame to frame (a pixel counted as background or not by a
step at FIELD_TOLERANCE), so no two frames in a row were alike and a sign-in timed out on start, whose page was
there all along.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from harness.camera import CameraScreen
from harness.camera.lens import Lens
from harness.profiles import load_profile
from harness.vision.wait import same_picture

FRAMES = sorted((Path(__file__).parent / "frames").glob("start-parked-191735-*.jpg"))
CORNERS = [[332.01047, 511.029878], [307.192809, 152.757142], [986.45741, 139.37853], [974.915865, 516.885958]]
LENS = [-0.079994, 0.0, 640.0, 360.0, 1280.0]


def test_frames_of_a_still_page_are_alike_once_evened_out() -> None:
    profile = load_profile("lumia-630")
    screen = CameraScreen("http://127.0.0.1:9/never-opened", profile, screen_corners=CORNERS,
                          lens=Lens.from_list(LENS))  # its frames are given, not read
    assert len(FRAMES) == 3
    raws = [cv2.cvtColor(cv2.imdecode(np.fromfile(f, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for f in FRAMES]
    shots = [screen.rectified(raw) for raw in raws]
    unlike = [i for i in range(1, len(shots)) if not same_picture(shots[i - 1], shots[i], profile.width / 480)]
    assert not unlike, f"frames {unlike} do not look like the one before: the page never looks still"
