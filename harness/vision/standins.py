"""What a covered page shows below the cover: its own buttons and field labels, the stand-ins for its hidden anchors.

A banner, toast or volume overlay over the top of a page hides its header and
title, the anchors a screen is recorded by, and pages of one kind are laid out
alike (a title, a line of text, a button), so the page's layout alone cannot
tell "what's new" from "store" (the "needs an account" page). What the page
shows below the cover can: its targets at fixed places ("connect", "install",
the "Code" label of a field) are its own words, recorded with it. They stand in
for the hidden anchors, compared closer (FINE_SCALE, where words differ).

This module measures them; whether they may name a screen is the contest's
rule (``harness.vision.contest``), the one rule for every way to a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from harness.vision.features import Frame, crop_ink
from harness.vision.verdict import ANCHOR_MARGIN_VIEW, FINE_SCALE, HIDDEN

if TYPE_CHECKING:
    from harness.vision.compiled import Screen


def stand_in_scores(frame: Frame, c: "Screen", templates: dict[tuple[str, str], np.ndarray]) -> list[float]:
    """The FINE_SCALE score of each of the screen's targets at a fixed place (not a list's item) that no cover
    touches: found near its recorded place at the working level, then compared closer there."""
    d, ws = c.definition, frame.working_scale
    m = max(2, round(ANCHOR_MARGIN_VIEW * ws))
    pad = 6  # view pixels around the place found
    out = []
    for target, t, search in c.targets:
        if search is not None or target.image is None:
            continue
        y = t.expected_y(frame.view_height, c.rec_view_h, ws)
        if frame.covered_share(t.x - m, y - m, t.w + 2 * m, t.h + 2 * m) > HIDDEN:
            continue
        _, px, py = frame.correlate(t.ink, t.std, t.x - m, y - m, t.x + m, y + m)
        key = (d.name, target.name)
        if key not in templates:
            templates[key] = crop_ink(target.image, d.scale, FINE_SCALE)
        tpl = templates[key]
        th, tw = tpl.shape
        window = frame.detail(px / ws - pad, py / ws - pad, tw / FINE_SCALE + 2 * pad, th / FINE_SCALE + 2 * pad,
                              FINE_SCALE)
        if window.shape[0] < th or window.shape[1] < tw or float(tpl.std()) < 1e-6:
            continue
        out.append(float(np.nan_to_num(cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)).max()))
    return out
