"""The cover detector tells what lies over a page (a banner, a finger) from what the page draws itself: the
application bar along the bottom of Outlook's inbox, People and Calendar is page, and its button is compared as
an anchor, on every profile and theme; a finger over that bar or a banner over the top still counts as a cover."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from harness.lab.frames import screen_frames
from harness.profiles import load_all
from harness.vision import ScreenLibrary
from harness.vision.features import Frame

LIBRARY = ScreenLibrary.load_default()
PROFILES = [p.name for p in load_all()]
#: the emulator's pages with an application bar (a round button row along the bottom edge)
BAR_PAGES = ("mail", "people", "calendar")


@functools.cache
def _pages(profile: str, theme: str) -> tuple[tuple[str, np.ndarray], ...]:
    return tuple(screen_frames(profile, theme, screens=BAR_PAGES))


def _bar_rows(image: np.ndarray) -> int:
    """Device rows of the application bar, measured on the frame: the rows from the bottom edge up that are
    mostly one grey unlike the page's margin (what a person sees as the bar; a panel's last rows may differ)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(int)
    margin = int(np.median(grey[:, :8]))
    edge = 4
    bar = int(np.median(grey[-2 * edge:-edge]))
    rows = edge
    while rows < grey.shape[0] and (np.abs(grey[-1 - rows] - bar) <= 8).mean() > 0.5 and abs(bar - margin) > 8:
        rows += 1
    return rows


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_pages_own_application_bar_is_no_cover(theme: str) -> None:
    """Clean pages with an application bar: no cover found, every anchor of the page compared (none hidden), the
    page recognised; with a finger over the bar's buttons the finger is a cover, the rest of the bar is not; with a
    banner over the top the banner is a cover and the bar is not."""
    problems = []
    for profile in PROFILES:
        for screen, image in _pages(profile, theme):
            where = f"{profile}/{theme}/{screen}"
            rows = _bar_rows(image)
            assert rows > image.shape[0] * 0.03, f"{where}: no application bar drawn ({rows} rows)"
            frame = Frame(image, bands=LIBRARY.page_bands)
            if frame.any_cover:
                problems.append(f"{where}: a cover found on the clean page ({frame.covered.mean():.1%} of it)")
            rec, guess = LIBRARY.classify(image)
            if rec is None or rec.screen != screen or guess.shown < 1.0 or guess.failed:
                problems.append(f"{where}: {rec.screen if rec else 'unknown'}, {guess.why()}")

            h, w = image.shape[:2]
            # a fingertip resting on the bar's middle button, the finger going on to the edge: skin, and a glove or
            # stylus of nearly the bar's own grey (told from the bar by going on from the page above it)
            bar_grey, page_grey = int(np.median(image[h - rows // 2])), int(np.median(image[:, :8]))
            near = bar_grey + (9 if bar_grey > page_grey else -9)  # 9 grey levels from the bar, away from the page
            for colour in ((224, 172, 140), (near, near, near)):
                fingered = image.copy()
                cx, r = w // 2, round(w * 0.09)
                cv2.circle(fingered, (cx, h - rows - r // 2), r, colour, -1)
                cv2.rectangle(fingered, (cx - r, h - rows - r // 2), (cx + r, h), colour, -1)
                f = Frame(fingered, bands=LIBRARY.page_bands)
                k = f.gray.shape[0] / h
                bar = f.covered[round((h - rows * 0.5) * k)]  # a row through the bar's middle
                mid, edge = bar[round(cx * k)], bar[:round((cx - 2 * r) * k)]
                if not mid or edge.any():
                    problems.append(f"{where}: with a finger {colour} on the bar, finger covered {bool(mid)}, bar "
                                    f"beside it covered {edge.mean():.0%}")

            bannered = image.copy()
            bannered[:h // 8] = (60, 60, 70)
            cv2.putText(bannered, "3 missed calls", (w // 20, h // 16), cv2.FONT_HERSHEY_SIMPLEX, w / 600,
                        (255, 255, 255), max(1, w // 300))
            f = Frame(bannered, bands=LIBRARY.page_bands)
            top, bottom = f.covered[: f.gray.shape[0] // 10].mean(), f.covered[-max(1, round(rows * k * 0.8)):].mean()
            if top < 0.95 or bottom > 0:
                problems.append(f"{where}: under a banner, top covered {top:.0%}, bar covered {bottom:.0%}")
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_finger_along_a_side_margin_over_most_of_the_height_is_the_cover_not_the_page(theme: str) -> None:
    """A finger (or stylus) up from the bottom edge past the middle of the frame, lying along the right margin: the
    longest run of rows of that margin is the finger, not the page. The finger is the cover and the page beside it
    is not (taken for the page's light, the finger's colour made the whole frame a cover: bench_fonts
    10/open-sans/lumia-630/light/restore_backup/finger was 96% covered)."""
    (_, image), = screen_frames("lumia-630", theme, screens=("restore_backup",))
    h, w = image.shape[:2]
    problems = []
    for colour in ((60, 85, 140), (224, 172, 140)):
        fingered = image.copy()
        x0, x1, top = round(w * 0.79), w - 4, round(h * 0.1)
        cv2.ellipse(fingered, ((x0 + x1) // 2, top), ((x1 - x0) // 2, (x1 - x0) // 2), 0, 180, 360, colour, -1)
        cv2.rectangle(fingered, (x0, top), (x1, h), colour, -1)
        f = Frame(fingered, bands=LIBRARY.page_bands)
        k = f.gray.shape[1] / w
        finger = f.covered[f.gray.shape[0] // 2, round((x0 + 8) * k):round((x1 - 8) * k)]
        page = f.covered[:, :round(w * 0.6 * k)]  # (the cover takes in words the finger touches, beside it)
        if not finger.all() or page.any():
            problems.append(f"{colour}: finger covered {finger.mean():.0%}, page beside it {page.mean():.0%}")
    assert not problems, f"lumia-630/{theme}/restore_backup: " + "; ".join(problems)
