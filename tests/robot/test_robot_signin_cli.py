"""Sign-in on a phone driven only through a camera and a tapping robot, end to end through the CLI.

The worker's slot and the run's one calibration (``conftest.py``: ``--camera --robot``, a bench seed picked at
random and printed; ``harness calibrate`` writes the slot's calibration from what the camera sees and the robot
does), then
``harness signin --handset robot://...`` runs the setup flow unchanged: a wrong password ends on the handset's
wrong_password screen, named as over ADB (exit 3). The slot then goes into a rack inventory as a robot table
naming its calibration file; ``harness match --device`` names the screen and ``harness signin --device`` types
the address, the password and the access code (sent by text to the inventory's modem) on the on-screen
keyboard it finds on camera frames. What the phone
then holds is read from its control socket (the test's ground truth, never the harness's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robot_slot import CalibrationRun, Slot


def _harness(*args: str, password: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAB_PW": password} if password else None
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.timeout(900)  # the run's one calibration may be made here (1-2 minutes idle, more under load)
def test_calibrate_then_sign_in_through_the_camera_and_the_robot(slot: Slot, calibration: CalibrationRun,
                                                                  tmp_path: Path) -> None:
    control, endpoints, folder, seed = slot.control, slot.endpoints, tmp_path, slot.seed
    assert calibration.returncode == 0, \
        f"harness calibrate failed on bench seed {seed}: {calibration.stderr.strip()[-500:]}"
    uri = slot.uri(calibration.path)

    slot.at_setup()
    bad = _harness("signin", "--handset", uri, "--account", "bob@outlook.com", "--password-env", "LAB_PW",
                   "--artifacts", str(folder / "bad"), "--timeout", "60", password="not-the-password-42")
    assert bad.returncode == 3, f"seed {seed}: {bad.stderr.strip()[-800:]}"
    assert "the handset shows wrong_password" in bad.stderr
    assert "not-the-password-42" not in bad.stdout + bad.stderr

    # the slot in the rack's inventory: a robot table naming its calibration file, kept beside the inventory
    shutil.copy(calibration.path, folder / "calibration.toml")
    inventory = folder / "rack.toml"
    inventory.write_text(f"""[[handset]]
name = "slot1"
profile = "lumia-930"
modem = "{endpoints['modem']}"
robot = {{ port = "{endpoints['robot']}", camera = "{endpoints['camera']}", calibration = "calibration.toml" }}
""", encoding="utf-8")
    slot.at_setup()
    match = _harness("match", "--device", "slot1", "--inventory", str(inventory), "--timeout", "60")
    assert match.returncode == 0 and "setup_welcome" in match.stdout, f"seed {seed}: {match.stderr[-800:]}"
    ok = _harness("signin", "--device", "slot1", "--inventory", str(inventory), "--account", "alice@outlook.com",
                  "--password-env", "LAB_PW", "--artifacts", str(folder / "ok"), "--timeout", "60",
                  password="correct-horse-battery")
    fields = control.call("state")["state"]["fields"]  # what the phone holds (the password and code masked)
    assert ok.returncode == 0, f"seed {seed}: {ok.stderr.strip()[-800:]} (the phone's fields: {fields})"
    assert "signed in as alice@outlook.com" in ok.stdout and "two-step" in ok.stdout
    assert "correct-horse-battery" not in ok.stdout + ok.stderr
    state = control.call("state")["state"]
    assert state["ms_account"] == "alice@outlook.com" and state["screen"] == "start", f"seed {seed}: {state}"
    (run,) = [p for p in Path(folder / "ok").iterdir() if p.is_dir()]
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    typed = [s["field"] for s in steps if s["kind"] == "type"]
    assert typed == ["field:email", "field:password", "field:code"], f"seed {seed}: typed into {typed}"
