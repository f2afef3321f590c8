"""Fault matrix: bad screen files - duplicate names and targets, path escapes, crops outside the library.

Each case runs `harness ...` from outside and expects a one-line error naming
the file and field, and no file written outside the library folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from faultlab import FaultLab, assert_one_line_error, files_under
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "fixtures" / "screens"



# --------------------------------------------------------------------------- bad files
@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A copy of the shipped screen library that a case may spoil."""
    folder = tmp_path / "screens"
    shutil.copytree(LIBRARY, folder)
    return folder


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    """A screenshot for `harness match` / `harness screens record`."""
    path = tmp_path / "frame.png"
    Image.new("RGB", (480, 800), (0, 0, 0)).save(path)
    return path


def test_two_definitions_with_one_name_are_refused_naming_both_files(fault: FaultLab, library: Path, frame: Path) -> None:
    original = library / "email_accounts.toml"
    copy = library / "zz_email_accounts_again.toml"
    copy.write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    run = fault.run("match", "--screens", str(library), str(frame), deadline=60)
    assert run.rc == 2, run.describe()
    line = assert_one_line_error(run.stderr, str(copy), "name", "duplicate", "email_accounts", str(original))
    assert line.startswith("harness match:")


def test_duplicate_target_names_are_refused_naming_the_field(fault: FaultLab, library: Path, frame: Path) -> None:
    path = library / "keep_your_life_in_sync.toml"
    text = path.read_text(encoding="utf-8")
    names = [line.split("=", 1)[1].strip().strip('"') for line in text.splitlines() if line.startswith("name = ")]
    targets = names[1:]  # the first `name =` is the screen's
    assert len(targets) >= 2, f"expected a definition with two targets; saw {targets}"
    path.write_text(text.replace(f'name = "{targets[1]}"', f'name = "{targets[0]}"', 1), encoding="utf-8")
    run = fault.run("match", "--screens", str(library), str(frame), deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, str(path), "target[1].name", "duplicate", targets[0])


@pytest.mark.parametrize("name", ["../../escape", "../escape", "ABSOLUTE/escape", "sub/escape", "..", ".hidden"])
def test_screens_record_never_writes_outside_the_library(fault: FaultLab, tmp_path: Path, frame: Path, name: str) -> None:
    library = tmp_path / "lab" / "screens" / "mine"
    library.mkdir(parents=True)
    name = name.replace("ABSOLUTE", str(tmp_path / "elsewhere"))
    before = files_under(tmp_path)
    run = fault.run("screens", "record", name, "--from-image", str(frame), "--anchor", "10,10,40,40",
                    "--screens", str(library), deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, "name", repr(name), "not a valid name")
    assert files_under(tmp_path) == before, "screens record wrote a file although it refused the name"


def test_a_crop_file_outside_the_library_is_refused(fault: FaultLab, library: Path, frame: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    shutil.copy(library / "about.anchor0.png", outside)
    path = library / "about.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('image = "about.anchor0.png"', 'image = "../outside.png"'),
                    encoding="utf-8")
    run = fault.run("match", "--screens", str(library), str(frame), deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, str(path), "anchor[0].image", "outside the library")


def test_a_recorded_screen_lands_in_the_library_and_loads(fault: FaultLab, tmp_path: Path, frame: Path) -> None:
    """The refusals above leave the ordinary case alone: a good name is written where it belongs."""
    library = tmp_path / "mine"
    run = fault.run("screens", "record", "my_screen", "--from-image", str(frame), "--anchor", "10,10,40,40",
                    "--target", "ok=60,60,30,30", "--screens", str(library), deadline=60)
    assert run.rc == 0, run.describe()
    assert sorted(p.name for p in library.iterdir()) == ["my_screen.anchor0.png", "my_screen.layout.png",
                                                          "my_screen.target-ok.png", "my_screen.toml"]


def test_screens_record_never_makes_a_second_definition_of_a_name(fault: FaultLab, library: Path, frame: Path) -> None:
    """Recording a name the library has is refused (the shipped file kept byte for byte) unless --replace, and
    --replace never makes a second file of a name another file defines."""
    before = files_under(library)
    record = ("screens", "record", "email_accounts", "--from-image", str(frame), "--anchor", "10,10,40,40",
              "--screens", str(library))
    run = fault.run(*record, deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, str(library / "email_accounts.toml"), "already in the library", "--replace")
    assert files_under(library) == before

    (library / "email_accounts.toml").rename(library / "accounts_list.toml")  # the name now lives in another file
    before = files_under(library)
    run = fault.run(*record, "--replace", deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, "name", "already defined in", str(library / "accounts_list.toml"))
    assert files_under(library) == before

    (library / "accounts_list.toml").rename(library / "email_accounts.toml")
    run = fault.run(*record, "--replace", deadline=60)
    assert run.rc == 0 and (library / "email_accounts.toml").read_bytes() != before["accounts_list.toml"], run.describe()


