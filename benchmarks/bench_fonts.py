"""Wrong screens in every font: every screen x profile x theme x perturbation (each alone and pairs) x font x seed.

Run: python benchmarks/bench_fonts.py [--fonts a,b] [--profiles a,b] [--themes dark,light] [--kinds REGEX]
         [--pairs N] [--seeds 1,2] [--screens REGEX] [--jsonl FILE]

Each frame's perturbation is drawn from its own generator, seeded from
"seed/font/profile/theme/screen/kind" (``frame_rng``), so every wrong screen
this prints reproduces on its own (``harness.lab.frames.screen_frames`` with
that font, profile and theme, then ``harness.lab.perturb.apply``). The answer
is the screen the emulator was told to show, never anything vision computed.

``--kinds`` picks the perturbations by name ("clean", "banner", "banner+shift"
...; default: clean, each alone, and every pair); ``--pairs N`` keeps N pairs a
frame (picked per frame from that frame's seed) instead of all 36, to sweep
more fonts and seeds in the same time. The table gives recognised / unknown /
wrong per font and perturbation, and the CPU time of ``classify`` (median).
Split long sweeps into pieces (by font, profile or seed) and merge their
``--jsonl`` files: every row says where it came from.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.lab.frames import FONTS, MORE_FONTS, screen_frames  # noqa: E402
from harness.lab.perturb import ORDERED, PAIRS, apply, frame_rng  # noqa: E402
from harness.profiles import load_all  # noqa: E402
from harness.vision import ScreenLibrary  # noqa: E402


def kinds_for(pick: random.Random, singles: list[str], pairs: list[str], keep: int | None) -> list[str]:
    return singles + (pairs if keep is None or keep >= len(pairs) else pick.sample(pairs, keep))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    faces = [*FONTS, *MORE_FONTS]
    ap.add_argument("--fonts", default=",".join(faces), help=f"comma list of {', '.join(faces)}")
    ap.add_argument("--profiles", default=",".join(p.name for p in load_all()))
    ap.add_argument("--themes", default="dark,light")
    ap.add_argument("--kinds", default=".", help="regex on the perturbation names (clean, banner, banner+shift, ...)")
    ap.add_argument("--pairs", type=int, default=None, metavar="N", help="N pairs a frame, picked by its seed")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--screens", default=".", help="regex on screen names")
    ap.add_argument("--jsonl", help="append one line per (font, profile, theme, seed, kind) and per wrong screen")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    library = ScreenLibrary.load_default()
    rx = re.compile(args.kinds)
    singles = [k for k in ["clean", *ORDERED] if rx.search(k)]
    pairs = [k for k in PAIRS if rx.search(k)]
    seeds = [int(s) for s in args.seeds.split(",")]
    one, five, _ = os.getloadavg()
    print(f"bench_fonts: load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs; fonts {args.fonts}; "
          f"profiles {args.profiles}; themes {args.themes}; seeds {seeds}; {len(singles)} alone, "
          f"{args.pairs if args.pairs is not None else len(pairs)} of {len(pairs)} pairs a frame", flush=True)
    out = open(args.jsonl, "a") if args.jsonl else None
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # (font, kind) -> right, unknown, wrong
    cpu: list[float] = []
    wrongs = []
    started = time.time()
    for font in args.fonts.split(","):
        for profile in args.profiles.split(","):
            for theme in args.themes.split(","):
                frames = [(s, f) for s, f in screen_frames(profile, theme, font) if re.search(args.screens, s)]
                for seed in seeds:
                    for screen, clean in frames:
                        pick = random.Random(f"{seed}/{font}/{profile}/{theme}/{screen}")
                        for kind in kinds_for(pick, singles, pairs, args.pairs):
                            image = apply(clean, kind, frame_rng(seed, font, profile, theme, screen, kind))
                            t0 = time.process_time()
                            rec, guess = library.classify(image)
                            cpu.append((time.process_time() - t0) * 1000)
                            row = tally[font, kind]
                            if rec is None:
                                row[1] += 1
                            elif rec.screen == screen:
                                row[0] += 1
                            else:
                                row[2] += 1
                                w = {"seed": seed, "font": font, "profile": profile, "theme": theme, "screen": screen,
                                     "kind": kind, "taken_for": rec.screen, "why": guess.why()}
                                wrongs.append(w)
                                print(f"WRONG {seed}/{font}/{profile}/{theme}/{screen}/{kind} -> {rec.screen} "
                                      f"({guess.why()})", flush=True)
                                if out:
                                    out.write(json.dumps({"wrong": w}) + "\n")
                print(f"  {font} {profile} {theme}: done at {time.time() - started:.0f}s", flush=True)
    print(f"\n{'font':<16} {'perturbation':<22} {'frames':>6} {'recognised':>10} {'unknown':>8} {'wrong':>6}")
    for (font, kind), (r, u, w) in tally.items():
        n = r + u + w
        print(f"{font:<16} {kind:<22} {n:>6} {r / n:>10.1%} {u / n:>8.1%} {w:>6}")
        if out:
            out.write(json.dumps({"font": font, "kind": kind, "right": r, "unknown": u, "wrong": w}) + "\n")
    one, five, _ = os.getloadavg()
    print(f"\n{len(cpu)} frames, {len(wrongs)} wrong; classify CPU median {statistics.median(cpu):.1f} ms, "
          f"p95 {np.percentile(cpu, 95):.1f} ms (incl. compiling per new scale); load {one:.1f} (5 min {five:.1f})")
    if out:
        out.close()


if __name__ == "__main__":
    main()
