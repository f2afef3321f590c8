"""The camera-and-robot path against ADB: the delay from a tap to the first camera frame that shows its effect,
and the setup sign-in's time on ``robot://`` against ``emulator://`` (ADB) on the same profile in the same run.

Usage: bench_robot_signin.py [--seed S] [--profile NAME] [--taps N] [--robot-time-scale X] [--calibrate]

Tap to frame: the phone on setup_welcome, the robot taps 'next' through ``robot://``; every camera frame is kept
with the time it arrived, and afterwards each is rectified and recognised: the delay is from the moment the
tap was asked (and from the moment the robot finished it, stylus up) to the first frame recognised as the next
page. The emulated robot runs ``--robot-time-scale`` times faster than real time (4, as the tests: its moves
are modelled, not measured), which the delays scale with.

Sign-in: alice@outlook.com (two-step, the code by text through each emulator's own modem) during setup with
the same flow, once over ADB and once through the camera and robot; prints both times and their ratio. The
slot's calibration is written from the bench the control socket reports (as tests/robot/test_robot_handset.py
does) unless ``--calibrate`` runs ``harness calibrate`` (about 2 minutes more).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cv2

from harness.accounts import DEMO_SECRETS, load_secrets_file
from harness.artifacts import Artifacts
from harness.emulator.control import ControlClient
from harness.flows import FlowRunner, SmsCodeSource, sign_in_during_setup
from harness.handsets import open_handset
from harness.handsets.robot import uri_of
from harness.modem import GsmModem
from harness.profiles import load_profile
from harness.robot.gestures import Feeds
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap, Calibration, write_calibration
from harness.serial_port import SerialPort
from harness.vision import ScreenLibrary, find_target


def start_slot(seed: int, profile: str, scale: float) -> tuple[subprocess.Popen, dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", profile, "--camera", "--robot",
                             "--bench-seed", str(seed), "--robot-time-scale", str(scale)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def bench_calibration(control: ControlClient, profile: str, path: Path, camera_corners: bool = False) -> None:
    """The slot's calibration from where the emulator put the phone (the bench's ground truth); ``camera_corners``:
    with the screen's corners in the camera too (robot:// then takes them rather than finding the screen)."""
    prof = load_profile(profile)
    bench = control.call("bench")
    corners = bench["screen_corners"]
    bed, _ = BedMap.fit(corners, [(0, 0), (prof.width, 0), (prof.width, prof.height), (0, prof.height)])
    xs = [p[0] for p in corners + list(bench["keys"].values())]
    ys = [p[1] for p in corners + list(bench["keys"].values())]
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=bench["glass_z"] - 0.5, hover_z=bench["glass_z"] + 5,
                    area=((min(xs) - 5, max(xs) + 5), (min(ys) - 5, max(ys) + 5)))
    seen = [tuple(p) for p in control.call("camera_state")["screen_corners"]] if camera_corners else []
    write_calibration(path, Calibration(profile, bed, limits, Feeds(), residual_px=0.0, screen_corners=seen))


def wait_screen(control: ControlClient, name: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while control.call("state")["state"]["screen"] != name:
        if time.monotonic() > end:
            raise SystemExit(f"the phone never showed {name}")


def tap_to_frame(handset: Any, control: ControlClient, library: ScreenLibrary, scale: float) -> tuple[float, float]:
    """(from asked, from done) seconds to the first camera frame recognised as the page the tap leads to."""
    control.call("goto", screen="setup_welcome")
    wait_screen(control, "setup_welcome")
    while True:  # the camera shows it too (its frames lag the phone)
        rec, _ = library.classify(handset.screenshot(), scale)
        if rec is not None and rec.screen == "setup_welcome":
            break
    point = tuple(int(v) for v in find_target(rec, "next"))
    capture = handset.screen.capture
    frames: list[tuple[float, Any]] = []
    stop = threading.Event()

    def collect() -> None:
        since = time.monotonic()
        while not stop.is_set():
            snap = capture.after(since, timeout=2.0)
            frames.append((snap.at, snap.image))
            since = snap.at

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    asked = time.monotonic()
    handset.tap(*point)
    done = time.monotonic()
    end = done + 3.0
    while time.monotonic() < end and thread.is_alive():
        thread.join(0.1)
    stop.set()
    thread.join(5)
    for at, image in frames:
        if at < asked:
            continue
        shot = handset.screen.rectified(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        rec, _ = library.classify(shot, scale)
        if rec is not None and rec.screen == "setup_terms":
            return at - asked, at - done
    raise SystemExit("no camera frame showed setup_terms within 3 s of the tap")


def sign_in(handset: Any, modem_url: str, library: ScreenLibrary, scale: float, folder: Path) -> float:
    account = load_secrets_file(DEMO_SECRETS)["primary"]
    with GsmModem(SerialPort(modem_url)) as modem:
        run = FlowRunner(handset, library, Artifacts(folder), timeout=30.0, scale=scale)
        return sign_in_during_setup(run, account, SmsCodeSource(modem)).seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=random.SystemRandom().randrange(10**6))
    ap.add_argument("--profile", default="lumia-930")
    ap.add_argument("--taps", type=int, default=5)
    ap.add_argument("--robot-time-scale", type=float, default=4.0)
    ap.add_argument("--calibrate", action="store_true", help="calibrate with harness calibrate, not from the bench")
    args = ap.parse_args()
    library = ScreenLibrary.shared()
    scale = load_profile(args.profile).scale
    folder = Path(tempfile.mkdtemp(prefix="bench-robot-signin-"))
    print(f"bench seed {args.seed}, {args.profile}, robot clock x{args.robot_time_scale:g}, artifacts {folder}")

    opened = open_handset(f"emulator://{args.profile}")
    try:
        opened.handset.screenshot()
        adb_seconds = sign_in(opened.handset, opened.endpoints["modem"], library, scale, folder / "adb")
    finally:
        opened.close()
    print(f"sign-in over ADB: {adb_seconds:.1f} s")

    proc, endpoints = start_slot(args.seed, args.profile, args.robot_time_scale)
    try:
        with ControlClient.for_endpoints(endpoints) as control:
            calibration = folder / "calibration.toml"
            if args.calibrate:
                subprocess.run([sys.executable, "-m", "harness", "calibrate", "--camera", endpoints["camera"],
                                "--robot", endpoints["robot"], "--profile", args.profile, "-o", str(calibration)],
                               check=True, timeout=600)
            else:
                bench_calibration(control, args.profile, calibration)
            robot = open_handset(uri_of(endpoints["robot"], endpoints["camera"], calibration, args.profile))
            try:
                delays = [tap_to_frame(robot.handset, control, library, scale) for _ in range(args.taps)]
                asked = [d[0] * 1000 for d in delays]
                done = [d[1] * 1000 for d in delays]
                print(f"tap to first frame showing it, {len(delays)} taps: from the tap asked median "
                      f"{statistics.median(asked):.0f} ms (worst {max(asked):.0f}); from the stylus up median "
                      f"{statistics.median(done):.0f} ms (worst {max(done):.0f})")
                control.call("lab_reset")
                wait_screen(control, "setup_welcome", 60)
                robot_seconds = sign_in(robot.handset, endpoints["modem"], library, scale, folder / "robot")
            finally:
                robot.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"sign-in through camera and robot: {robot_seconds:.1f} s; over ADB: {adb_seconds:.1f} s; "
          f"ratio {robot_seconds / adb_seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
