"""A key the phone missed, through the camera and the robot: ``harness signin`` ends in ``TextNotTyped`` naming what
the field was read as, and the run's artifacts hold the frame of the field it read.

The worker's slot and the run's one calibration (``conftest.py``). The emulated phone is told to miss one tap
of those made on its on-screen keyboard (``touch_fault``, the control socket's fault for the digitiser), so
the address lacks one letter on the phone; what the phone holds is read from its control socket (the test's
ground truth). The second key of the address is the one missed: a letter, not the page key before the '@'.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from robot_slot import CalibrationRun, Slot

ADDRESS = "alice@outlook.com"


@pytest.mark.timeout(900)  # the run's one calibration may be made here
def test_a_key_the_phone_missed_ends_in_text_not_typed_with_the_fields_frame_kept(
        slot: Slot, calibration: CalibrationRun, tmp_path: Path) -> None:
    seed = slot.seed
    assert calibration.returncode == 0, f"harness calibrate failed on bench seed {seed}: {calibration.stderr[-500:]}"
    slot.at_setup()
    slot.control.call("touch_fault", kind="drop", after=1, keyboard=1)
    try:
        done = subprocess.run([sys.executable, "-m", "harness", "signin", "--handset", slot.uri(calibration.path),
                               "--account", ADDRESS, "--password-env", "LAB_PW", "--artifacts", str(tmp_path),
                               "--timeout", "60"], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "LAB_PW": "correct-horse-battery"})
        held = slot.control.call("state")["state"]["fields"]
    finally:
        slot.control.call("touch_fault", kind="clear")
    assert held.get("email") == "aice@outlook.com", f"seed {seed}: the phone holds {held} (the fault missed no key?)"
    assert done.returncode == 2, f"seed {seed}: exit {done.returncode}: {done.stderr.strip()[-800:]}"
    said = re.search(r"typed \d+ keys for 'alice@outlook\.com', but the field at \(\d+, \d+\) shows '([^']*)', "
                     r"not 'alice@outlook\.com'", done.stderr)
    assert said, f"seed {seed}: not a TextNotTyped naming what was read: {done.stderr.strip()[-800:]}"
    assert said.group(1) != ADDRESS
    print(f"bench seed {seed}: read {said.group(1)!r} where the phone holds {held['email']!r}")
    evidence = re.search(r"^evidence: (.+\.png)$", done.stderr, re.M)
    assert evidence, f"seed {seed}: no evidence line: {done.stderr.strip()[-800:]}"
    frame = Path(evidence.group(1))
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert frame.parent == run and frame.name.startswith(tuple("0123456789")) and "TextNotTyped" in frame.name
    image = cv2.imread(str(frame))
    assert image is not None and image.shape[:2] == (1920, 1080), f"{frame}: {None if image is None else image.shape}"
    fields = [p for p in run.glob("*TextNotTyped-field*.png")]
    assert len(fields) == 1, f"seed {seed}: {sorted(p.name for p in run.iterdir())}"
    crop = cv2.imread(str(fields[0]))
    assert crop is not None and crop.shape[1] > 0.6 * 1080 and crop.shape[0] < 0.1 * 1920, crop.shape
