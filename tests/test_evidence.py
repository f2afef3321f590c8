"""The last frame a failed run keeps (``harness.cli.evidence``): the frame the error carries, else one more
screenshot within a bound; a hung handset does not hang the error path; nothing is written over."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from harness.artifacts import Artifacts
from harness.cli.evidence import keep_evidence
from harness.errors import HarnessError
from harness.vision.definitions import Box


class _Handset:
    def __init__(self, hang: threading.Event | None = None) -> None:
        self.hang, self.shots = hang, 0

    def screenshot(self) -> np.ndarray:
        self.shots += 1
        if self.hang is not None:
            self.hang.wait(60)  # a handset that no longer answers
        return np.full((40, 30, 3), 200, np.uint8)


class _Carrying(HarnessError):
    def __init__(self, frame: np.ndarray, box: Box) -> None:
        super().__init__("the field shows 'x', not 'y'")
        self.frame, self.box = frame, box


def test_the_frame_an_error_carries_is_kept_with_its_field(tmp_path: Path) -> None:
    artifacts = Artifacts(tmp_path)
    frame = np.zeros((80, 60, 3), np.uint8)
    frame[10:20, 5:55] = 255
    handset = _Handset()
    kept = keep_evidence(artifacts, handset, _Carrying(frame, Box(5, 10, 50, 10)))
    assert Path(kept).is_file() and handset.shots == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["001-error-_Carrying.png", "002-error-_Carrying-field.png"], names
    again = keep_evidence(artifacts, handset, _Carrying(frame, Box(5, 10, 50, 10)))
    assert again != kept and len(list(tmp_path.iterdir())) == 4  # a second error's frames beside the first's


def test_a_hung_handset_does_not_hang_the_error_path(tmp_path: Path) -> None:
    hang = threading.Event()
    started = time.monotonic()
    try:
        kept = keep_evidence(Artifacts(tmp_path), _Handset(hang), HarnessError("lost"), seconds=0.5)
    finally:
        hang.set()
    assert time.monotonic() - started < 5
    assert kept == "no screenshot: the handset gave no screenshot within 0.5s" and not list(tmp_path.iterdir())


def test_otherwise_one_more_screenshot_is_kept(tmp_path: Path) -> None:
    kept = keep_evidence(Artifacts(tmp_path), _Handset(), HarnessError("transport closed"))
    assert Path(kept).is_file() and Path(kept).name == "001-error-HarnessError.png"
