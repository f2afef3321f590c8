"""Typing through the camera and the robot on many benches: the setup sign-in's address, password and access code
typed on the on-screen keyboard and read back from the field, per bench seed and theme.

Usage: python benchmarks/bench_robot_typing.py [--seeds 10 | --seed N ...] [--themes dark,light]
                                                [--profile lumia-930] [--out DIR]

For each seed and theme: ``harness emulate --camera --robot --bench-seed S --theme T``, the slot's calibration
written from where the emulator put the phone and the camera (the control socket's ``bench`` and
``camera_state``: what a good ``harness calibrate`` finds, without its two minutes), then
``sign_in_during_setup`` for alice@outlook.com (two-step, the code by text through the emulator's modem)
through ``robot://``. One line per run: seed, theme, outcome, seconds, and the error's line when it failed;
a failed run keeps the camera's rectified frame at the failure (``DIR/S-T-failed.png``) and the phone's fields
as its control socket tells them (the password and code masked), beside the flow's artifacts. Seeds are random
unless given and are printed, so a run can be repeated.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2

from harness.accounts import DEMO_SECRETS, load_secrets_file
from harness.artifacts import Artifacts
from harness.emulator.process import EmulatorProcess
from harness.flows import FlowRunner, SmsCodeSource, sign_in_during_setup
from harness.handsets import open_handset
from harness.handsets.robot import uri_of
from harness.modem import GsmModem
from harness.profiles import load_profile
from harness.serial_port import SerialPort
from harness.vision import ScreenLibrary

from bench_robot_signin import bench_calibration  # the bench's ground truth as a calibration


def one_run(seed: int, theme: str, profile: str, folder: Path, library: ScreenLibrary) -> dict[str, Any]:
    account = load_secrets_file(DEMO_SECRETS)["primary"]
    emulator = EmulatorProcess(profile, ["--camera", "--robot", "--bench-seed", str(seed), "--theme", theme,
                                         "--robot-time-scale", "4", "--camera-fps", "10", "--animation-ms", "0",
                                         "--boot-time", "0.3"], log_path=folder / f"{seed}-{theme}-emulator.log")
    endpoints = emulator.start()
    started = time.monotonic()
    try:
        with emulator.control() as control:
            calibration = folder / f"{seed}-{theme}-calibration.toml"
            bench_calibration(control, profile, calibration, camera_corners=True)
            opened = open_handset(uri_of(endpoints["robot"], endpoints["camera"], calibration, profile))
            try:
                with GsmModem(SerialPort(endpoints["modem"])) as modem:
                    run = FlowRunner(opened.handset, library, Artifacts(folder / f"{seed}-{theme}"), timeout=30.0,
                                     scale=load_profile(profile).scale)
                    sign_in_during_setup(run, account, SmsCodeSource(modem))
                return {"outcome": "signed in", "seconds": time.monotonic() - started}
            except Exception as exc:  # the run's outcome, whatever it was
                shot = folder / f"{seed}-{theme}-failed.png"
                try:
                    cv2.imwrite(str(shot), cv2.cvtColor(opened.handset.screenshot(), cv2.COLOR_RGB2BGR))
                except Exception:  # the camera may be what failed
                    shot = None
                fields = control.call("state")["state"].get("fields")
                return {"outcome": type(exc).__name__, "seconds": time.monotonic() - started,
                        "error": str(exc).splitlines()[0][-300:], "fields": fields, "frame": shot}
            finally:
                opened.close()
    finally:
        emulator.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="how many random seeds")
    ap.add_argument("--seed", type=int, action="append", help="a given seed (repeatable)")
    ap.add_argument("--themes", default="dark,light")
    ap.add_argument("--profile", default="lumia-930")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(10**6) for _ in range(args.seeds)]
    folder = args.out or Path(tempfile.mkdtemp(prefix="bench-robot-typing-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"seeds {' '.join(map(str, seeds))}; themes {args.themes}; {args.profile}; artifacts {folder}", flush=True)
    library = ScreenLibrary.shared()
    failed = 0
    for seed in seeds:
        for theme in args.themes.split(","):
            r = one_run(seed, theme, args.profile, folder, library)
            failed += r["outcome"] != "signed in"
            extra = f": {r['error']} (fields {r['fields']}; frame {r['frame']})" if "error" in r else ""
            print(f"seed {seed} {theme}: {r['outcome']} in {r['seconds']:.1f}s{extra}", flush=True)
    runs = len(seeds) * len(args.themes.split(","))
    print(f"{runs - failed} of {runs} signed in")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
