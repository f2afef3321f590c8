"""``find_screen`` against the bench's truth with the stylus (or a fingertip) anywhere over and near the phone.

Usage: bench_finder.py [--seeds N] [--first S | --random] [--profiles lumia-930,lumia-520,...]
                       [--themes dark,light] [--per-seed K] [--sizes 1280x720,1920x1080] [--misses] [--json]

For each seed the seed's phone placement and camera (``CameraView``, the emulated camera's own picture, JPEG at
the seed's quality) are drawn showing a screen picked at random, with the stylus tip at one of these spots (bed
mm), at a height over the glass of 0, 1, 3, 5, 10, 20 or 35 mm:

- ``corner``: 0-12 mm in from a body corner along its diagonal, or up to 4 mm off it;
- ``edge``: on a body edge, up to 6 mm outside to 10 mm inside it, anywhere along it;
- ``over``: anywhere over the phone;
- ``near``: beside the phone on the desk, up to 15 mm from its outline;
- ``finger``: a fingertip (a 14-18 mm skin-toned blob with a shadow, drawn here over the frame, not by the
  emulator) over a corner or an edge of the outline.

The truth is the placement's screen corners projected through the seed's camera (``view.screen_corners()``);
a miss is a ``ScreenNotFound`` or a corner 8 camera pixels or more off. Prints the misses (with ``--misses``),
then per spot kind and in all: frames, misses, median and worst corner error (px), and the finder's median time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from harness.camera import ScreenNotFound, find_screen
from harness.emulator.bench import place
from harness.emulator.camera_device import placement_of, view_of
from harness.lab.frames import screen_frames
from harness.profiles import load_profile

TOLERANCE = 8.0
HEIGHTS = (0.0, 1.0, 3.0, 5.0, 10.0, 20.0, 35.0)
KINDS = ("corner", "edge", "over", "near", "finger")
WEIGHTS = (4, 3, 1, 1, 2)
PAGES_PER_THEME = 6


@lru_cache(maxsize=None)
def _pages(profile: str, theme: str) -> list[tuple[str, np.ndarray]]:
    """A few of the profile's screens in ``theme`` (every ``k``-th, so dark, light, lists and keyboards mix)."""
    pages = list(screen_frames(profile, theme))
    step = max(1, len(pages) // PAGES_PER_THEME)
    return pages[::step]


def _spot(kind: str, body: np.ndarray, rng: random.Random) -> np.ndarray:
    """A bed point (mm) of ``kind`` for the body outline ``body`` (TL, TR, BR, BL)."""
    centre = body.mean(axis=0)
    if kind == "corner":
        k = rng.randrange(4)
        inward = (centre - body[k]) / np.linalg.norm(centre - body[k])
        across = np.array([-inward[1], inward[0]])
        return body[k] + inward * rng.uniform(-2.0, 12.0) + across * rng.uniform(-4.0, 4.0)
    if kind in ("edge", "finger"):
        k = rng.randrange(4)
        a, b = body[k], body[(k + 1) % 4]
        along = (b - a) / np.linalg.norm(b - a)
        inward = np.array([-along[1], along[0]])
        if inward @ (centre - a) < 0:
            inward = -inward
        t = rng.uniform(0.0, 1.0) if kind == "edge" or rng.random() < 0.5 else rng.choice((0.0, 1.0))
        return a + (b - a) * t + inward * rng.uniform(-6.0, 10.0)
    if kind == "over":
        u, v = rng.uniform(0.02, 0.98), rng.uniform(0.02, 0.98)
        return body[0] + u * (body[1] - body[0]) + v * (body[3] - body[0])
    # near: on the desk beside the phone
    k = rng.randrange(4)
    a, b = body[k], body[(k + 1) % 4]
    along = (b - a) / np.linalg.norm(b - a)
    outward = np.array([along[1], -along[0]])
    if outward @ (centre - a) > 0:
        outward = -outward
    return a + (b - a) * rng.uniform(-0.1, 1.1) + outward * rng.uniform(1.0, 15.0)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def _finger(img: np.ndarray, view: Any, at: np.ndarray, z: float, rng: random.Random) -> None:
    """A fingertip over ``at`` (bed mm) ``z`` mm high: a skin-toned ellipse 14-18 mm wide with the finger behind
    it, reaching in from outside the phone, and a soft shadow on what is below (drawn on the BGR frame ``img``)."""
    wide = rng.uniform(14.0, 18.0)
    centre = np.asarray(view.placement.body, np.float64).mean(axis=0)
    # the hand comes from outside the phone: the finger points at most 60 degrees off towards its middle
    angle = float(np.arctan2(*(at - centre)[::-1])) + rng.uniform(-1.0, 1.0) * np.pi / 3
    d = np.array([np.cos(angle), np.sin(angle)])
    tip = view.pose.project([(at[0], at[1], z)])[0]
    px_mm = float(np.linalg.norm(view.pose.project([(at[0] + 1, at[1], z)])[0] - tip))
    back = view.pose.project([(at[0] + d[0] * 60, at[1] + d[1] * 60, z + 25)])[0]
    skin = tuple(float(c) for c in (rng.uniform(90, 150), rng.uniform(120, 170), rng.uniform(170, 220)))
    shadow = np.zeros(img.shape[:2], np.float32)
    off = np.array(view.light) * -(z - view.placement.glass_z + 2) * px_mm
    r = int(wide / 2 * px_mm)
    cv2.circle(shadow, _pt(tip + off), r, 1.0, -1)
    cv2.line(shadow, _pt(tip + off), _pt(back + off), 1.0, 2 * r)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.25 * r))
    img[:] = (img * (1 - 0.5 * shadow[..., None])).astype(np.uint8)
    cv2.line(img, _pt(tip), _pt(back), skin, 2 * r, cv2.LINE_AA)
    centre = (int(round(tip[0])), int(round(tip[1])))
    cv2.ellipse(img, centre, (r, int(1.15 * r)), float(np.degrees(angle)) + 90, 0, 360, skin, -1, cv2.LINE_AA)
    img[:] = cv2.GaussianBlur(img, (3, 3), 0)


