"""Calibration over many bench seeds: ``harness calibrate`` residual and tap error in screen pixels.

Usage: bench_calibration.py [--seeds N | --seed S ...] [--timeout SECONDS] [--before DIR] [--camera-fps F]

For each seed: the robot tests' own slot (``tests/robot/robot_slot.py``: ``started_slot``, ``harness emulate
--camera --robot --bench-seed S`` with the robot's clock x4), then ``harness calibrate`` through the CLI
(``calibrate_command``, timed), then taps through ``robot://`` with the written calibration at points spread over
the screen, each one's landing read from the emulator's ``robot_touches`` (the ground truth the harness never
reads). Prints one line per seed (residual, wall time, tap error median and worst over its taps) and, over the
seeds, the median and worst of each, and how many seeds failed to calibrate (with their one-line error).
``--before DIR``: a checkout of another version of the harness (e.g. ``git worktree add DIR main``); each seed is
then calibrated by it too, on a fresh emulator of the same seed in the same run, for a before/after comparison.
``--camera-fps``: the emulated camera's rate (default 20, a real camera's; the tests' slot draws 10).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "robot"))
from robot_slot import calibrate_command, started_slot  # noqa: E402  (the tests' slot helper)

from harness.handsets import open_handset  # noqa: E402

#: setup_welcome's 'next' button, the centre of its region in fixtures/screens/setup_welcome.toml (1080x1920)
NEXT = (51 + 977 / 2, 1737 + 130 / 2)
#: Where the taps go (lumia-930's 1080x1920 pixels): the corners' regions, the middle and 'next'.
TAPS = [(150, 250), (930, 250), (540, 960), (150, 1500), (930, 1500), (round(NEXT[0]), round(NEXT[1]))]


def one_seed(seed: int, folder: Path, timeout: float, before: Path | None = None,
             logs: Path | None = None, camera_fps: float = 20.0) -> dict[str, Any]:
    """Calibrate the emulated slot of ``seed`` (with the harness in ``before`` when given) and tap through it:
    residual, wall time, tap errors, or the error."""
    run = folder / f"{seed}-{'before' if before else 'after'}"
    run.mkdir(parents=True, exist_ok=True)
    with started_slot(seed, run, camera_fps) as slot:
        control = slot.control
        control.call("goto", screen="setup_welcome")
        path = run / "calibration.toml"
        env = {**os.environ, "PYTHONPATH": str(before)} if before else None
        started = time.monotonic()
        out = subprocess.run(calibrate_command(slot.endpoints["camera"], slot.endpoints["robot"], path, timeout),
                             capture_output=True, text=True, timeout=timeout + 60, env=env,
                             cwd=str(before) if before else None)
        wall = round(time.monotonic() - started, 1)
        if logs is not None:  # what calibrate said, kept per seed and version (never overwritten)
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"calibrate-{seed}-{'before' if before else 'after'}-{int(time.time())}.log").write_text(
                out.stderr)
        found = re.search(r"residual ([0-9.]+) px", out.stdout)
        if out.returncode != 0 or not found:
            return {"seed": seed, "wall_s": wall, "error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
        result: dict[str, Any] = {"seed": seed, "wall_s": wall, "residual": float(found.group(1))}
        errors = []
        opened = open_handset(slot.uri(path))
        try:
            for aim in TAPS:
                control.call("goto", screen="setup_welcome")
                mark = slot.touch_mark()
                opened.handset.tap(*aim)
                taps = [t for t in slot.touches_after(mark) if t["kind"] == "tap"]
                if not taps:
                    return {**result, "error": f"the tap at {aim} did not touch the screen"}
                errors.append(((taps[0]["x"] - aim[0]) ** 2 + (taps[0]["y"] - aim[1]) ** 2) ** 0.5)
        finally:
            opened.close()
        return {**result, "tap_median": round(statistics.median(errors), 1), "tap_worst": round(max(errors), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many random seeds (default 5)")
    parser.add_argument("--seed", type=int, action="append", help="a seed to run (repeatable; instead of --seeds)")
    parser.add_argument("--timeout", type=float, default=400.0, help="per calibration, seconds (default 400)")
    parser.add_argument("--before", type=Path, metavar="DIR", help="a checkout of another harness version to compare")
    parser.add_argument("--logs", type=Path, metavar="DIR", help="keep each calibration's progress lines here")
    parser.add_argument("--camera-fps", type=float, default=20.0, help="the emulated camera's rate (default 20)")
    args = parser.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(10**6) for _ in range(args.seeds)]
    runs: dict[str, list[dict[str, Any]]] = {"after": []}
    if args.before:
        runs["before"] = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            for label in runs:
                result = one_seed(seed, Path(folder), args.timeout, args.before if label == "before" else None,
                                  args.logs, args.camera_fps)
                runs[label].append(result)
                print(json.dumps({"run": label, **result}), flush=True)
    failed = 0
    for label, results in runs.items():
        ok = [r for r in results if "tap_worst" in r]
        for key, unit in (("residual", "px"), ("tap_median", "px"), ("tap_worst", "px"), ("wall_s", "s")):
            values = [r[key] for r in (ok if key != "wall_s" else results) if key in r]
            if values:
                print(f"{label} {key}: median {statistics.median(values):.1f} {unit}, worst {max(values):.1f} {unit} "
                      f"over {len(values)} seeds")
        print(f"{label} failed: {len(results) - len(ok)} of {len(results)} seeds"
              + "".join(f"\n  seed {r['seed']}: {r['error']}" for r in results if "error" in r))
        failed += len(results) - len(ok) if label == "after" else 0
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
