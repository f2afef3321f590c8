"""Covered frames in a held-out font, recognised by reading their text anchors (issue 15: renderer independence under
occlusion): drawn in a face the library was not recorded in, a paragraph anchor matches its crop too little when a
banner or the volume overlay hides the screen's other anchors; its words, recorded in the definition
(``text``), are read by OCR instead (harness.vision.anchor_text). The frames are the emulator's, drawn with the face
and covered as tests/vision/test_perturbations.py covers them; the answer is the screen the emulator was told to show.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.lab.frames import HELD_OUT_FACES, screen_frames
from harness.lab.perturb import apply, frame_rng
from harness.vision import ScreenLibrary, anchor_text
from harness.vision.definitions import load_definition

pytest.importorskip("tesserocr")

LIBRARY = ScreenLibrary.load_default()

#: (face, profile, theme, screen, cover, seed): covered frames in held-out faces that the pixels leave unknown
CASES = [("cantarell", "lumia-520", "light", "store_no_account", "volume", 1),
         ("open-sans", "lumia-520", "dark", "backup", "banner", 1)]


def _without_words() -> ScreenLibrary:
    """The shipped library with no anchor's words: what matching was before them."""
    definitions = copy.deepcopy(list(LIBRARY.definitions.values()))
    for d in definitions:
        for a in d.anchors:
            a.text = ""
    return ScreenLibrary(definitions)


@pytest.mark.parametrize("face,profile,theme,screen,cover,seed", CASES)
def test_a_covered_frame_in_a_held_out_face_is_recognised_by_its_words(
        face: str, profile: str, theme: str, screen: str, cover: str, seed: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert face in HELD_OUT_FACES + ("cantarell",)  # never tuned on (harness.lab.frames)
    [(_, clean)] = list(screen_frames(profile, theme, face, screens=(screen,)))
    covered = apply(clean, cover, frame_rng(seed, face, profile, theme, screen, cover))
    reads: list[object] = []
    real = anchor_text.read_region
    monkeypatch.setattr(anchor_text, "read_region", lambda *a, **k: reads.append(a[1]) or real(*a, **k))

    rec, guess = LIBRARY.classify(clean)
    assert rec is not None and rec.screen == screen, guess.why()
    assert reads == [], "a clean frame's anchors are never read"

    rec, guess = LIBRARY.classify(covered)
    assert rec is not None and rec.screen == screen, guess.why()
    assert reads, "recognised by its words read"
    # without the words the same frame is unknown (never a wrong screen): the words are what recognised it
    assert _without_words().recognize(covered) is None


def test_words_a_word_apart_tell_their_screens_apart() -> None:
    """Paragraphs a word apart look alike to the pixels; read, the word that differs decides, and a reading that
    garbles it decides nothing."""
    music = "you need a microsoft account to use xbox music."
    video = "you need a microsoft account to use xbox video."
    others = {"enter the email address of your microsoft account.", "top free apps for your phone."}
    assert anchor_text.says("You need a Microsoft account to use Xbc Music.", music, others | {video})
    assert not anchor_text.says("You need a Microsoft account to use Xbc Music.", video, others | {music})
    assert not anchor_text.says("You need a Microsoft account to use Xbox Mvdeic.", music, others | {video})
    assert not anchor_text.says("You need a Microsoft account", music, others | {video})


def test_an_anchor_s_words_are_one_printable_line(tmp_path: Path) -> None:
    source = Path(LIBRARY.definitions["about"].path)
    for bad in ("5", '"two\\nlines"', '" "'):
        (tmp_path / "about.anchor0.png").write_bytes((source.parent / "about.anchor0.png").read_bytes())
        (tmp_path / "about.toml").write_text(
            'name = "about"\nrecorded = { width = 1080, height = 1920 }\n\n[[anchor]]\nimage = "about.anchor0.png"\n'
            f"region = [49, 99, 981, 67]\ntext = {bad}\n")
        with pytest.raises(ConfigError, match=r"anchor\[0\]\.text"):
            load_definition(tmp_path / "about.toml")
