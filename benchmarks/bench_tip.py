"""The tip finder and the glass estimate against the bench's truth, on drawn camera frames (no robot, no stream).

Usage: bench_tip.py [--seeds N | --seed S ...] [--themes dark,light] [--json]

For each seed and theme the emulated camera's picture (``CameraView``: the
seed's camera over the seed's placement, JPEG at the seed's quality) is
drawn with the stylus where calibration would hold it, and calibration's own
code finds the screen, the lens, the tip and the maps:

- the rough map's 7 points near the bed's middle and 9 spread over the screen,
  at the hover height and 12 mm higher: the glass height ``parallax`` tells from
  them against the truth (mm), and the rough map's error (screen px);
- the 5x5 grid 1 mm over the glass: each tip's error in screen px against the
  bed point it was drawn at (the bench's own map), the map fitted from them as
  calibration fits it, and the tap error through that map at the points
  ``bench_calibration.py`` taps (screen px). ``mapping`` is the error of the
  truth's tip projected and put through the found corners and lens: what the
  screen's corners alone leave.

Prints one JSON line per seed and theme, then the median and worst of each figure.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from typing import Any

import cv2
import numpy as np

from harness.camera.lens import fit_lens
from harness.camera.screen import CameraScreen
from harness.emulator.bench import place
from harness.emulator.camera_device import placement_of, view_of
from harness.lab.frames import screen_frames
from harness.profiles import load_profile
from harness.robot.calibration import GRID_EDGE, ROUGH_AGREE_PX
from harness.robot.calibration_fit import _disc, _grown_quad, _robust_fit, _unscaled
from harness.robot.tip import TipNotFound, find_tip

HOVER_Z = -20.0
RAISE_MM = 12.0
NEAR = (-75.0, -100.0)
ROUGH = ((0, 0), (12, 20), (-12, 20), (12, -20), (-12, -20), (0, 28), (0, -28))
TAPS = [(150, 250), (930, 250), (540, 960), (150, 1500), (930, 1500), (540, 1802)]
PARKED = ((-1, -1), (-149, -1), (-1, -199))


def one(seed: int, theme: str, welcome: np.ndarray) -> dict[str, Any]:
    """Calibration's views of seed ``seed`` in ``theme`` and their errors against the truth."""
    profile = load_profile("lumia-930")
    bench = place(profile, seed)
    view = view_of(placement_of(bench), seed)
    quality = random.Random(f"jpeg/{seed}").randint(72, 88)
    key = object()

    def shot(stylus: tuple[float, float, float]) -> np.ndarray:
        jpeg = cv2.imencode(".jpg", view.frame(welcome, stylus, key), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    reference = np.median(np.stack([shot((x, y, HOVER_Z)) for x, y in PARKED]), axis=0).astype(np.uint8)
    screen = CameraScreen("unused://", profile)
    screen.find(reference)
    lens, corners = fit_lens(cv2.cvtColor(reference, cv2.COLOR_RGB2GRAY), screen.corners)
    screen.use_lens(lens, corners)
    region = _grown_quad(reference.shape, corners, 1.6)
    window = 0.2 * float(max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[3] - corners[0])))

    def to_px(p: tuple[float, float]) -> tuple[float, float]:
        x, y = screen.to_screen(np.asarray([p], np.float64))[0]
        return float(x), float(y)

    def tip(x: float, y: float, z: float, expect: tuple[float, float] | None) -> Any:
        mask, near = region, None
        if expect is not None:
            cx, cy = screen.to_camera(np.asarray([expect], np.float64))[0]
            near = (float(cx), float(cy))
            mask = region & _disc(region.shape, near, window)
        return find_tip(shot((x, y, z)), shot((x, y, z + RAISE_MM)), reference, RAISE_MM, mask, "", near)

    # the rough map: hover-height views near the middle, then spread through a first map
    mm, low, high, unsure = [], [], [], []
    for points, expects in ((([NEAR[0] + dx, NEAR[1] + dy] for dx, dy in ROUGH), None), (None, None)):
        if points is None:
            first, _, _ = _robust_fit(mm, low, "rough map", 4, ROUGH_AGREE_PX, unsure)
            spread = [(fx * profile.width, fy * profile.height) for fy in (0.15, 0.5, 0.85) for fx in (0.15, 0.5, 0.85)]
            points, expects = [first.to_mm(*p) for p in spread], spread
        for i, (x, y) in enumerate(points):
            try:
                v = tip(x, y, HOVER_Z, expects[i] if expects else None)
            except TipNotFound:
                continue
            mm.append((x, y))
            unsure.extend([] if v.sure else [len(mm) - 1])
            low.append(to_px((v.x, v.y)))
            high.append(to_px(v.raised))
    _, _, out_low = _robust_fit(mm, low, "rough map", 4, ROUGH_AGREE_PX, unsure)
    _, _, out_high = _robust_fit(mm, high, "rough map", 4, ROUGH_AGREE_PX, unsure)
    keep = [i for i in range(len(mm)) if i not in out_low and i not in out_high] or list(range(len(mm)))
    assert profile.body is not None
    rough, height = _unscaled([mm[i] for i in keep], [low[i] for i in keep], [high[i] for i in keep], RAISE_MM,
                              profile.width / profile.body.screen_mm[0])
    true_height = HOVER_Z - bench.glass_z
    rough_err = max(float(np.hypot(*np.subtract(bench.screen_px(*rough.to_mm(*t)), t))) for t in TAPS)

    # the map: a grid 1 mm over the glass, aimed through the rough map
    fractions = [GRID_EDGE + (1 - 2 * GRID_EDGE) * i / 4 for i in range(5)]
    gmm, gpx, tip_err, mapping, gunsure = [], [], [], [], []
    for fy in fractions:
        for fx in fractions:
            x, y = rough.to_mm(fx * profile.width, fy * profile.height)
            truth = bench.screen_px(x, y)
            seen_true = view.pose.project([(x, y, bench.glass_z)])[0]
            mapping.append(float(np.hypot(*np.subtract(to_px((seen_true[0], seen_true[1])), truth))))
            try:
                v = tip(x, y, bench.glass_z + 1.0, (fx * profile.width, fy * profile.height))
            except TipNotFound:
                tip_err.append(float("inf"))
                continue
            p = to_px(v.at_height(-1.0))
            tip_err.append(float(np.hypot(*np.subtract(p, truth))))
            gmm.append((x, y))
            gpx.append(p)
            gunsure.extend([] if v.sure else [len(gmm) - 1])
    bed, errors, dropped = _robust_fit(gmm, gpx, "map", 6, 6.0, gunsure)
    taps = [float(np.hypot(*np.subtract(bench.screen_px(*bed.to_mm(*t)), t))) for t in TAPS]
    return {"seed": seed, "theme": theme, "glass_err_mm": None if height is None else round(height - true_height, 2),
            "rough_worst_px": round(rough_err, 1), "tip_median_px": round(statistics.median(tip_err), 2),
            "tip_worst_px": round(max(tip_err), 2), "mapping_worst_px": round(max(mapping), 2),
            "residual_px": round(float(np.sqrt(np.mean(np.square(errors)))), 2), "dropped": len(dropped),
            "tap_median_px": round(statistics.median(taps), 2), "tap_worst_px": round(max(taps), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="how many random seeds (default 6)")
    parser.add_argument("--seed", type=int, action="append", help="a seed to run (repeatable; instead of --seeds)")
    parser.add_argument("--themes", default="dark,light")
    args = parser.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(10**6) for _ in range(args.seeds)]
    frames = {t: next(f for n, f in screen_frames("lumia-930", t) if n == "setup_welcome")
              for t in args.themes.split(",")}
    results = []
    for seed in seeds:
        for theme, welcome in frames.items():
            started = time.process_time()
            r = one(seed, theme, welcome)
            r["cpu_s"] = round(time.process_time() - started, 1)
            results.append(r)
            print(json.dumps(r), flush=True)
    for key in ("tip_median_px", "tip_worst_px", "mapping_worst_px", "tap_median_px", "tap_worst_px",
                "rough_worst_px"):
        values = [r[key] for r in results]
        print(f"{key}: median {statistics.median(values):.2f}, worst {max(values):.2f}")
    glass = [abs(r["glass_err_mm"]) for r in results if r["glass_err_mm"] is not None]
    if glass:
        print(f"|glass_err_mm|: median {statistics.median(glass):.2f}, worst {max(glass):.2f}, "
              f"unknown {len(results) - len(glass)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
