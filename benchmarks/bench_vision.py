"""Screen recognition: accuracy over >= 2,000 generated screenshots, speed, and Airtest side by side.

Run: python benchmarks/bench_vision.py [--out DIR | --manifest FILE]
         [--airtest-python /path/to/venv/bin/python --airtest tpl=25 --airtest kaze=100 ...]

Also prints median and 95th percentile per resolution, and with --perturbations N
accuracy per perturbation of harness.lab.perturb (each alone and every pair).

The data set: every emulator screen x every shipped profile x both themes x
random accent colours, each clean or JPEG-compressed, noisy, mildly blurred,
or under a toast; plus non-screens (random images, flat colours, another
app's screen). Airtest (in its own venv since it pins its own OpenCV) runs
each asked-for method (aircv template matching, its keypoint matchers, or
its default Template strategy; see airtest_side.py) on every Nth image of
the same set with the same crops; both are timed single-threaded here.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts  # noqa: E402
from harness.emulator.phone import EmulatedPhone, PhoneOptions  # noqa: E402
from harness.emulator.sms import SmsNetwork  # noqa: E402
from harness.emulator.ui import SCREENS  # noqa: E402
from harness.profiles import ACCENTS, load_all  # noqa: E402
from harness.vision import ScreenLibrary  # noqa: E402
from harness.vision.definitions import DEFAULT_LIBRARY  # noqa: E402
from harness.lab.record_screens import show_screen  # noqa: E402

PERTURBATIONS = ("clean", "jpeg", "noise", "blur", "toast", "jpeg")


def perturb(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=int(rng.integers(40, 80)))
        return np.asarray(Image.open(buf).convert("RGB"))
    if kind == "noise":
        return np.clip(image.astype(np.int16) + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    if kind == "blur":
        return cv2.GaussianBlur(image, (0, 0), 0.5 * image.shape[1] / 480)
    return image


def generate(out: Path, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    manifest = []
    for profile in load_all():
        for theme in ("dark", "light"):
            for variant, kind in enumerate(PERTURBATIONS):
                sms = SmsNetwork()
                phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                                      PhoneOptions(animation_ms=0, theme=theme, accent=pick.choice(sorted(ACCENTS)),
                                                   toasts=kind == "toast", toast_seed=variant, toast_interval=0.01,
                                                   toast_duration=600))
                phone.start(instant=True)
                for screen in SCREENS:
                    show_screen(phone, screen)
                    page = phone.ui.page(profile.view_height)
                    image = perturb(np.asarray(phone.frame()), kind, rng)
                    path = out / f"{len(manifest):05d}.png"
                    Image.fromarray(image).save(path, compress_level=1)
                    targets = {}
                    for w in page.widgets:
                        if w.id and (w.kind != "tile" or w.id == "settings"):
                            name = "attention_required" if w.id.startswith("outlook:") else w.id
                            targets[name] = [w.rect.x * profile.scale, w.rect.y * profile.scale,
                                             w.rect.w * profile.scale, w.rect.h * profile.scale]
                    manifest.append({"image": str(path), "screen": screen, "profile": profile.name, "theme": theme,
                                     "perturbation": kind, "targets": targets})
                phone.close()
    for i in range(240):
        kind = i % 4
        if kind == 0:
            image = rng.integers(0, 255, (1920, 1080, 3), dtype=np.uint8)
        elif kind == 1:
            image = np.full((1280, 720, 3), rng.integers(0, 255, 3), np.uint8)
        elif kind == 2:
            image = cv2.resize(rng.integers(0, 255, (30, 18, 3), dtype=np.uint8), (768, 1280), interpolation=cv2.INTER_CUBIC)
        else:
            image = np.full((800, 480, 3), 255 if i % 8 == 3 else 20, np.uint8)
            ink = (0, 0, 0) if i % 8 == 3 else (230, 230, 230)
            cv2.putText(image, ["Inbox", "Maps", "Photos", "Music"][i % 4], (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, ink, 3)
            for j in range(10):
                cv2.putText(image, f"item {j} {rng.integers(1000)}", (20, 140 + 55 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.8, ink, 2)
        path = out / f"non-{i:04d}.png"
        Image.fromarray(image).save(path, compress_level=1)
        manifest.append({"image": str(path), "screen": None, "targets": {}})
    return manifest


def score(manifest: list[dict], answers: list[dict]) -> dict:
    screens = [(m, a) for m, a in zip(manifest, answers) if m["screen"]]
    others = [(m, a) for m, a in zip(manifest, answers) if not m["screen"]]
    correct = sum(a["screen"] == m["screen"] for m, a in screens)
    wrong = sum(a["screen"] not in (None, m["screen"]) for m, a in screens)
    false_pos = sum(a["screen"] is not None for _, a in others)
    errors, hits = [], []
    for m, a in screens:
        if a["screen"] != m["screen"]:
            continue
        for name, (x, y) in a.get("targets", {}).items():
            if name in m["targets"]:
                # distance from the tap point to the widget it must land on (0 inside it)
                bx, by, bw, bh = m["targets"][name]
                dx = max(bx - x, 0.0, x - (bx + bw))
                dy = max(by - y, 0.0, y - (by + bh))
                errors.append(float(np.hypot(dx, dy)))
                hits.append(dx == 0 and dy == 0)
    times = [a["ms"] for a in answers]
    return {"images": len(answers), "screens": len(screens), "correct_rate": correct / max(1, len(screens)),
            "wrong_screen_rate": wrong / max(1, len(screens)), "false_positive_rate": false_pos / max(1, len(others)),
            "target_hit_rate": sum(hits) / len(hits) if hits else None,
            "target_error_px_median": statistics.median(errors) if errors else None,
            "target_error_px_p95": float(np.percentile(errors, 95)) if errors else None,
            "median_ms": statistics.median(times)}


def run_ours(manifest: list[dict]) -> list[dict]:
    cv2.setNumThreads(1)
    library = ScreenLibrary.load_default()
    answers = []
    for m in manifest:
        image = np.asarray(Image.open(m["image"]).convert("RGB"))
        started = time.perf_counter()
        rec = library.recognize(image)
        ms = (time.perf_counter() - started) * 1000
        answers.append({"screen": rec.screen if rec else None, "targets": dict(rec.targets) if rec else {}, "ms": ms})
    return answers


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="where the generated set goes (default: a temp dir)")
    ap.add_argument("--manifest", help="reuse a set generated earlier (its manifest.json) instead of generating one")
    ap.add_argument("--airtest-python", help="python of a venv with `pip install airtest`")
    ap.add_argument("--airtest", action="append", default=[], metavar="METHOD=N",
                    help="run Airtest's METHOD (tpl, airtest, kaze, brisk, akaze, orb, sift) on every Nth image; "
                         "repeatable (default with --airtest-python: tpl=25)")
    ap.add_argument("--perturbations", type=int, default=0, metavar="N",
                    help="also print accuracy per perturbation (each alone and every pair, harness.lab.perturb) "
                         "on every Nth screen image")
    args = ap.parse_args()
    if args.manifest:
        out = Path(args.manifest).parent
        manifest = json.loads(Path(args.manifest).read_text())
    else:
        out = Path(args.out or tempfile.mkdtemp(prefix="bench-vision-"))
        out.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        manifest = generate(out)
        (out / "manifest.json").write_text(json.dumps(manifest))
        print(f"generated {len(manifest)} images in {time.monotonic() - started:.0f}s into {out}")
    ours = run_ours(manifest)
    print("harness, all images:", json.dumps(score(manifest, ours)))
    sizes: dict[tuple[int, int], list[float]] = {}
    for m, a in zip(manifest, ours):
        if m["screen"]:
            sizes.setdefault(Image.open(m["image"]).size, []).append(a["ms"])
    for (w, h), times in sorted(sizes.items()):
        print(f"harness, {w}x{h}: median {statistics.median(times):.1f} ms, p95 {np.percentile(times, 95):.1f} ms "
              f"({len(times)} screenshots)")
    if args.perturbations:
        perturbation_table(manifest, args.perturbations)
    if args.airtest_python:
        for spec in args.airtest or ["tpl=25"]:
            method, _, every = spec.partition("=")
            compare_with_airtest(args.airtest_python, method, int(every or 25), manifest, ours, out)


def perturbation_table(manifest: list[dict], every: int, seed: int = 5) -> None:
    """Accuracy and wrong screens per perturbation (each alone and two at a time) on every Nth clean screen."""
    from harness.lab.perturb import ORDERED, PAIRS, apply

    cv2.setNumThreads(1)
    library = ScreenLibrary.load_default()
    clean = [m for m in manifest if m["screen"] and m.get("perturbation") == "clean"][::every]
    print(f"per perturbation, {len(clean)} clean screenshots each:")
    print(f"{'perturbation':<22} {'correct':>8} {'unknown':>8} {'wrong':>6} {'median ms':>10}")
    for j, kind in enumerate(ORDERED + PAIRS):
        rng = np.random.default_rng(seed + j)
        right = wrong = 0
        times = []
        for m in clean:
            image = apply(np.asarray(Image.open(m["image"]).convert("RGB")), kind, rng)
            started = time.perf_counter()
            rec = library.recognize(image)
            times.append((time.perf_counter() - started) * 1000)
            right += rec is not None and rec.screen == m["screen"]
            wrong += rec is not None and rec.screen != m["screen"]
        n = len(clean)
        print(f"{kind:<22} {right / n:>8.1%} {(n - right - wrong) / n:>8.1%} {wrong:>6} {statistics.median(times):>10.1f}",
              flush=True)


def compare_with_airtest(python: str, method: str, every: int, manifest: list[dict], ours: list[dict],
                         out: Path) -> None:
    """Run one Airtest method on every Nth image and print both scores on that subset, with the ratios."""
    subset = list(range(0, len(manifest), every))
    subset_file = out / f"subset-{method}-{every}.json"
    subset_file.write_text(json.dumps([manifest[i] for i in subset]))
    side = Path(__file__).with_name("airtest_side.py")
    done = subprocess.run([python, str(side), str(subset_file), str(DEFAULT_LIBRARY), "--method", method],
                          capture_output=True, text=True, timeout=4 * 3600)
    if done.returncode != 0:
        print(f"airtest {method} failed:", done.stderr[-2000:])
        return
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    sub_manifest = [manifest[i] for i in subset]
    a, b = score(sub_manifest, [ours[i] for i in subset]), score(sub_manifest, theirs)
    print(f"every {every}th image ({len(subset)}), harness:", json.dumps(a))
    print(f"every {every}th image ({len(subset)}), airtest {method}:", json.dumps(b))
    ratio = f"{a['correct_rate'] / b['correct_rate']:.2f}" if b["correct_rate"] else "Airtest found none"
    print(f"airtest {method}: correct {b['correct_rate']:.1%} vs ours {a['correct_rate']:.1%} "
          f"(ratio {ratio}); false positives {b['false_positive_rate']:.1%} "
          f"vs {a['false_positive_rate']:.1%}; median {b['median_ms']:.0f} ms vs {a['median_ms']:.1f} ms "
          f"({b['median_ms'] / a['median_ms']:.1f}x faster)", flush=True)


if __name__ == "__main__":
    main()
