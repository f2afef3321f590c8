"""The Airtest side of bench_vision.py; runs in a venv with `pip install airtest` (it pins its own OpenCV).

Usage: airtest_side.py MANIFEST SCREENS_DIR [--method M]

For each image and every screen of the library, Airtest looks for each anchor
crop; a screen counts when all its anchors are found at Airtest's default
threshold 0.7, and the best mean confidence wins. Targets are found the same
way on the winning screen. Methods:

- `tpl`: aircv TemplateMatching, the crop rescaled to the image's width;
- `kaze`, `brisk`, `akaze`, `orb`, `sift`: aircv's keypoint matchers, same crops;
- `airtest`: what an Airtest script gets from `exists(Template(...))`: the
  Template class with the recording resolution and record_pos, trying its
  default strategy (multi-scale template, template, SIFT, BRISK) in order.

Prints one JSON list of answers.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # single-threaded: no BLAS threads beside OpenCV's one

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np
import tomllib
from airtest.aircv.error import BaseError
from airtest.aircv.keypoint_matching import AKAZEMatching, BRISKMatching, KAZEMatching, ORBMatching
from airtest.aircv.keypoint_matching_contrib import SIFTMatching
from airtest.aircv.template_matching import TemplateMatching
from airtest.core.cv import Template

THRESHOLD = 0.7
MATCHERS = {"tpl": TemplateMatching, "kaze": KAZEMatching, "brisk": BRISKMatching, "akaze": AKAZEMatching,
            "orb": ORBMatching, "sift": SIFTMatching}


def load_library(folder: Path) -> list[dict]:
    screens = []
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        size = (data["recorded"]["width"], data["recorded"]["height"])

        def crop(entry: dict) -> dict:
            x, y, w, h = entry["region"]
            # airtest's record_pos: the crop centre relative to the screen centre, in screen widths
            pos = ((x + w / 2 - size[0] / 2) / size[0], (y + h / 2 - size[1] / 2) / size[0])
            file = folder / entry["image"]
            return {"file": str(file), "image": cv2.imread(str(file)), "record_pos": pos}

        screens.append({"name": data["name"], "size": size, "anchors": [crop(a) for a in data["anchor"]],
                        "targets": {t["name"]: crop(t) for t in data.get("target", [])}})
    return screens


def find(method: str, crop: dict, size: tuple[int, int], image: np.ndarray) -> dict | None:
    """One Airtest lookup of a crop recorded on a screen of `size` in `image`; None when not found."""
    if method == "airtest":
        return Template(crop["file"], threshold=THRESHOLD, record_pos=crop["record_pos"], resolution=size)._cv_match(image)
    template = crop["image"]
    ratio = image.shape[1] / size[0]
    if ratio != 1.0:
        template = cv2.resize(template, (max(1, int(template.shape[1] * ratio)), max(1, int(template.shape[0] * ratio))))
    if template.shape[0] > image.shape[0] or template.shape[1] > image.shape[1]:
        return None
    try:
        return MATCHERS[method](template, image, threshold=THRESHOLD, rgb=False).find_best_result()
    except BaseError:  # aircv's "too few keypoints" and the like: not found
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("screens")
    ap.add_argument("--method", default="tpl", choices=["airtest", *MATCHERS])
    args = ap.parse_args()
    logging.getLogger("airtest").setLevel(logging.WARNING)
    cv2.setNumThreads(1)
    manifest = json.loads(Path(args.manifest).read_text())
    library = load_library(Path(args.screens))
    answers = []
    for m in manifest:
        image = cv2.imread(m["image"])
        started, started_cpu = time.perf_counter(), time.process_time()
        best = (None, 0.0)
        for screen in library:
            found = []
            for anchor in screen["anchors"]:
                hit = find(args.method, anchor, screen["size"], image)
                if hit is None:
                    break
                found.append(hit)
            else:
                confidence = float(np.mean([f["confidence"] for f in found]))
                if confidence > best[1]:
                    best = (screen, confidence)
        targets = {}
        if best[0] is not None:
            for name, crop in best[0]["targets"].items():
                hit = find(args.method, crop, best[0]["size"], image)
                if hit is not None:
                    targets[name] = [float(hit["result"][0]), float(hit["result"][1])]
        answers.append({"screen": best[0]["name"] if best[0] else None, "targets": targets,
                        "ms": (time.perf_counter() - started) * 1000,
                        "cpu_ms": (time.process_time() - started_cpu) * 1000})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
