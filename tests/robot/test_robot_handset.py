"""``robot://``: a phone on the emulated robot's bed, seen by the emulated camera, driven like any handset.

The worker's slot (``conftest.py``: ``--camera --robot``, a random bench seed, printed). The slot's calibration is
written here from the placement the control socket tells (as a lab's would be after ``harness calibrate``),
so these tests check the handset, not the calibration: screenshots are the rectified camera frame the screen
library recognises, taps land where they are aimed (the emulator's touch log), the capacitive back key goes
back, and a tap off the phone is refused before the robot moves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.handsets import open_handset
from harness.robot.gestures import Feeds
from harness.robot.grbl import MoveRefused
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap, Calibration, write_calibration
from harness.vision.matcher import ScreenLibrary
from robot_slot import Slot

#: setup_welcome's 'next' button, the centre of its region in fixtures/screens/setup_welcome.toml (1080x1920)
NEXT = (51 + 977 / 2, 1737 + 130 / 2)


@pytest.fixture(scope="module")
def truth(slot: Slot, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The slot with a calibration written from the placement its control socket tells (the bench's truth)."""
    bench = slot.bench
    corners = bench["screen_corners"]  # bed mm of the screen's TL, TR, BR, BL
    bed, _ = BedMap.fit(corners, [(0, 0), (1080, 0), (1080, 1920), (0, 1920)])
    xs = [p[0] for p in corners + list(bench["keys"].values())]
    ys = [p[1] for p in corners + list(bench["keys"].values())]
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=bench["glass_z"] - 0.5, hover_z=bench["glass_z"] + 5,
                    area=((min(xs) - 5, max(xs) + 5), (min(ys) - 5, max(ys) + 5)))
    path = tmp_path_factory.mktemp("truth") / "calibration.toml"
    write_calibration(path, Calibration("lumia-930", bed, limits, Feeds(), residual_px=0.0))
    return {"control": slot.control, "uri": slot.uri(path), "path": path, "slot": slot}


def test_the_robot_handset_sees_taps_and_presses_keys_like_any_handset(truth: dict[str, Any]) -> None:
    control, slot = truth["control"], truth["slot"]
    seed = slot.seed
    control.call("goto", screen="setup_welcome")
    library = ScreenLibrary.shared()
    opened = open_handset(truth["uri"])
    try:
        handset = opened.handset
        assert (handset.info.width, handset.info.height) == (1080, 1920)
        shot = handset.screenshot()
        assert shot.shape == (1920, 1080, 3)
        rec, guess = library.classify(shot, 2.25)
        assert rec is not None and rec.screen == "setup_welcome", f"seed {seed}: {guess.why()}"
        handset.tap(*(round(v) for v in NEXT))
        after = slot.screen(other_than="setup_welcome")
        assert after != "setup_welcome", f"seed {seed}: the tap on 'next' did nothing"
        handset.key("back")
        assert slot.screen(other_than=after) == "setup_welcome", f"seed {seed}"
        with pytest.raises(MoveRefused, match="outside the phone's area"):
            handset.tap(-300, 960)  # 17 mm beside the screen: refused before the robot moves
    finally:
        opened.close()
    tap, key = control.call("robot_touches", n=2)["touches"]
    assert tap["kind"] == "tap" and (tap["x"], tap["y"]) == pytest.approx(NEXT, abs=2.0)
    assert key["kind"] == "key" and key["key"] == "back"


def test_harness_match_takes_a_robot_uri(truth: dict[str, Any]) -> None:
    truth["control"].call("goto", screen="setup_welcome")
    out = subprocess.run([sys.executable, "-m", "harness", "match", "--handset", truth["uri"], "--profile", "lumia-930",
                          "--timeout", "60"], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "setup_welcome" in out.stdout and Path(truth["path"]).exists()
