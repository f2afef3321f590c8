"""Masked text shows as dots on the handset's screen, not as empty boxes.

Seen as a user sees it: the emulated handset is reached over ADB, the field is
found by the screen library (not by the renderer's layout), and the glyphs are
judged from the screenshot's pixels. A bullet is a small filled disc; a font's
missing-glyph box is a hollow rectangle, so filled area and roundness tell
them apart.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from harness.vision import find_target


def _blobs(ink: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """Connected ink blobs (x, y, w, h, area), left to right."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    found = [tuple(int(v) for v in stats[i]) for i in range(1, count) if stats[i][cv2.CC_STAT_AREA] >= 4]
    return sorted(found)  # type: ignore[return-value]


def _is_dot(blob: tuple[int, int, int, int, int]) -> bool:
    """Round (as wide as tall) and filled (a disc covers pi/4 of its box; a box outline far less)."""
    _, _, w, h, area = blob
    return abs(w - h) <= max(1, 0.25 * max(w, h)) and area / (w * h) >= 0.6


def _dot_row(blobs: list[tuple[int, int, int, int, int]], count: int) -> None:
    dots = blobs[:count]
    assert len(dots) == count and all(_is_dot(b) for b in dots), f"expected {count} filled dots, saw blobs {blobs}"
    widths = [b[2] for b in dots]
    assert max(widths) - min(widths) <= 1, f"the dots differ in size: {dots}"
    gaps = [b2[0] - b1[0] for b1, b2 in zip(dots, dots[1:])]
    assert gaps and all(g > max(widths) for g in gaps) and max(gaps) - min(gaps) <= 1, f"the dots are not evenly spaced: {dots}"


def _recognize(device, screens, name: str):
    deadline = time.monotonic() + 15
    while True:
        image = device.handset.screenshot()
        rec = screens.recognize(image, device.profile.scale)
        if rec is not None and rec.screen == name:
            return image, rec
        assert time.monotonic() < deadline, f"expected the {name} screen, saw {rec.screen if rec else 'nothing known'}"


@pytest.mark.emulator(screen="account_password", animation_ms=0)
def test_typed_password_shows_one_filled_dot_per_character(device, screens) -> None:
    _, rec = _recognize(device, screens, "account_password")
    x, y = (int(v) for v in find_target(rec, "field:password"))
    device.handset.tap(x, y)
    secret = "pw-" + "x" * 8
    device.handset.text(secret)
    deadline = time.monotonic() + 10
    while True:
        image = device.handset.screenshot()
        # The focused field is white: the largest white area around the tap point is the field's inside.
        white = np.all(image >= 250, axis=2).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(white, connectivity=4)
        around = [s for s in stats[1:] if s[0] <= x < s[0] + s[2] and s[1] <= y < s[1] + s[3]]
        assert around, "no white (focused) field around the tap point"
        x0, y0, w, h, _ = max(around, key=lambda s: s[4])
        blobs = _blobs(image[y0:y0 + h, x0:x0 + w].max(axis=2) < 128)
        if len(blobs) >= len(secret) or time.monotonic() > deadline:
            break
    _dot_row(blobs, len(secret))
    assert len(blobs) == len(secret), f"the field shows more than {len(secret)} dots: {blobs}"


@pytest.mark.emulator(screen="two_step_choose", animation_ms=0)
def test_masked_phone_number_shows_four_dots_then_its_last_digits(device, screens) -> None:
    image, rec = _recognize(device, screens, "two_step_choose")
    x, y = (int(v) for v in find_target(rec, "text"))
    background = image[y, 2].astype(int)
    inked_rows = (np.abs(image[:, :image.shape[1] * 3 // 4].astype(int) - background).sum(axis=2) > 120).any(axis=1)
    # Below the "Text" label (the ink run around the target) comes the masked number's line.
    row = y
    while row < image.shape[0] and inked_rows[row]:
        row += 1
    while row < image.shape[0] and not inked_rows[row]:
        row += 1
    start = row
    while row < image.shape[0] and inked_rows[row]:
        row += 1
    line = image[start:row, :image.shape[1] * 3 // 4]
    ink = np.abs(line.astype(int) - background).sum(axis=2) > 120
    blobs = _blobs(ink)
    _dot_row(blobs, 4)
    assert len(blobs) >= 6 and not any(_is_dot(b) for b in blobs[4:]), f"expected two digits after the dots: {blobs}"
