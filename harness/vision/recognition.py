"""What recognition answers: the screen a frame shows and its targets (``Recognition``), the guess behind an
answer or an unknown frame (``Guess``), and where to tap a target of it (``find_target``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from harness.vision.definitions import ScreenDefinition


class Guess(NamedTuple):
    """The best screen for a frame and why it was (or was not) accepted."""

    screen: str
    score: float
    runner_up: str = ""
    runner_up_score: float = 0.0
    failed: tuple[str, ...] = ()   # anchors of the best screen that did not agree: "anchor[1] (x.png) 0.31" or "hidden"
    shown: float = 0.0             # share of the best screen's anchor area that was visible
    note: str = ""                 # what else kept it from being taken (a screen under the cover fits as well)

    def why(self) -> str:
        """One line: the best two screens, their scores, which anchors of the best failed, and any other reason."""
        failed = f"; its anchors that failed: {', '.join(self.failed)}" if self.failed else ""
        return (f"best {self.screen} {self.score:.2f} ({self.shown:.0%} of its anchors visible), "
                f"runner-up {self.runner_up or 'none'} {self.runner_up_score:.2f}{failed}"
                + (f"; {self.note}" if self.note else ""))


@dataclass
class Recognition:
    """Which screen a frame shows, how sure we are, and where its targets are (device pixels).

    ``targets`` are where their templates were found (recognition stays fast: no OCR). A list item's row is read
    only when asked (``find_target``, ``confirm_list_items``): in a list every row is a tile and a word, and a
    template may fit another item's row.
    """

    screen: str
    score: float
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)
    runner_up: tuple[str, float] | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    scale: float = 1.0
    hidden: tuple[str, ...] = ()  # anchors under a cover (a banner, a finger)
    ms: float = 0.0
    definition: ScreenDefinition | None = field(default=None, repr=False)  # for targets found by label (OCR)


def find_target(recognition: Recognition, name: str) -> tuple[float, float]:
    """Where to tap for ``name`` on the recognised screen, in device pixels.

    A target whose template was not found, or a list item whose row does not say
    its label, is looked for by OCR (only now, only in its own region; ``harness.vision.ocr``).
    """
    found = recognition.targets.get(name)
    if recognition.definition is not None:  # a list item is read where found; a target not found, by its label
        from harness.vision.labels import locate_labelled

        found = locate_labelled(recognition, name, found)
        if found is not None:
            recognition.targets[name] = found
        else:
            recognition.targets.pop(name, None)
    if found is None:
        raise KeyError(f"screen {recognition.screen} shows no target {name!r} (found: {', '.join(sorted(recognition.targets)) or 'none'})")
    return found


def confirm_list_items(recognition: Recognition) -> dict[str, tuple[float, float]]:
    """``recognition.targets`` where a tap would land: each list item found by its template (a target with a label,
    searched over a list) checked as ``find_target`` checks it before a tap, its row read by OCR: kept, moved to
    where its label is read, or dropped. Without OCR installed the template's place stands, as for a tap."""
    d = recognition.definition
    for t in d.targets if d is not None else []:
        if t.label and t.search is not None and t.name in recognition.targets:
            try:
                find_target(recognition, t.name)
            except KeyError:
                pass  # its label is nowhere on the list: dropped (find_target removed it)
    return recognition.targets
