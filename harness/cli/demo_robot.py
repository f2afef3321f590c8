"""``harness demo --camera-robot``: the demo sign-in on a phone reached only through a camera and a robot.

An emulated handset with its emulated camera and tapping robot (``harness emulate --camera --robot``, the
phone placed on the bed by a bench seed the harness is not told), calibrated by ``harness calibrate`` as a
lab calibrates a slot, then the same setup sign-in as ``harness demo`` through ``robot://``: every screenshot
a rectified camera frame, every tap the robot's stylus, the address, password and access code typed on the
phone's on-screen keyboard.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

#: The emulated robot's clock runs this much faster than real time (its moves are what a calibration waits on).
ROBOT_TIME_SCALE = 4
#: Upper bound for the calibration (it takes about 2 minutes on the emulated bench).
CALIBRATE_TIMEOUT = 420.0


def run_camera_robot_demo(args: argparse.Namespace, run_dir: Path, account: Any) -> int:
    """Start the emulated slot, calibrate it, sign ``account`` in during setup through it; 0 when signed in."""
    from harness.cli.flows import demo_sign_in
    from harness.artifacts import Artifacts, new_file
    from harness.emulator.process import EmulatorProcess
    from harness.handsets import open_handset
    from harness.handsets.base import OpenedHandset
    from harness.handsets.robot import uri_of
    from harness.timeline.run import RunRecording

    seed = args.bench_seed if args.bench_seed is not None else random.SystemRandom().randrange(10**6)
    emulate = ["--camera", "--robot", "--bench-seed", str(seed), "--robot-time-scale", str(ROBOT_TIME_SCALE),
               *(["--theme", args.theme] if args.theme else [])]
    print(f"starting an emulated {args.profile} handset on a robot's bed under a camera (bench seed {seed}) ...",
          flush=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    emulator = EmulatorProcess(args.profile, emulate, log_path=new_file(run_dir, "emulator.log"))
    endpoints = emulator.start()
    opened: OpenedHandset | None = None
    handed_over = False  # demo_sign_in closes the run once it has it
    try:
        print(f"  camera {endpoints['camera']}, robot {endpoints['robot']}; calibrating the slot "
              f"(harness calibrate, about 2 minutes) ...", flush=True)
        calibration = run_dir / "calibration.toml"
        done = subprocess.run([sys.executable, "-m", "harness", "calibrate", "--camera", endpoints["camera"],
                               "--robot", endpoints["robot"], "--profile", args.profile, "-o", str(calibration),
                               "--timeout", f"{CALIBRATE_TIMEOUT:g}"], stdout=subprocess.PIPE, text=True,
                              timeout=CALIBRATE_TIMEOUT + 60)
        if done.returncode != 0:
            raise HarnessError(f"calibrating the emulated slot (bench seed {seed}) failed; its error is above")
        print(f"  {done.stdout.strip()}", flush=True)
        uri = uri_of(endpoints["robot"], endpoints["camera"], calibration, args.profile)
        robot = open_handset(uri)
        opened = OpenedHandset(uri, robot.handset, robot.profile, endpoints, emulator)
        recording = RunRecording(Artifacts(run_dir), args.record, title=f"harness demo --camera-robot {run_dir.name}")
        handed_over = True
        return demo_sign_in(opened, account, run_dir, recording,
                            f"  signing in {account.address} during setup through the camera and the robot, "
                            f"two-step verification by text",
                            "calibration, screenshots, step log, serial logs and timeline.html")
    finally:
        if opened is None:
            emulator.stop()
        elif not handed_over:
            opened.close()
