"""``robot://``: a phone on the emulated robot's bed, seen by the emulated camera, driven like any handset.

One emulator (``--camera --robot``, a random bench seed, printed) for the module. The slot's calibration is
written here from the placement the control socket tells (as a lab's would be after ``harness calibrate``),
so these tests check the handset, not the calibration: screenshots are the rectified camera frame the screen
library recognises, taps land where they are aimed (the emulator's touch log), the capacitive back key goes
back, and a tap off the phone is refused before the robot moves.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from harness.deadline import deadline_of, until
from harness.emulator.control import ControlClient
from harness.handsets import open_handset
from harness.robot.gestures import Feeds
from harness.robot.grbl import MoveRefused
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap, Calibration, write_calibration
from harness.vision.matcher import ScreenLibrary

SEED = random.SystemRandom().randrange(10**6)
#: setup_welcome's 'next' button, the centre of its region in fixtures/screens/setup_welcome.toml (1080x1920)
NEXT = (51 + 977 / 2, 1737 + 130 / 2)


@pytest.fixture(scope="module")
def slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    print(f"bench seed {SEED}")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", "lumia-930", "--camera", "--robot",
                             "--bench-seed", str(SEED), "--robot-time-scale", "4", "--animation-ms", "0",
                             "--boot-time", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"harness emulate --camera --robot --bench-seed {SEED} printed nothing"
        endpoints = json.loads(line)
        with ControlClient.for_endpoints(endpoints) as control:
            bench = control.call("bench")
            corners = bench["screen_corners"]  # bed mm of the screen's TL, TR, BR, BL
            bed, _ = BedMap.fit(corners, [(0, 0), (1080, 0), (1080, 1920), (0, 1920)])
            xs = [p[0] for p in corners + list(bench["keys"].values())]
            ys = [p[1] for p in corners + list(bench["keys"].values())]
            limits = Limits(Box.from_travel(150, 200, 50), touch_z=bench["glass_z"] - 0.5, hover_z=bench["glass_z"] + 5,
                            area=((min(xs) - 5, max(xs) + 5), (min(ys) - 5, max(ys) + 5)))
            path = tmp_path_factory.mktemp("slot") / "calibration.toml"
            write_calibration(path, Calibration("lumia-930", bed, limits, Feeds(), residual_px=0.0))
            uri = (f"robot://{quote(endpoints['robot'], safe='')}?camera={quote(endpoints['camera'], safe='')}"
                   f"&calibration={quote(str(path), safe='')}&profile=lumia-930")
            yield {"control": control, "uri": uri, "path": path, "endpoints": endpoints}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _screen(control: ControlClient, other_than: str | None = None, timeout: float = 15.0) -> str:
    at = deadline_of(timeout)
    while True:
        screen = control.call("state")["state"]["screen"]
        if screen != other_than or not until(at):
            return screen
        control.call("ping")  # one round trip between looks, no sleep


def test_the_robot_handset_sees_taps_and_presses_keys_like_any_handset(slot: dict[str, Any]) -> None:
    control = slot["control"]
    control.call("goto", screen="setup_welcome")
    library = ScreenLibrary.shared()
    opened = open_handset(slot["uri"])
    try:
        handset = opened.handset
        assert (handset.info.width, handset.info.height) == (1080, 1920)
        shot = handset.screenshot()
        assert shot.shape == (1920, 1080, 3)
        rec, guess = library.classify(shot, 2.25)
        assert rec is not None and rec.screen == "setup_welcome", f"seed {SEED}: {guess.why()}"
        handset.tap(*(round(v) for v in NEXT))
        after = _screen(control, other_than="setup_welcome")
        assert after != "setup_welcome", f"seed {SEED}: the tap on 'next' did nothing"
        handset.key("back")
        assert _screen(control, other_than=after) == "setup_welcome", f"seed {SEED}"
        with pytest.raises(MoveRefused, match="outside the phone's area"):
            handset.tap(-300, 960)  # 17 mm beside the screen: refused before the robot moves
    finally:
        opened.close()
    tap, key = control.call("robot_touches", n=2)["touches"]
    assert tap["kind"] == "tap" and (tap["x"], tap["y"]) == pytest.approx(NEXT, abs=2.0)
    assert key["kind"] == "key" and key["key"] == "back"


def test_harness_match_takes_a_robot_uri(slot: dict[str, Any]) -> None:
    slot["control"].call("goto", screen="setup_welcome")
    out = subprocess.run([sys.executable, "-m", "harness", "match", "--handset", slot["uri"], "--profile", "lumia-930",
                          "--timeout", "60"], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "setup_welcome" in out.stdout and Path(slot["path"]).exists()
