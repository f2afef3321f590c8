"""Screen recognition in one run: speed per resolution, accuracy, Airtest side by side, and per perturbation.

Run: python benchmarks/bench_vision.py [--perturbations] [--every N] [--seed S]
         [--only REGEX] [--no-speed] [--airtest-python PY] [--airtest METHOD ...] [--airtest-every N] [--out DIR]

Speed and accuracy: every emulator screen on a 1080x1920 (lumia-930) and a
480x800 (lumia-520) handset in both themes, clean, recognised whole (screen
and targets: ``ScreenLibrary.classify`` on the decoded frame) single-threaded
(``cv2.setNumThreads(1)``); median and 95th percentile per resolution, with
recognised/unknown/wrong screens. Targets are scored on the hand-measured
screenshots of tests/vision/data (a target counts when its tap point is in
the box measured by hand).

Airtest (in its own venv: it pins OpenCV <= 4.6 and numpy < 2, which the
harness cannot share; make it with
``python3 -m venv .venv-airtest && .venv-airtest/bin/pip install airtest==1.4.3``)
runs each asked-for method on the same PNG files with the same crops of the
library (benchmarks/airtest_side.py), also single-threaded, and the run
prints the ratio of its median to ours at each resolution.

``--perturbations``: accuracy per perturbation of harness.lab.perturb (each
alone and every pair) on every screen, profile and theme, the same frames
drawn with other fonts (Liberation Sans, DejaVu Sans, and Open Sans held
out) alone and under each perturbation, and seeded non-screens (which must
be unknown). ``--every N`` takes every Nth frame of each row.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # single-threaded: no BLAS threads beside OpenCV's one

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.lab.frames import FONTS, HELD_OUT, non_screen, screen_frames  # noqa: E402
from harness.lab.perturb import ORDERED, PAIRS, apply  # noqa: E402
from harness.profiles import load_all  # noqa: E402
from harness.vision import ScreenLibrary  # noqa: E402
from harness.vision.definitions import DEFAULT_LIBRARY  # noqa: E402

RESOLUTIONS = {"1080x1920": "lumia-930", "480x800": "lumia-520"}
THEMES = ("dark", "light")
HAND_MEASURED = ROOT / "tests" / "vision" / "data" / "hand_measured_targets.toml"
NON_SCREENS = 120


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def _pct(times: list[float], q: float) -> float:
    return float(np.percentile(times, q)) if times else float("nan")


def speed_set(out: Path) -> list[dict]:
    """Every screen at both resolutions in both themes, as PNG files (Airtest reads the same files)."""
    items = []
    for resolution, profile in RESOLUTIONS.items():
        for theme in THEMES:
            for screen, image in screen_frames(profile, theme):
                path = out / f"{profile}-{theme}-{screen}.png"
                Image.fromarray(image).save(path, compress_level=1)
                items.append({"image": str(path), "screen": screen, "resolution": resolution, "targets": []})
    shots = tomllib.loads(HAND_MEASURED.read_text())["shot"]
    for shot in shots:
        items.append({"image": str(HAND_MEASURED.parent / shot["image"]), "screen": shot["screen"],
                      "resolution": "hand-measured", "targets": shot["targets"]})
    return items


def score(items: list[dict], answers: list[dict]) -> dict:
    """Screens recognised/unknown/wrong, targets inside their hand-measured box, and time per resolution."""
    out: dict = {}
    for resolution in sorted({i["resolution"] for i in items}):
        rows = [(i, a) for i, a in zip(items, answers) if i["resolution"] == resolution]
        right = sum(a["screen"] == i["screen"] for i, a in rows)
        wrong = sum(a["screen"] not in (None, i["screen"]) for i, a in rows)
        times = [a["ms"] for _, a in rows]
        cpu = [a["cpu_ms"] for _, a in rows]
        out[resolution] = {"frames": len(rows), "recognised": right, "unknown": len(rows) - right - wrong,
                           "wrong": wrong, "median_ms": statistics.median(times), "p95_ms": _pct(times, 95),
                           "median_cpu_ms": statistics.median(cpu), "p95_cpu_ms": _pct(cpu, 95)}
        wanted = [(t, a) for i, a in rows for t in i["targets"]]
        if wanted:
            inside = 0
            for t, a in wanted:
                if t["name"] in a["targets"]:
                    x, y = a["targets"][t["name"]]
                    bx, by, bw, bh = t["box"]
                    inside += bx <= x <= bx + bw and by <= y <= by + bh
            out[resolution]["targets_in_box"] = f"{inside}/{len(wanted)}"
    return out


def run_ours(items: list[dict], repeat: int = 3) -> list[dict]:
    """Our answer for each frame, timed single-threaded from the decoded frame: the median of ``repeat`` runs,
    in wall time and in CPU time (what the work costs when other processes share the CPUs)."""
    cv2.setNumThreads(1)
    library = ScreenLibrary.load_default()
    answers = []
    for item in items:
        image = np.asarray(Image.open(item["image"]).convert("RGB"))
        wall, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            rec, _ = library.classify(image)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        answers.append({"screen": rec.screen if rec else None, "targets": dict(rec.targets) if rec else {},
                        "ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)})
    return answers


def run_airtest(python: str, method: str, items: list[dict], out: Path) -> list[dict] | str:
    """Airtest's answers for ``items`` with ``method`` (airtest_side.py in its venv), or why it failed."""
    manifest = out / f"airtest-{method}.json"
    manifest.write_text(json.dumps(items))
    side = Path(__file__).with_name("airtest_side.py")
    done = subprocess.run([python, str(side), str(manifest), str(DEFAULT_LIBRARY), "--method", method],
                          capture_output=True, text=True, timeout=4 * 3600)
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print_scores(who: str, scores: dict) -> None:
    for resolution, s in scores.items():
        targets = f", targets in their box {s['targets_in_box']}" if "targets_in_box" in s else ""
        print(f"{who:<16} {resolution:<14} median {s['median_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms (CPU "
              f"{s['median_cpu_ms']:.1f} / {s['p95_cpu_ms']:.1f})  recognised {s['recognised']}/{s['frames']}  unknown {s['unknown']}  wrong {s['wrong']}{targets}",
              flush=True)