def run_seed(seed: int, profiles: list[str], themes: list[str], per_seed: int, sizes: list[tuple[int, int]],
             rng: random.Random) -> list[dict[str, Any]]:
    """``per_seed`` frames of seed ``seed`` (profile, theme, size and screen picked with ``rng``)."""
    name = rng.choice(profiles)
    profile = load_profile(name)
    size = rng.choice(sizes)
    placement = placement_of(place(profile, seed))
    view = view_of(placement, seed, size)
    body = np.asarray(placement.body, np.float64)
    truth = view.screen_corners()
    quality = random.Random(f"jpeg/{seed}").randint(72, 88)
    aspect = profile.width / profile.height
    out = []
    for _ in range(per_seed):
        theme = rng.choice(themes)
        screen, page = rng.choice(_pages(name, theme))
        kind = rng.choices(KINDS, WEIGHTS)[0]
        at = _spot(kind, body, rng)
        z = placement.glass_z + rng.choice(HEIGHTS)
        frame = view.frame(page, None if kind == "finger" else (float(at[0]), float(at[1]), z))
        if kind == "finger":
            _finger(frame, view, at, z, rng)
        jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        rgb = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        t0 = time.process_time()
        try:
            err: float | None = float(np.linalg.norm(find_screen(rgb, aspect) - truth, axis=1).max())
            why = ""
        except ScreenNotFound as exc:
            err, why = None, str(exc)
        cpu = time.process_time() - t0
        out.append({"seed": seed, "profile": name, "size": f"{size[0]}x{size[1]}", "theme": theme, "screen": screen,
                    "kind": kind, "at": [round(float(v), 1) for v in at], "height": round(z - placement.glass_z, 1),
                    "error": None if err is None else round(err, 2), "why": why, "cpu_ms": round(cpu * 1000, 1)})
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    errs = [r["error"] for r in rows if r["error"] is not None]
    missed = [r for r in rows if r["error"] is None or r["error"] >= TOLERANCE]
    return {"frames": len(rows), "misses": len(missed), "not_found": sum(r["error"] is None for r in rows),
            "median_px": round(statistics.median(errs), 2) if errs else None,
            "worst_px": round(max(errs), 2) if errs else None,
            "cpu_ms_median": round(statistics.median(r["cpu_ms"] for r in rows), 1) if rows else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first", type=int, default=1, help="the first seed (seeds first, first+1, ...)")
    ap.add_argument("--random", action="store_true", help="fresh random seeds (printed)")
    ap.add_argument("--profiles", default="lumia-930,lumia-520,lumia-630,lumia-920,lumia-1320,htc-8x")
    ap.add_argument("--themes", default="dark,light")
    ap.add_argument("--per-seed", type=int, default=8)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--misses", action="store_true", help="print each miss")
    ap.add_argument("--json", action="store_true", help="print every frame as a JSON line")
    args = ap.parse_args(argv)
    if args.random:
        seeds = random.SystemRandom().sample(range(10**6), args.seeds)
    else:
        seeds = list(range(args.first, args.first + args.seeds))
    print(f"seeds {seeds[0]}..{seeds[-1]}" if not args.random else f"seeds {seeds}", flush=True)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        got = run_seed(seed, args.profiles.split(","), args.themes.split(","), args.per_seed, sizes,  # type: ignore
                       random.Random(f"bench_finder/{seed}"))
        for r in got:
            if args.json:
                print(json.dumps(r), flush=True)
            elif args.misses and (r["error"] is None or r["error"] >= TOLERANCE):
                print(f"MISS seed {r['seed']} {r['profile']} {r['size']} {r['theme']} {r['screen']} {r['kind']} "
                      f"at {r['at']} +{r['height']} mm: {r['error'] if r['error'] is not None else r['why']}",
                      flush=True)
        rows.extend(got)
    for kind in KINDS:
        print(kind, json.dumps(summary([r for r in rows if r["kind"] == kind])))
    print("all", json.dumps(summary(rows)))
    return 0 if summary(rows)["misses"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
