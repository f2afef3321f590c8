"""Calibration over many bench seeds: ``harness calibrate`` residual and tap error in screen pixels.

Usage: bench_calibration.py [--seeds N | --seed S ...] [--timeout SECONDS]

For each seed: ``harness emulate --camera --robot --bench-seed S``, then
``harness calibrate`` through the CLI, then a tap on setup's 'next' through
``robot://`` with the written calibration; where it landed comes from the
emulator's ``robot_touches`` (the ground truth the harness never reads).
Prints one line per seed and the median and worst residual and tap error, and
how many seeds failed to calibrate (with their one-line error).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.emulator.control import ControlClient
from harness.handsets import open_handset

#: setup_welcome's 'next' button, the centre of its region in fixtures/screens/setup_welcome.toml (1080x1920)
NEXT = (51 + 977 / 2, 1737 + 130 / 2)


def one_seed(seed: int, folder: Path, timeout: float) -> dict[str, Any]:
    """Calibrate the emulated slot of ``seed`` and tap 'next' through it: residual, tap error, or the error."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", "lumia-930", "--camera", "--robot",
                             "--bench-seed", str(seed), "--robot-time-scale", "4", "--animation-ms", "0",
                             "--boot-time", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        endpoints = json.loads(proc.stdout.readline())
        with ControlClient.for_endpoints(endpoints) as control:
            control.call("goto", screen="setup_welcome")
            path = folder / f"calibration-{seed}.toml"
            out = subprocess.run([sys.executable, "-m", "harness", "calibrate", "--camera", endpoints["camera"],
                                  "--robot", endpoints["robot"], "--profile", "lumia-930", "-o", str(path),
                                  "--timeout", str(timeout)], capture_output=True, text=True, timeout=timeout + 60)
            found = re.search(r"residual ([0-9.]+) px", out.stdout)
            if out.returncode != 0 or not found:
                return {"seed": seed, "error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
            control.call("goto", screen="setup_welcome")
            before = len(control.call("robot_touches")["touches"])
            uri = (f"robot://{quote(endpoints['robot'], safe='')}?camera={quote(endpoints['camera'], safe='')}"
                   f"&calibration={quote(str(path), safe='')}&profile=lumia-930")
            opened = open_handset(uri)
            try:
                opened.handset.tap(*(round(v) for v in NEXT))
            finally:
                opened.close()
            taps = [t for t in control.call("robot_touches")["touches"][before:] if t["kind"] == "tap"]
            if not taps:
                return {"seed": seed, "residual": float(found.group(1)), "error": "the tap did not touch the screen"}
            tap = ((taps[0]["x"] - NEXT[0]) ** 2 + (taps[0]["y"] - NEXT[1]) ** 2) ** 0.5
            return {"seed": seed, "residual": float(found.group(1)), "tap": tap}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many random seeds (default 5)")
    parser.add_argument("--seed", type=int, action="append", help="a seed to run (repeatable; instead of --seeds)")
    parser.add_argument("--timeout", type=float, default=400.0, help="per calibration, seconds (default 400)")
    args = parser.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(10**6) for _ in range(args.seeds)]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            result = one_seed(seed, Path(folder), args.timeout)
            results.append(result)
            print(json.dumps(result), flush=True)
    ok = [r for r in results if "tap" in r]
    for key in ("residual", "tap"):
        values = [r[key] for r in ok]
        if values:
            print(f"{key}: median {statistics.median(values):.1f} px, worst {max(values):.1f} px over {len(values)} seeds")
    print(f"failed: {len(results) - len(ok)} of {len(results)} seeds")
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
