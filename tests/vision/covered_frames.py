"""A page covered from the top down (a dark grey band, as a banner or a notification), and the verdict on it that
the cover tests share: its own screen or unknown, never another."""

from __future__ import annotations

import numpy as np

from harness.vision import ScreenLibrary


def judge_covered(library: ScreenLibrary, clean: np.ndarray, screen: str, reach: int, where: str, must_know: bool,
                  wrong: list[str], missed: list[str]) -> bool:
    """Cover ``clean`` down to ``reach`` view pixels and classify it: a wrong screen goes to ``wrong``, an unknown
    frame that ``must_know`` to ``missed``; True when it was recognised at all."""
    frame = clean.copy()
    frame[:round(reach * frame.shape[1] / 480)] = (40, 40, 40)
    rec, guess = library.classify(frame)
    place = f"{where} {screen} covered down to {reach} view px"
    if rec is not None and rec.screen != screen:
        wrong.append(f"{place}: taken for {rec.screen} ({guess.why()})")
    elif rec is None and must_know:
        missed.append(f"{place}: unknown ({guess.why()})")
    return rec is not None
