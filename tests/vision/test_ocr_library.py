"""The library as data a lab edits (labels: refused when bad or ambiguous, kept when re-recorded, a target marked only
by its label is tapped where OCR reads it), `harness read-text` from outside, the OCR cache, and the typed error
when Tesseract is missing. Frames are screenshots taken over ADB from `harness emulate` in a font the library was
not recorded with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.errors import ConfigError
from harness.vision import ScreenLibrary, find_target, load_definition
from harness.vision.definitions import DEFAULT_LIBRARY, Box
from harness.vision.recording import write_definition

ocr = pytest.importorskip("harness.vision.ocr")
try:
    ocr.tessdata_dir("eng")
    import tesserocr  # noqa: F401
except (ocr.OcrUnavailable, ImportError) as exc:  # pragma: no cover - scripts/setup installs both
    pytest.skip(f"needs Tesseract (apt-get install tesseract-ocr-eng; pip install tesserocr): {exc}", allow_module_level=True)

LIBERATION = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"
SHOTS = ("keep_your_life_in_sync", "settings")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Screenshots over ADB of an emulated lumia-930 drawn in Liberation Sans (lab set-up puts each page up)."""
    from harness.emulator.control import ControlClient
    from harness.handsets.registry import open_handset

    if not Path(LIBERATION).is_file():
        pytest.skip("needs fonts-liberation (apt-get install fonts-liberation)")
    folder = tmp_path_factory.mktemp("shots")
    opened = open_handset(f"emulator://lumia-930?font={LIBERATION}&animation_ms=0")
    control = ControlClient.for_endpoints(opened.endpoints)
    try:
        out = {}
        for screen in SHOTS:
            control.call("goto", screen=screen)
            out[screen] = folder / f"{screen}.png"
            Image.fromarray(opened.handset.screenshot()).save(out[screen])
        return out
    finally:
        control.close()
        opened.close()


def _harness(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=timeout)


def _library_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "screens"
    shutil.copytree(DEFAULT_LIBRARY, folder)
    return folder


# --------------------------------------------------------------------------- the format
@pytest.mark.parametrize("label,problem", [('""', "expected the words"), ("42", "expected the words"),
                                           ('"' + "x" * 81 + '"', "at most 80")])
def test_a_bad_label_is_refused_naming_the_field(tmp_path: Path, label: str, problem: str) -> None:
    path = _library_copy(tmp_path) / "about.toml"
    path.write_text(path.read_text().replace('label = "reset your phone"', f"label = {label}"))
    with pytest.raises(ConfigError) as failed:
        load_definition(path)
    assert str(failed.value).startswith(f"{path}: target[0].label: ") and problem in str(failed.value)
    assert "\n" not in str(failed.value)


def test_two_targets_saying_the_same_words_are_refused(tmp_path: Path) -> None:
    path = _library_copy(tmp_path) / "reset_confirm.toml"
    path.write_text(path.read_text().replace('label = "no"', 'label = "Yes "'))
    run = _harness("match", "--screens", str(path.parent), str(path.parent / "reset_confirm.anchor0.png"))
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert f"{path}: target[1].label: duplicate label 'Yes' (also target[0])" in run.stderr, run.stderr


def test_a_target_needs_an_image_or_a_label(tmp_path: Path) -> None:
    path = _library_copy(tmp_path) / "about.toml"
    path.write_text(path.read_text().replace('label = "reset your phone"\n', "").replace('image = "about.target-reset.png"\n', ""))
    with pytest.raises(ConfigError, match=r"target\[0\]\.image: missing: a target needs an image \(a crop\) or a label"):
        load_definition(path)


def test_recording_again_keeps_the_labels_a_lab_wrote(tmp_path: Path, shots: dict[str, Path]) -> None:
    folder = _library_copy(tmp_path)
    image = np.asarray(Image.open(shots["keep_your_life_in_sync"]).convert("RGB"))
    path = write_definition(folder, "keep_your_life_in_sync", image, [Box(49, 99, 981, 67)],
                            [("sign_in", Box(51, 1737, 477, 130), (0, 0), None),
                             ("sign_in_later", Box(551, 1737, 477, 130), (0, 0), None, "not now")], [])
    definition = load_definition(path)
    assert {t.name: t.label for t in definition.targets} == {"sign_in": "sign in", "sign_in_later": "not now"}
    assert definition.title is not None and definition.title.text == "keep your life in sync"
    assert definition.title.region == Box(45, 175, 981, 122)


@pytest.mark.parametrize("title,field,problem", [
    ('"backup"', "title", "expected [title] with text"),
    ('{ text = "backup" }', "title.region", "expected [x, y, w, h]"),
    ('{ text = "backup", region = [0, 0, 2000, 10] }', "title.region", "off the recorded 1080x1920 screen"),
    ('{ text = "", region = [45, 175, 981, 122] }', "title.text", "expected the words"),
    ('{ text = "backup", region = [45, 175, 981, 122], font = "x" }', "title", "font"),
])
def test_a_bad_title_is_refused_naming_the_field(tmp_path: Path, title: str, field: str, problem: str) -> None:
    path = _library_copy(tmp_path) / "backup.toml"
    text = path.read_text()
    text = text[:text.index("[title]")].replace("\n[[anchor]]", f"title = {title}\n\n[[anchor]]", 1)
    path.write_text(text)
    with pytest.raises(ConfigError) as failed:
        load_definition(path)
    assert str(failed.value).startswith(f"{path}: {field}") and problem in str(failed.value), str(failed.value)