def perturbation_table(every: int, seed: int, only: str | None = None) -> None:
    """recognised / unknown / wrong per perturbation and font, and for non-screens, in one table (``only``: the rows
    whose "font/perturbation" matches this regular expression, and non-screens only when "non-screens" does; each
    row keeps its own seed, so a table run in parts is the whole table's rows)."""
    cv2.setNumThreads(1)
    library = ScreenLibrary.load_default()
    kinds = ["clean", *ORDERED, *PAIRS]
    rows = [("bundled", k) for k in kinds] + [(f, k) for f in FONTS if f != "bundled" for k in ["clean", *ORDERED]]
    picked = [j for j, (font, kind) in enumerate(rows) if only is None or re.search(only, f"{font}/{kind}")]
    frames: dict[str, list[tuple[str, np.ndarray]]] = {}
    for font in sorted({rows[j][0] for j in picked} | {"bundled"}):
        frames[font] = [f for p in load_all() for t in THEMES for f in screen_frames(p.name, t, font)][::every]
    print(f"\nper perturbation: every {every}th of {len(load_all())} profiles x {len(THEMES)} themes x every screen "
          f"({len(frames['bundled'])} frames a row), seed {seed}; {_load()}")
    print(f"{'font':<16} {'perturbation':<22} {'recognised':>10} {'unknown':>8} {'wrong':>6} {'median ms':>10} "
          f"{'CPU ms':>7}")
    for j in picked:
        font, kind = rows[j]
        rng = np.random.default_rng(seed * 1000 + j)
        right = wrong = 0
        times, cpu = [], []
        for screen, clean in frames[font]:
            image = apply(clean, kind, rng)
            started, started_cpu = time.perf_counter(), time.process_time()
            rec = library.recognize(image)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            right += rec is not None and rec.screen == screen
            wrong += rec is not None and rec.screen != screen
        n = len(frames[font])
        label = font + (" (held out)" if font == HELD_OUT else "")
        print(f"{label:<16} {kind:<22} {right / n:>10.1%} {(n - right - wrong) / n:>8.1%} {wrong:>6} "
              f"{statistics.median(times):>10.1f} {statistics.median(cpu):>7.1f}", flush=True)
    if only is not None and not re.search(only, "non-screens"):
        return
    rng = np.random.default_rng(seed)
    named = [library.recognize(non_screen(rng, k)) for k in range(NON_SCREENS)]
    print(f"{'non-screens':<16} {'(6 kinds, seeded)':<22} {'-':>10} {sum(r is None for r in named) / NON_SCREENS:>8.1%} "
          f"{sum(r is not None for r in named):>6}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="where the PNG frames go (default: a temp dir)")
    default_air = ROOT / ".venv-airtest" / "bin" / "python"
    ap.add_argument("--airtest-python", default=str(default_air) if default_air.exists() else None,
                    help="python of a venv with airtest (default: .venv-airtest/bin/python when it exists)")
    ap.add_argument("--airtest", action="append", default=[], metavar="METHOD",
                    help="Airtest method to compare: tpl, airtest, kaze, brisk, akaze, orb, sift (repeatable; "
                         "default: tpl, aircv template matching, its fastest)")
    ap.add_argument("--airtest-every", type=int, default=2, metavar="N",
                    help="Airtest (seconds a frame) gets every Nth frame; ours is scored on the same ones too")
    ap.add_argument("--perturbations", action="store_true", help="also the per-perturbation table (minutes)")
    ap.add_argument("--every", type=int, default=1, metavar="N", help="per-perturbation rows: every Nth frame")
    ap.add_argument("--only", metavar="REGEX", help="per-perturbation rows whose 'font/perturbation' matches "
                    "(e.g. '^bundled/(clean|banner)$', 'non-screens'), to run the table in parts of under a minute")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed and Airtest part")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench-vision-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"bench_vision: {_load()}, OpenCV {cv2.__version__}, frames in {out}", flush=True)
    if not args.no_speed:
        speed(args, out)
    if args.perturbations:
        perturbation_table(args.every, args.seed, args.only)


def speed(args: argparse.Namespace, out: Path) -> None:
    """Our median and p95 per resolution, and Airtest's on the same frames when its venv is there."""
    items = speed_set(out)
    ours = run_ours(items)
    _print_scores("harness", score(items, ours))
    if args.airtest_python:
        sub = [i for i, item in enumerate(items) if item["resolution"] == "hand-measured" or i % args.airtest_every == 0]
        sub_items = [items[i] for i in sub]
        mine = score(sub_items, [ours[i] for i in sub])
        print(f"\nAirtest on {len(sub)} of the frames (every {args.airtest_every}th and the hand-measured shots); "
              f"{_load()}")
        _print_scores("harness", mine)
        for method in args.airtest or ["tpl"]:
            theirs = run_airtest(args.airtest_python, method, sub_items, out)
            if isinstance(theirs, str):
                print(f"airtest {method:<8} failed: {theirs}")
                continue
            s = score(sub_items, theirs)
            _print_scores(f"airtest {method}", s)
            for resolution in RESOLUTIONS:
                print(f"  {resolution}: Airtest {method} median / ours = "
                      f"{s[resolution]['median_ms'] / mine[resolution]['median_ms']:.1f}x wall, "
                      f"{s[resolution]['median_cpu_ms'] / mine[resolution]['median_cpu_ms']:.1f}x CPU; recognised "
                      f"{s[resolution]['recognised']} vs ours {mine[resolution]['recognised']} of "
                      f"{s[resolution]['frames']}", flush=True)
    else:
        print("Airtest: not run (make .venv-airtest as the module docstring says, or give --airtest-python)")


if __name__ == "__main__":
    main()
