"""OCR reads what a person sees on the handset: labels of the emulator's screens drawn with fonts the library was
not recorded with, in frames taken over ADB (never the renderer's strings), and finds a target by its label.

The expected words are this file's own (what the screens say, read off screenshots by a person), not the
library's labels: a library label that drifts from the screen fails ``test_the_library_labels_say_what_the_screen_shows``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import pytest

from harness.vision import ScreenLibrary
from harness.vision.definitions import Box

ocr = pytest.importorskip("harness.vision.ocr")
try:
    ocr.tessdata_dir("eng")
    import tesserocr  # noqa: F401
except (ocr.OcrUnavailable, ImportError) as exc:  # pragma: no cover - scripts/setup installs both
    pytest.skip(f"needs Tesseract (apt-get install tesseract-ocr-eng; pip install tesserocr): {exc}", allow_module_level=True)
from harness.vision.labels import find_label, label_region, tell_apart, title_score  # noqa: E402

FONTS = {
    "dejavu": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "liberation": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "open-sans": "/usr/share/fonts/truetype/open-sans/OpenSans-Regular.ttf",
}
#: What each screen says on its tap targets, as a person reads it.
SAYS = {
    "keep_your_life_in_sync": {"sign_in": "sign in", "sign_in_later": "sign in later"},
    "settings": {"ringtones": "ringtones+sounds", "email_accounts": "email+accounts", "backup": "backup",
                 "phone_update": "phone update", "about": "about"},
    "add_account": {"microsoft": "Microsoft account", "outlook": "Outlook.com", "exchange": "Exchange",
                    "google": "Google"},
    "reset_confirm": {"yes": "yes", "no": "no"},
    "about": {"reset": "reset your phone"},
}
#: Words none of these screens shows: OCR must not find them (a wrong label is not a tap somewhere).
NOT_SHOWN = ("sign out", "cancel", "microsoft store", "delete")
LIBRARY = ScreenLibrary.load_default()


def _frames(font: str, profile: str, theme: str, screens: Iterable[str] = SAYS) -> Iterator[tuple[str, object, float]]:
    """Each screen of SAYS on an emulated handset drawn with ``font``, as a screenshot taken over ADB."""
    from harness.emulator.control import ControlClient
    from harness.handsets.registry import open_handset

    if not Path(font).is_file():
        pytest.skip(f"font {font} is not installed (scripts/setup installs fonts-dejavu-core, fonts-liberation, "
                    "fonts-open-sans)")
    opened = open_handset(f"emulator://{profile}?font={font}&theme={theme}&animation_ms=0")
    control = ControlClient.for_endpoints(opened.endpoints)
    try:
        for screen in screens:
            control.call("goto", screen=screen)  # lab set-up: put the page up; what it says is read over ADB
            yield screen, opened.handset.screenshot(), opened.profile.scale
    finally:
        control.close()
        opened.close()


@pytest.mark.parametrize("profile,theme", [("lumia-930", "dark"), ("lumia-520", "light")])
@pytest.mark.parametrize("font", sorted(FONTS))
def test_labels_are_found_in_their_place_in_other_fonts(font: str, profile: str, theme: str) -> None:
    missed, misplaced, false = [], [], []
    for screen, frame, scale in _frames(FONTS[font], profile, theme):
        definition = LIBRARY.definitions[screen]
        height, width = frame.shape[:2]
        for target in definition.targets:
            words = SAYS[screen].get(target.name)
            if words is None:
                continue
            region = label_region(definition, target, width, height, scale)
            found = find_label(frame, words, region, scale=scale)
            if found is None:
                missed.append(f"{screen}.{target.name} ({words!r}; read {ocr.read_text(frame, region, scale=scale)!r})")
                continue
            # the oracle: where the library file recorded the target, in this frame's pixels (+16 view px)
            k = scale / definition.scale
            r = target.region
            y = r.y * k
            if r.y / definition.scale > definition.height / definition.scale * 0.55 and target.search is None:
                y += height - definition.height * k
            cx, cy = found.centre
            if not (r.x * k - 16 * scale <= cx <= (r.x + r.w) * k + 16 * scale
                    and y - 16 * scale <= cy <= y + r.h * k + 16 * scale):
                misplaced.append(f"{screen}.{target.name} at ({cx:.0f}, {cy:.0f})")
        whole = Box(0, 0, width, height)
        false += [f"{screen}: {w!r} read as {m.read!r}" for w in NOT_SHOWN
                  if (m := find_label(frame, w, whole, scale=scale)) is not None]
    assert not missed, f"{font} {profile} {theme}: labels not read: {missed}"
    assert not misplaced, f"{font} {profile} {theme}: labels found away from their target: {misplaced}"
    assert not false, f"{font} {profile} {theme}: words the screen does not show were found: {false}"


def test_the_library_labels_say_what_the_screen_shows() -> None:
    for screen, says in SAYS.items():
        labels = {t.name: t.label for t in LIBRARY.definitions[screen].targets if t.label}
        for name, words in says.items():
            assert ocr.same_text(labels.get(name, ""), words), f"{screen}.{name}: library label {labels.get(name)!r}, screen says {words!r}"


#: Screens of one layout (a SETTINGS header, a title, a list or a paragraph) and the title each shows; the last two
#: titles take two lines.
TITLED = {"settings": "system", "backup": "backup", "about": "about", "phone_update": "phone update",
          "email_accounts": "email+accounts", "settings_applications": "applications",
          "unknown_account": "that account doesn't exist", "restore_backup": "restore from a backup?"}


@pytest.mark.parametrize("font", sorted(FONTS))
def test_look_alike_screens_are_told_apart_by_their_titles(font: str) -> None:
    alike = [LIBRARY.definitions[name] for name in TITLED]
    wrong = []
    for screen, frame, scale in _frames(FONTS[font], "lumia-520", "light", TITLED):
        scores = {d.name: title_score(frame, d, scale) for d in alike}
        if not scores[screen] >= 0.8 or any(s >= 0.8 for name, s in scores.items() if name != screen):
            wrong.append(f"{screen} ({TITLED[screen]!r}): {scores}")
        elif tell_apart(frame, alike, scale) != screen:
            wrong.append(f"{screen}: tell_apart said {tell_apart(frame, alike, scale)}")
    assert not wrong, f"{font}: {wrong}"


def test_the_library_titles_are_what_the_screens_show() -> None:
    for screen, title in TITLED.items():
        recorded = LIBRARY.definitions[screen].title
        assert recorded is not None and ocr.same_text(recorded.text, title), f"{screen}: {recorded}"
