"""Screens a cover leaves undecided: their anchors are hidden, so what is visible neither confirms nor rules them out.

A banner, a volume overlay or a toast over the top of a page hides the header
and title of every screen at once. A screen whose anchors all lie under it has
no say from its anchors; only its page (the layout cells left uncovered) says
how well it fits. Such a screen is not ruled out: when the best screen is
taken on part of itself (some of its anchors hidden too) and an undecided one
fits the uncovered page about as well, the frame shows too little to tell
them apart and is unknown, never the best's guess. A best whose anchors all
show is not open to this: what identifies it is in view (the on-screen
keyboard covers the bottom of a page, a data page's rows reflow it; neither
hides a header or title).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from harness.vision.compiled import Compiled
    from harness.vision.verdict import Verdict

#: an undecided screen whose page fits the frame within this of the best's keeps the best from being taken (two pages
#: alike fit within a few hundredths of each other; 0.05 refused pages the best fitted clearly better, 0.96 vs 0.93)
RIVAL_MARGIN = 0.02


def mute(lib: "Compiled", visible: np.ndarray) -> np.ndarray:
    """For every screen of ``lib``, whether its visible anchors are too few to say anything (as the verdict's
    anchors: fewer than two visible and none of its own, not shared with other screens)."""
    n = len(lib.screens)
    shown = np.bincount(lib.owner, visible, n)
    own = np.bincount(lib.owner, visible & (lib.weights >= 1.0), n)
    return (shown < np.minimum(2, np.bincount(lib.owner, minlength=n))) & (own == 0)


def undecided_rival(best: "Verdict", undecided: list[tuple[str, float]]) -> tuple[str, float] | None:
    """The undecided screen (name, layout) that fits the uncovered page about as well as ``best`` (within RIVAL_MARGIN) or better, when
    ``best`` itself is seen only in part; None when there is none or all of the best's anchors show."""
    if best.shown >= 1.0:
        return None
    name = best.compiled.definition.name
    fit = best.layout if best.has_layout else best.score
    return max(((n, r) for n, r in undecided if n != name and r > fit - RIVAL_MARGIN), key=lambda x: x[1],
               default=None)
