"""The Airtest side of bench_vision.py; runs in a venv with `pip install airtest` (it pins its own OpenCV).

For each image: for every screen of the library, Airtest's template matching
(aircv TemplateMatching, the crops rescaled to the image's resolution the way
airtest's Template(resolution=...) does) looks for each anchor anywhere on
the screen; a screen counts when all its anchors are found at Airtest's
default threshold 0.7; the best mean confidence wins. Targets are found the
same way. Prints one JSON list of answers.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

try:  # airtest >= 1.2
    from airtest.aircv.template_matching import TemplateMatching
except ImportError:  # pragma: no cover
    from airtest.aircv.template import TemplateMatching  # type: ignore

import tomllib

THRESHOLD = 0.7


def load_library(folder: Path) -> list[dict]:
    screens = []
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        width = data["recorded"]["width"]
        anchors = [cv2.imread(str(folder / a["image"])) for a in data["anchor"]]
        targets = {t["name"]: cv2.imread(str(folder / t["image"])) for t in data.get("target", [])}
        screens.append({"name": data["name"], "width": width, "anchors": anchors, "targets": targets})
    return screens


def find(template: np.ndarray, image: np.ndarray, ratio: float) -> dict | None:
    if ratio != 1.0:
        template = cv2.resize(template, (max(1, int(template.shape[1] * ratio)), max(1, int(template.shape[0] * ratio))))
    if template.shape[0] > image.shape[0] or template.shape[1] > image.shape[1]:
        return None
    return TemplateMatching(template, image, threshold=THRESHOLD, rgb=False).find_best_result()


def main() -> None:
    cv2.setNumThreads(1)
    manifest = json.loads(Path(sys.argv[1]).read_text())
    library = load_library(Path(sys.argv[2]))
    answers = []
    for m in manifest:
        image = cv2.imread(m["image"])
        started = time.perf_counter()
        best = (None, 0.0)
        for screen in library:
            ratio = image.shape[1] / screen["width"]
            found = [find(a, image, ratio) for a in screen["anchors"]]
            if all(f is not None for f in found):
                confidence = float(np.mean([f["confidence"] for f in found]))
                if confidence > best[1]:
                    best = (screen, confidence)
        targets = {}
        if best[0] is not None:
            ratio = image.shape[1] / best[0]["width"]
            for name, crop in best[0]["targets"].items():
                hit = find(crop, image, ratio)
                if hit is not None:
                    targets[name] = [float(hit["result"][0]), float(hit["result"][1])]
        answers.append({"screen": best[0]["name"] if best[0] else None, "targets": targets,
                        "ms": (time.perf_counter() - started) * 1000})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
