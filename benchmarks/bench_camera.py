"""The camera path's figures: frame rate over HTTP, corner error, and recognition of rectified frames.

Usage: python benchmarks/bench_camera.py [--seeds 1 | --seed N ...] [--profile lumia-930] [--themes dark,light]
                                         [--fps-seconds 5] [--size 1280x720]

- frame rate: ``harness emulate --camera`` is started and read with the
  driver (``harness.camera.Capture``) over real HTTP for ``--fps-seconds``;
  the frames the driver received per second and the longest gap.
- per seed (the camera's tilt, distance and lens, and the phone's placement,
  all from ``harness/emulator/bench.py`` and ``camera_pose.py``): every
  screen of the emulator in each theme drawn by the emulated camera, the
  screen found by ``find_screen`` (corner error against the placement
  projected through the camera, in camera pixels), rectified and recognised
  by the screen library: right, unknown (named) or wrong (named).

Seeds are random unless given; they are printed so a run can be repeated.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np

from harness.camera import Capture, find_screen, homography, normalise, rectify
from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.lab.frames import screen_frames
from harness.profiles import load_profile
from harness.vision import ScreenLibrary


def frame_rate(seconds: float, size: str) -> dict[str, float]:
    """Frames per second the driver receives from ``harness emulate --camera``, and the longest gap."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--camera", "--camera-size", size,
                             "--animation-ms", "0", "--boot-time", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["camera"]
        with Capture(url) as capture:
            first = capture.after(0.0, timeout=20)
            times, last = [first.at], first
            end = first.at + seconds
            while last.at < end:
                last = capture.after(last.at, timeout=5)
                times.append(last.at)
        gaps = np.diff(times)
        return {"fps": (len(times) - 1) / (times[-1] - times[0]), "longest_gap_ms": float(gaps.max() * 1000),
                "frames": len(times)}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def per_seed(profile_name: str, seed: int, themes: list[str], library: ScreenLibrary, size: tuple[int, int]) -> dict:
    profile = load_profile(profile_name)
    view = view_of(placement_of(place(profile, seed)), seed, size)
    truth = view.screen_corners()
    aspect = profile.width / profile.height
    errors: list[float] = []
    rows = {}
    for theme in themes:
        right, unknown, wrong, not_found = 0, [], [], []
        for name, screen in screen_frames(profile_name, theme):
            rgb = cv2.cvtColor(view.frame(screen), cv2.COLOR_BGR2RGB)
            try:
                corners = find_screen(rgb, aspect)
            except Exception as exc:  # noqa: BLE001 (a benchmark counts every failure)
                not_found.append(f"{name}: {exc}")
                continue
            errors.append(float(np.linalg.norm(corners - truth, axis=1).max()))
            shot = normalise(rectify(rgb, homography(corners, profile.width, profile.height),
                                     profile.width, profile.height))
            recognition, guess = library.classify(shot)
            if recognition is None:
                unknown.append(f"{name} ({guess.screen} {guess.score:.2f} vs {guess.runner_up} {guess.runner_up_score:.2f})")
            elif recognition.screen != name:
                wrong.append(f"{name} as {recognition.screen}")
            else:
                right += 1
        total = right + len(unknown) + len(wrong) + len(not_found)
        rows[theme] = {"right": right, "total": total, "unknown": unknown, "wrong": wrong, "not_found": not_found}
    return {"seed": seed, "tilt_deg": view.pose.tilt_deg, "distance_mm": view.pose.distance_mm,
            "k1": float(view.pose.dist[0]), "corner_errors": errors, "themes": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="how many random seeds (each: about 100 s on a loaded 2-core machine)")
    parser.add_argument("--seed", type=int, action="append", help="a seed to use (repeatable; instead of --seeds)")
    parser.add_argument("--profile", default="lumia-930")
    parser.add_argument("--themes", default="dark,light")
    parser.add_argument("--fps-seconds", type=float, default=5.0, help="how long to read the stream (0: skip)")
    parser.add_argument("--size", choices=sorted(SIZES), default="1280x720")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    seeds = args.seed or random.SystemRandom().sample(range(100_000), args.seeds)
    print(f"seeds: {' '.join(map(str, seeds))}   profile {args.profile}   camera {args.size}")
    if args.fps_seconds > 0:
        rate = frame_rate(args.fps_seconds, args.size)
        print(f"frame rate over HTTP: {rate['fps']:.1f} fps ({rate['frames']} frames), "
              f"longest gap {rate['longest_gap_ms']:.0f} ms")
    library = ScreenLibrary.load_default()
    themes = args.themes.split(",")
    all_errors: list[float] = []
    totals = {t: [0, 0, 0] for t in themes}  # right, total, wrong
    started = time.perf_counter()
    for seed in seeds:
        r = per_seed(args.profile, seed, themes, library, SIZES[args.size])
        all_errors += r["corner_errors"]
        e = r["corner_errors"]
        print(f"seed {seed}: tilt {r['tilt_deg']:.1f} deg, distance {r['distance_mm']:.0f} mm, k1 {r['k1']:.3f}; "
              f"corner error median {statistics.median(e):.2f} px, worst {max(e):.2f} px" if e else
              f"seed {seed}: no screen found")
        for theme, row in r["themes"].items():
            totals[theme][0] += row["right"]
            totals[theme][1] += row["total"]
            totals[theme][2] += len(row["wrong"])
            print(f"  {theme}: {row['right']}/{row['total']} recognised; wrong {row['wrong'] or 'none'}; "
                  f"unknown {row['unknown'] or 'none'}; screen not found {row['not_found'] or 'none'}")
    for theme, (right, total, wrong) in totals.items():
        print(f"{theme}: {right}/{total} = {right / max(1, total):.1%} recognised, {wrong} wrong")
    if all_errors:
        print(f"corner error over {len(all_errors)} frames: median {statistics.median(all_errors):.2f} px, "
              f"worst {max(all_errors):.2f} px (camera pixels)")
    print(f"({time.perf_counter() - started:.0f} s for the recognition part)")


if __name__ == "__main__":
    main()