# --------------------------------------------------------------------------- targets by label
def test_a_target_marked_only_by_its_label_is_tapped_where_ocr_reads_it(tmp_path: Path, shots: dict[str, Path]) -> None:
    folder = _library_copy(tmp_path)
    path = folder / "settings.toml"
    # a lab adds "about" by its words only: no crop, just where it is on the recorded screen
    text = path.read_text()
    start = text.index('name = "about"')
    block_end = text.index("[[ignore]]")
    path.write_text(text[:start] + 'name = "about"\nlabel = "about"\nregion = [49, 823, 203, 108]\n'
                    'search = [0, 292, 1080, 1628]\n\n' + text[block_end:])
    library = ScreenLibrary.load(folder)
    frame = np.asarray(Image.open(shots["settings"]).convert("RGB"))
    rec = library.recognize(frame)
    assert rec is not None and rec.screen == "settings", library.best_guess(frame).why()
    assert "about" not in rec.targets  # no template: nothing found before a flow asks
    x, y = find_target(rec, "about")
    # "about" is the fifth item of the list: below "phone update", left of the middle (measured on the frame)
    update = find_target(rec, "phone_update")
    assert update[1] + 60 < y < update[1] + 200 and 40 < x < 540, (x, y, update)
    with pytest.raises(KeyError, match="shows no target 'reset'"):
        find_target(rec, "reset")


# --------------------------------------------------------------------------- harness read-text
def test_read_text_prints_what_the_screen_says_in_a_region_and_at_a_target(shots: dict[str, Path]) -> None:
    shot = str(shots["keep_your_life_in_sync"])
    run = _harness("read-text", shot, "--region", "0,80,1080,240", "--json")
    assert run.returncode == 0, run.stderr
    read = json.loads(run.stdout)
    assert [ocr.normalise(line) for line in read["lines"]] == ["microsoft account", "keep your life in sync"], read
    run = _harness("read-text", shot, "--target", "sign_in_later", "--screen", "keep_your_life_in_sync")
    assert run.returncode == 0 and run.stdout.strip() == "sign in later", (run.stdout, run.stderr)


def test_read_text_from_a_handset_over_adb() -> None:
    if not Path(LIBERATION).is_file():
        pytest.skip("needs fonts-liberation (apt-get install fonts-liberation)")
    run = _harness("read-text", "--handset", f"emulator://lumia-520?font={LIBERATION}&screen=settings&animation_ms=0",
                   "--region", "0,40,480,120", "--timeout", "90")
    assert run.returncode == 0, run.stderr
    assert [ocr.normalise(line) for line in run.stdout.splitlines()] == ["settings", "system applications"], run.stdout


@pytest.mark.parametrize("args,error", [
    (["--region", "5000,0,10,10"], "--region: region [5000, 0, 10, 10] is off the 1080x1920 frame"),
    (["--region", "1,2,3"], "--region: expected x,y,w,h in pixels, got '1,2,3'"),
    (["--target", "nope", "--screen", "settings"], "--target: screen settings has no target 'nope' (its targets: ringtones,"),
    (["--target", "sign_in", "--screen", "nope"], "--screen: no screen 'nope' in the library"),
])
def test_read_text_refuses_bad_places_in_one_line(shots: dict[str, Path], args: list[str], error: str) -> None:
    run = _harness("read-text", str(shots["settings"]), *args)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and error in run.stderr, run.stderr


# --------------------------------------------------------------------------- cache and missing Tesseract
def test_a_region_is_read_once_per_frame_and_a_changed_frame_is_read_again(shots: dict[str, Path]) -> None:
    frame = np.asarray(Image.open(shots["settings"]).convert("RGB")).copy()
    region = Box(0, 300, 1080, 700)
    before = ocr.cache_stats()
    first = ocr.read_text(frame, region)
    again = ocr.read_text(frame, region)
    after = ocr.cache_stats()
    assert first == again and after["reads"] - before["reads"] == 1 and after["hits"] - before["hits"] == 1
    frame[300:1000] = frame[300:1000, ::-1]  # the same buffer, other pixels (a driver reusing its frame buffer)
    ocr.read_text(frame, region)
    assert ocr.cache_stats()["reads"] - after["reads"] == 1


def test_without_tesseract_the_error_names_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['tesserocr'] = None\n"
            "import numpy as np\nfrom harness.vision.ocr import read_text\n"
            "read_text(np.zeros((800, 480, 3), np.uint8))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "OcrUnavailable: OCR: the tesserocr module is not installed" in run.stderr, run.stderr
    assert "apt-get install tesseract-ocr tesseract-ocr-eng" in run.stderr and "handset-harness[ocr]" in run.stderr
    empty = tmp_path / "tessdata"
    empty.mkdir()
    Image.new("RGB", (480, 800)).save(tmp_path / "x.png")
    run = subprocess.run([sys.executable, "-m", "harness.cli", "read-text", "--lang", "xx", str(tmp_path / "x.png")],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "TESSDATA_PREFIX": str(empty)})
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "no Tesseract language data for 'xx'" in run.stderr and "apt-get install tesseract-ocr tesseract-ocr-xx" in run.stderr
