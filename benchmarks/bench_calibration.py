"""Calibration over many bench seeds: ``harness calibrate`` residual and tap error in screen pixels.

Usage: bench_calibration.py [--seeds N | --seed S ...] [--profile NAME] [--theme dark|light] [--timeout SECONDS]
                            [--before DIR] [--camera-fps F] [--logs DIR]

For each seed: the robot tests' own slot (``tests/robot/robot_slot.py``: ``started_slot``, ``harness emulate
--camera --robot --bench-seed S`` with the robot's clock x4), then ``harness calibrate`` through the CLI
(``calibrate_command``, timed), then taps through ``robot://`` with the written calibration at points spread over
the screen, each one's landing read from the emulator's ``robot_touches`` (the ground truth the harness never
reads). Prints one line per seed (residual, wall time, tap error median and worst over its taps) and, over the
seeds, the median and worst of each, and how many seeds failed to calibrate (with their one-line error).
``--before DIR``: a checkout of another version of the harness (e.g. ``git worktree add DIR main``); each seed is
then calibrated by it too, on a fresh emulator of the same seed in the same run, for a before/after comparison.
``--camera-fps``: the emulated camera's rate (default 20, a real camera's; the tests' slot draws 10).
``--profile``, ``--theme``: the phone on the bed (default lumia-930 in its profile's theme).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
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
from harness.profiles import load_profile  # noqa: E402

#: setup_welcome's 'next' button, the centre of its region in fixtures/screens/setup_welcome.toml (1080x1920)
NEXT = (51 + 977 / 2, 1737 + 130 / 2)
#: Where the taps go, as shares of the screen's width and height (measured on lumia-930's 1080x1920): the
#: corners' regions, the middle and 'next'.
TAPS = [(x / 1080, y / 1920) for x, y in ((150, 250), (930, 250), (540, 960), (150, 1500), (930, 1500), NEXT)]


def one_seed(seed: int, folder: Path, timeout: float, before: Path | None = None,
             logs: Path | None = None, camera_fps: float = 20.0, profile: str = "lumia-930",
             theme: str | None = None) -> dict[str, Any]:
    """Calibrate the emulated slot of ``seed`` (with the harness in ``before`` when given) and tap through it:
    residual, wall time, tap errors, or the error."""
    run = folder / f"{seed}-{'before' if before else 'after'}"
    run.mkdir(parents=True, exist_ok=True)
    prof = load_profile(profile)
    with started_slot(seed, run, camera_fps, profile, theme) as slot:
        control = slot.control
        control.call("goto", screen="setup_welcome")
        path = run / "calibration.toml"
        # PYTHONFAULTHANDLER: a calibrate that hangs is sent SIGABRT and writes where each of its threads was
        env = {**os.environ, "PYTHONFAULTHANDLER": "1", **({"PYTHONPATH": str(before)} if before else {})}
        # calibrate's progress lines go to a file as they come (kept with --logs): a calibration that hangs past its
        # own --timeout is then a seed's error with its last line, not the end of the sweep
        logs = logs if logs is not None else run
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"calibrate-{seed}-{'before' if before else 'after'}-{int(time.time())}.log"
        started = time.monotonic()
        with open(log, "w", encoding="utf-8") as err:
            proc = subprocess.Popen(calibrate_command(slot.endpoints["camera"], slot.endpoints["robot"], path,
                                                      timeout, profile),
                                    stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                                    cwd=str(before) if before else None)
            hung = False
            try:
                stdout, _ = proc.communicate(timeout=timeout + 60)
            except subprocess.TimeoutExpired:
                hung = True
                proc.send_signal(signal.SIGABRT)
                try:
                    proc.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                stdout = ""
        wall = round(time.monotonic() - started, 1)
        said = log.read_text(encoding="utf-8").strip().splitlines() or ["no output"]
        if hung:
            last = next((line for line in reversed(said) if line.startswith("calibrate:")), "none")
            return {"seed": seed, "wall_s": wall, "error": f"calibrate still running {timeout + 60:g}s after it began "
                                                           f"(its --timeout {timeout:g}s; stacks in {log}); its last "
                                                           f"progress line: {last}"}
        found = re.search(r"residual ([0-9.]+) px", stdout)
        if proc.returncode != 0 or not found:
            return {"seed": seed, "wall_s": wall, "error": said[-1]}
        result: dict[str, Any] = {"seed": seed, "wall_s": wall, "residual": float(found.group(1))}
        errors = []
        opened = open_handset(slot.uri(path))
        try:
            for fx, fy in TAPS:
                aim = (round(fx * prof.width), round(fy * prof.height))
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
    parser.add_argument("--profile", default="lumia-930", help="the phone's profile (default lumia-930)")
    parser.add_argument("--theme", choices=("dark", "light"), help="the phone's theme (default the profile's)")
    args = parser.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(10**6) for _ in range(args.seeds)]
    print(f"seeds {' '.join(map(str, seeds))} on {args.profile} ({args.theme or 'its own'} theme)", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"after": []}
    if args.before:
        runs["before"] = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            for label in runs:
                result = one_seed(seed, Path(folder), args.timeout, args.before if label == "before" else None,
                                  args.logs, args.camera_fps, args.profile, args.theme)
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
