"""Re-recording the screen library from the emulator (``python -m harness.lab.record_screens``) keeps what a lab
wrote into the definitions by hand: labels, titles, ignore regions, anchors and targets of its own (issue 15);
it removes only crops no definition uses, and marks where a page shows the account's data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from harness.vision import ScreenLibrary
from harness.vision.definitions import DEFAULT_LIBRARY


def _record(folder: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "harness.lab.record_screens", "--out", str(folder)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_recording_again_keeps_what_a_lab_wrote_by_hand(tmp_path: Path) -> None:
    folder = tmp_path / "screens"
    shutil.copytree(DEFAULT_LIBRARY, folder)
    # by hand: an ignore region and an anchor with a crop of its own on calendar, a label and a title on about
    calendar = folder / "calendar.toml"
    shutil.copy(folder / "calendar.anchor0.png", folder / "calendar.by-hand.png")
    calendar.write_text(calendar.read_text().replace("[[ignore]]", '[[anchor]]\nimage = "calendar.by-hand.png"\n'
                                                     "region = [49, 99, 981, 67]\n\n[[ignore]]", 1)
                        + "\n[[ignore]]\nregion = [900, 80, 100, 20]\n")
    about = folder / "about.toml"
    text = about.read_text().replace('label = "reset your phone"', 'label = "reset this phone"', 1)
    about.write_text(text[:text.index("[title]")] if "[title]" in text else text)
    about.write_text(about.read_text() + '\n[title]\ntext = "about the phone"\nregion = [45, 175, 981, 122]\n')
    (folder / "calendar.anchor7.png").write_bytes((folder / "calendar.anchor0.png").read_bytes())  # used by none
    before = {p.name: tomllib.loads(p.read_text()) for p in folder.glob("*.toml")}

    out = _record(folder)
    assert "removed 1 crops no definition uses" in out, out
    after = {p.name: tomllib.loads(p.read_text()) for p in folder.glob("*.toml")}
    assert set(after) == set(before)
    cal = after["calendar.toml"]
    # its words read from its crop, as every text anchor's (harness.lab.anchor_texts); an icon has none
    assert {"image": "calendar.by-hand.png", "region": [49, 99, 981, 67], "text": "CALENDAR"} in cal["anchor"]
    assert [a.get("text") for a in after["about.toml"]["anchor"]] == [
        "SETTINGS", "about", "Resetting restores factory settings; apps and files that aren't backed up are lost."]
    assert [a.get("text") for a in cal["anchor"]][:3] == ["CALENDAR", "agenda", None]
    assert [a.get("icon") for a in cal["anchor"]][:3] == [None, None, True]  # the app bar's button, marked by hand
    assert [900, 80, 100, 20] in [g["region"] for g in cal["ignore"]]
    assert (folder / "calendar.by-hand.png").exists() and not (folder / "calendar.anchor7.png").exists()
    assert {t["name"]: t.get("label") for t in after["about.toml"]["target"]}["reset"] == "reset this phone"
    assert after["about.toml"]["title"] == {"text": "about the phone", "region": [45, 175, 981, 122]}
    for name, old in before.items():  # every label, title, ignore region, anchor crop and target kept
        new = after[name]
        labels = {t["name"]: t.get("label") for t in new.get("target", [])}
        assert all(labels.get(t["name"]) == t["label"] for t in old.get("target", []) if "label" in t), name
        assert old.get("title") == new.get("title") or name == "about.toml", name
        assert all(g in new.get("ignore", []) for g in old.get("ignore", [])), name
        assert {a["image"] for a in old["anchor"]} <= {a["image"] for a in new["anchor"]}, name
        assert {t["name"] for t in old.get("target", [])} <= set(labels), name
    # the recorder marks the account's data: the calendar's list, from below its title down to its app bar
    assert any(300 < g["region"][1] < 400 and g["region"][1] + g["region"][3] >= 1700 for g in cal["ignore"]), cal["ignore"]
    library = ScreenLibrary.load(folder)  # every crop a definition names is there, of its region's size
    assert len(library.names) == len(before)
    texts = {p.name: p.read_text() for p in folder.glob("*.toml")}
    _record(folder)  # once more: nothing added twice
    assert {p.name: p.read_text() for p in folder.glob("*.toml")} == texts
