"""A covered frame told by what its page shows below the cover: the page's own buttons and field labels.

A banner, toast or volume overlay over the top of a page hides its header and
title, the anchors a screen is recorded by, and pages of one kind are laid out
alike (a title, a line of text, a button), so the page's layout alone cannot
tell "what's new" from "store" (the "needs an account" page). What the page
shows below the cover can: its targets at fixed places ("connect", "install",
the "Code" label of a field) are its own words, recorded with it. They stand in
for the hidden anchors, compared closer (FINE_SCALE, where words differ).

Only a frame the matcher leaves unknown with a cover found is looked at, and a
screen is taken only when nothing else is left standing: it fits the uncovered
page as a layout alone must (LAYOUT_ALONE, with enough of the page's contrast),
every one of its stand-ins in view agrees (STANDIN_SCORE), none of its anchors
in view disagrees, and every other screen whose page fits about as well is
ruled out by an anchor in view that disagrees or a stand-in of its own in view
that does not say what the frame says (STANDIN_MARGIN below). A screen with no
stand-in in view is not ruled out: the frame stays unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from harness.vision.features import Frame, crop_ink
from harness.vision.verdict import (ANCHOR_MARGIN_VIEW, FINE_SCALE, HIDDEN, LAYOUT_ALONE, LAYOUT_CONTENT,
                                    LAYOUT_MIN_SHOWN, Verdict, check)

if TYPE_CHECKING:
    from harness.vision.compiled import Compiled, Screen

STANDIN_SCORE = 0.85    # every stand-in in view of the screen taken correlates at least this well, closer
STANDIN_MARGIN = 0.1    # ... and a rival's stand-in this much less rules the rival out
FITS_AS_WELL = 0.15     # screens whose page fits within this of the one taken are its rivals (as contest's)


def _stand_ins(frame: Frame, c: "Screen", templates: dict[tuple[str, str], np.ndarray]) -> list[float]:
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


def told_by_stand_ins(frame: Frame, lib: "Compiled", anchor_templates: dict[tuple[str, int], np.ndarray],
                      templates: dict[tuple[str, str], np.ndarray]) -> Verdict | None:
    """The screen a covered frame shows, told by its stand-ins (see the module's docstring), or None."""
    if not frame.any_cover:
        return None
    n = len(lib.screens)
    layout, shown, content = lib.layout.scores(frame, HIDDEN, n)
    fits = np.isfinite(layout) & (shown >= LAYOUT_MIN_SHOWN) & (content >= LAYOUT_CONTENT)
    if not fits.any():
        return None
    top = float(np.max(np.where(fits, layout, -1.0)))
    if top < LAYOUT_ALONE:
        return None
    # every screen whose page fits about as well: the one taken must rule out all the others
    rivals = [i for i in range(n) if np.isfinite(layout[i]) and layout[i] >= top - FITS_AS_WELL]
    said: dict[int, tuple[Verdict, bool, list[float]]] = {}
    for i in rivals:
        v = check(frame, lib.screens[i], (layout[i], shown[i], content[i]), anchor_templates)
        _, agree = v._anchors()
        said[i] = (v, agree, _stand_ins(frame, lib.screens[i], templates))
    taken = [i for i, (v, agree, s) in said.items()
             if agree and s and min(s) >= STANDIN_SCORE and fits[i] and layout[i] >= LAYOUT_ALONE
             and lib.screens[i].layout_weight >= 1.0]
    if len(taken) != 1:
        return None
    best = taken[0]
    bar = min(said[best][2]) - STANDIN_MARGIN
    for i, (v, agree, s) in said.items():
        if i != best and agree and not (s and min(s) < bar):
            return None  # neither its anchors nor its stand-ins rule it out
    return said[best][0]
