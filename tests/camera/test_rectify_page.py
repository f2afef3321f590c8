"""A light page's ceiling in ``normalise`` follows the camera's glare, not the page's large content.

A light page is drawn as a camera sees it: the panel's levels (black 30, white 235), lines of text, a grey
application bar along the bottom (72 view px, 207), and a smooth glare added over it all (a lamp reflected in
the glass adds light). Once normalised, the page just over the bar must be as light as the page further up,
and the bar one grey from its top edge to its middle. The old ceiling (a closing over a window smaller than
the bar, then blurred) followed the bar's edge: a bright halo over it (8 levels) and a dark trench inside its
top (11 levels); now 0-2. (A dark page's floor is unchanged: there a banner and a glare both add light.)
"""

from __future__ import annotations

import cv2
import numpy as np

from harness.camera import normalise

W, H = 1080, 1920
#: The application bar's rows in a 1080x1920 frame (72 view px at 2.25 device px per view px).
BAR = (1758, 1920)
#: Most grey levels the page may differ by over the bar and further up, and the bar at its top edge and middle.
LEVELS = 4


def _seen() -> np.ndarray:
    img = np.full((H, W), 235.0, np.float32)
    for top in range(420, 1650, 140):  # lines of text, 40 px tall
        for x in range(54, 800, 60):
            img[top:top + 40, x:x + 36] = 30.0
    img[BAR[0]:BAR[1]] = 207.0
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.clip(img + 14.0 * np.exp(-((xs - 700) ** 2 + (ys - 1000) ** 2) / (2 * 330.0 ** 2)), 0, 255)
    return np.repeat(img.astype(np.uint8)[..., None], 3, axis=2)


def test_an_application_bar_leaves_no_halo_over_it_and_no_trench_in_it() -> None:
    grey = normalise(_seen())[..., 0].astype(np.float32)
    y0, y1 = BAR
    cols = slice(850, 1030)  # no text there
    over, up = grey[y0 - 60:y0 - 10, cols], grey[1550:1600, cols]
    edge, middle = grey[y0 + 10:y0 + 35, cols], grey[(y0 + y1) // 2:(y0 + y1) // 2 + 25, cols]
    halo = abs(float(np.median(over)) - float(np.median(up)))
    trench = abs(float(np.median(edge)) - float(np.median(middle)))
    assert halo <= LEVELS and trench <= LEVELS, (
        f"the page over the application bar is {halo:.0f} levels off the page further up, the bar's top edge "
        f"{trench:.0f} levels off its middle (at most {LEVELS})")


def test_the_bezel_blurred_into_the_screen_edge_is_not_kept_as_a_line() -> None:
    """A camera at 3 screen px per camera px whose blur carries the black bezel 3 camera px into the screen: the
    rectified frame's outer columns are as light as the page (a grey stripe there read as a "|" line beside a
    list, bench 842483 light; the old fill of 0.6% of the width left 4 px of it)."""
    from harness.camera import homography, rectify

    cam = np.full((900, 700, 3), 14, np.uint8)
    x0, y0, x1, y1 = 170, 130, 530, 770  # the screen: 360 x 640 camera px for 1080 x 1920
    cam[y0:y1, x0:x1] = 235
    cam = cv2.GaussianBlur(cam, (0, 0), 1.5)
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    shot = rectify(cam, homography(corners, W, H), W, H)[..., 0].astype(int)
    page = int(np.median(shot[H // 2 - 50:H // 2 + 50, W // 2 - 50:W // 2 + 50]))
    edges = {"left": shot[H // 4:-H // 4, :16].min(), "right": shot[H // 4:-H // 4, -16:].min(),
             "top": shot[:16, W // 4:-W // 4].min(), "bottom": shot[-16:, W // 4:-W // 4].min()}
    dark = {side: int(v) for side, v in edges.items() if page - v > 10}
    assert not dark, f"the page is {page}; darkest of the outer 16 px: {dark}"
