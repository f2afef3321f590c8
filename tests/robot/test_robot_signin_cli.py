"""Sign-in on a phone driven only through a camera and a tapping robot, end to end through the CLI.

One emulator (``--camera --robot``, a bench seed picked at random here and printed) for the module:
``harness calibrate`` writes the slot's calibration from what the camera sees and the robot does, then
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

SEED = random.SystemRandom().randrange(10**6)


@pytest.fixture(scope="module")
def slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    print(f"bench seed {SEED}")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", "lumia-930", "--camera", "--robot",
                             "--bench-seed", str(SEED), "--robot-time-scale", "4", "--animation-ms", "0",
                             "--boot-time", "0.3", "--camera-fps", "10"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"harness emulate --camera --robot --bench-seed {SEED} printed nothing"
        endpoints = json.loads(line)
        with ControlClient.for_endpoints(endpoints) as control:
            yield {"control": control, "endpoints": endpoints, "dir": tmp_path_factory.mktemp("slot")}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _harness(*args: str, password: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAB_PW": password} if password else None
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _at_setup(control: ControlClient, timeout: float = 60.0) -> None:
    """Re-flash the phone as a lab does between runs and wait until set-up's first page shows."""
    control.call("lab_reset")
    at = deadline_of(timeout)
    while (state := control.call("state")["state"])["screen"] != "setup_welcome":
        assert until(at), f"seed {SEED}: the phone shows {state['screen']} {timeout:g}s after a lab reset"


@pytest.mark.timeout(900)  # a calibration takes 2 minutes on an idle machine, more under load
def test_calibrate_then_sign_in_through_the_camera_and_the_robot(slot: dict[str, Any]) -> None:
    control, endpoints, folder = slot["control"], slot["endpoints"], slot["dir"]
    calibration = folder / "calibration.toml"
    control.call("goto", screen="setup_welcome")
    cal = _harness("calibrate", "--camera", endpoints["camera"], "--robot", endpoints["robot"],
                   "--profile", "lumia-930", "-o", str(calibration), "--timeout", "600")
    assert cal.returncode == 0, f"harness calibrate failed on bench seed {SEED}: {cal.stderr.strip()[-500:]}"
    uri = (f"robot://{quote(endpoints['robot'], safe='')}?camera={quote(endpoints['camera'], safe='')}"
           f"&calibration={quote(str(calibration), safe='')}&profile=lumia-930")

    _at_setup(control)
    bad = _harness("signin", "--handset", uri, "--account", "bob@outlook.com", "--password-env", "LAB_PW",
                   "--artifacts", str(folder / "bad"), "--timeout", "60", password="not-the-password-42")
    assert bad.returncode == 3, f"seed {SEED}: {bad.stderr.strip()[-800:]}"
    assert "the handset shows wrong_password" in bad.stderr
    assert "not-the-password-42" not in bad.stdout + bad.stderr

    # the slot in the rack's inventory: a robot table naming its calibration file, kept beside the inventory
    inventory = folder / "rack.toml"
    inventory.write_text(f"""[[handset]]
name = "slot1"
profile = "lumia-930"
modem = "{endpoints['modem']}"
robot = {{ port = "{endpoints['robot']}", camera = "{endpoints['camera']}", calibration = "calibration.toml" }}
""", encoding="utf-8")
    _at_setup(control)
    match = _harness("match", "--device", "slot1", "--inventory", str(inventory), "--timeout", "60")
    assert match.returncode == 0 and "setup_welcome" in match.stdout, f"seed {SEED}: {match.stderr[-800:]}"
    ok = _harness("signin", "--device", "slot1", "--inventory", str(inventory), "--account", "alice@outlook.com",
                  "--password-env", "LAB_PW", "--artifacts", str(folder / "ok"), "--timeout", "60",
                  password="correct-horse-battery")
    fields = control.call("state")["state"]["fields"]  # what the phone holds (the password and code masked)
    assert ok.returncode == 0, f"seed {SEED}: {ok.stderr.strip()[-800:]} (the phone's fields: {fields})"
    assert "signed in as alice@outlook.com" in ok.stdout and "two-step" in ok.stdout
    assert "correct-horse-battery" not in ok.stdout + ok.stderr
    state = control.call("state")["state"]
    assert state["ms_account"] == "alice@outlook.com" and state["screen"] == "start", f"seed {SEED}: {state}"
    (run,) = [p for p in Path(folder / "ok").iterdir() if p.is_dir()]
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    typed = [s["field"] for s in steps if s["kind"] == "type"]
    assert typed == ["field:email", "field:password", "field:code"], f"seed {SEED}: typed into {typed}"
