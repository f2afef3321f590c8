"""Screenshot round trip at 1080x1920: the harness's ADB driver (TCP, emulated USB) vs Debian's `adb exec-out screencap`.

Run: python benchmarks/bench_adb_screenshot.py [--frames 30]
Both sides end with a numpy RGB array (what a test needs), decoded by the same
functions, so the ratio compares the transports; each side is timed over the
same emulated handset, one after the other, in one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.handsets import connect_handset  # noqa: E402
from harness.adb.auth import load_or_create_key  # noqa: E402
from harness.adb.services import decode_png, decode_screencap  # noqa: E402
from harness.emulator.process import EmulatorProcess  # noqa: E402


def _fps(fn, frames: int) -> float:
    fn()  # warm-up
    started = time.perf_counter()
    for _ in range(frames):
        fn()
    return frames / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-adb-"))
    os.environ["HARNESS_ADB_KEY"] = str(work / "harness-key")
    load_or_create_key(work / "harness-key")
    env = None
    keys = [str(work / "harness-key.pub")]
    have_adb = shutil.which("adb") is not None
    if have_adb:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        env = {**os.environ, "HOME": str(work / "home"), "ANDROID_ADB_SERVER_PORT": str(probe.getsockname()[1])}
        probe.close()
        (work / "home" / ".android").mkdir(parents=True)
        subprocess.run(["adb", "start-server"], env=env, capture_output=True, timeout=30)
        keys.append(str(work / "home" / ".android" / "adbkey.pub"))
    args_emu = ["--animation-ms", "0"]
    for key in keys:
        args_emu += ["--adb-key", key]
    with EmulatorProcess("lumia-930", args_emu) as emu:
        handset = connect_handset(f"adb-tcp://{emu.endpoints['adb']}")
        results = {
            "harness raw (TCP)": _fps(handset.screenshot, args.frames),
            "harness png (TCP)": _fps(handset.screenshot_png, args.frames),
        }
        handset.close()
        from harness.emulator.usb_backend import EmulatedUsbBackend

        usb_handset = connect_handset(f"adb-usb://{emu.endpoints['serial']}", usb_backend=EmulatedUsbBackend([emu.endpoints["usb"]]))
        results["harness raw (emulated USB)"] = _fps(usb_handset.screenshot, args.frames)
        results["harness png (emulated USB)"] = _fps(usb_handset.screenshot_png, args.frames)
        usb_handset.close()
        if have_adb:
            serial = emu.endpoints["adb"]
            subprocess.run(["adb", "connect", serial], env=env, capture_output=True, timeout=30)

            def adb_raw() -> np.ndarray:
                out = subprocess.run(["adb", "-s", serial, "exec-out", "screencap"], env=env, capture_output=True, timeout=30)
                return decode_screencap(out.stdout)

            def adb_png() -> np.ndarray:
                out = subprocess.run(["adb", "-s", serial, "exec-out", "screencap", "-p"], env=env, capture_output=True, timeout=30)
                return decode_png(out.stdout)

            frames = max(5, args.frames // 3)
            results["adb exec-out screencap (raw)"] = _fps(adb_raw, frames)
            results["adb exec-out screencap -p"] = _fps(adb_png, frames)
            subprocess.run(["adb", "kill-server"], env=env, capture_output=True, timeout=30)
    for name, fps in results.items():
        print(f"{name:34s} {fps:6.1f} frames/s")
    if have_adb:
        print(f"ratio raw: harness / adb = {results['harness raw (TCP)'] / results['adb exec-out screencap (raw)']:.2f}x")
        print(f"ratio png: harness / adb = {results['harness png (TCP)'] / results['adb exec-out screencap -p']:.2f}x")


if __name__ == "__main__":
    main()
