"""What ``harness sync`` reads over the camera against what it reads over ADB, list by list, on bench seeds.

Usage: python benchmarks/bench_camera_lists.py --seed N [--seed N ...] [--themes dark,light] [--frames DIR]

For each seed and theme an in-process emulated phone (the demo accounts, alice@outlook.com signed in) shows
email+accounts, Outlook's mail, People and Calendar; each list is scrolled a screenful at a time to its end as
``read_list`` does. Every screenful is read twice with the flows' own reader (``read_entries``): from the
phone's screenshot (what ADB gives) and from the emulated camera's picture of it, screen found, rectified and
normalised as robot:// does. Per list: the entries whose main line (and dim line) the camera read as ADB read
them, and on email+accounts whether the Microsoft account's address was read exactly.
``--frames DIR`` keeps the camera pictures (and reads them from there on a later run: the drawing is the slow
part that does not change when the reading does).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from harness.emulator.bench import place
from harness.emulator.camera_device import SIZES, placement_of, view_of
from harness.flows.app_lists import Entry, list_region, read_entries
from harness.flows.list_scroll import following, scrolled_by
from harness.flows.inboxes import account_address
from harness.lab.frames import lab_phone, through_camera
from harness.vision import ScreenLibrary
from harness.vision.ocr import normalise as words

LISTS = ("email_accounts", "mail", "people", "calendar")
ADDRESS = "alice@outlook.com"


def screenfuls(profile_name: str, theme: str, screen: str, library: ScreenLibrary) -> list[np.ndarray]:
    """The RGB screenshots of list ``screen`` from its top to its end (a swipe up a screenful at a time)."""
    from harness.lab.record_screens import show_screen

    with lab_phone(profile_name, theme) as phone:
        show_screen(phone, screen)
        shots = [np.asarray(phone.frame().convert("RGB"))]
        rec = library.classify(shots[0])[0]
        region = list_region(rec)
        w = shots[0].shape[1]
        for _ in range(10):
            phone.swipe(w // 2, region.y + region.h * 3 // 4, w // 2, region.y + region.h // 5, 200)
            shot = np.asarray(phone.frame().convert("RGB"))
            if np.array_equal(shot, shots[-1]):
                break
            shots.append(shot)
        return shots


def read_all(frames: list[np.ndarray], screen: str, library: ScreenLibrary) -> tuple[list[Entry], str]:
    out: list[Entry] = []
    previous: list[Entry] = []
    moved: int | None = None
    for before, frame in zip([None, *frames], frames):
        rec = library.classify(frame)[0]
        if rec is None or rec.screen != screen:
            return out, f"seen as {rec.screen if rec else 'unknown'}"
        if before is not None:   # how far the list moved, measured from the two frames as read_list does
            region = list_region(rec)
            moved = scrolled_by(before[region.y:region.y + region.h], frame[region.y:region.y + region.h], rec.scale)
        page = read_entries(rec)
        out, previous = following(out, previous, page, moved, rec.scale), page
    return out, ""


#: What sync keeps of each list: Outlook's subjects (the dim lines), People's and Calendar's main lines.
KEPT = {"mail": lambda e: e.sub, "people": lambda e: e.title, "calendar": lambda e: e.title,
        "email_accounts": lambda e: f"{e.title} / {e.sub}"}


def compare(screen: str, adb: list[Entry], cam: list[Entry]) -> tuple[int, int, list[str]]:
    """What sync keeps of ADB's entries that the camera read alike (normalised), in order; and the differences."""
    from difflib import SequenceMatcher

    a = [words(KEPT[screen](e)) for e in adb if KEPT[screen](e)]
    c = [words(KEPT[screen](e)) for e in cam if KEPT[screen](e)]
    same, diffs = 0, []
    for tag, i0, i1, j0, j1 in SequenceMatcher(None, a, c, autojunk=False).get_opcodes():
        if tag == "equal":
            same += i1 - i0
        else:
            diffs.append(f"{a[i0:i1]} -> {c[j0:j1]}")
    return same, len(a), diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", required=True)
    parser.add_argument("--themes", default="dark,light")
    parser.add_argument("--profile", default="lumia-930")
    parser.add_argument("--frames", type=Path, help="keep (or reuse) the drawn frames here")
    parser.add_argument("--lists", default=",".join(LISTS))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    from harness.profiles import load_profile

    profile = load_profile(args.profile)
    library = ScreenLibrary.load_default()
    started = time.perf_counter()
    totals: dict[str, list[int]] = {}
    for theme in args.themes.split(","):
        for seed in args.seed:
            view = view_of(placement_of(place(profile, seed)), seed, SIZES["1280x720"])
            row = []
            for screen in args.lists.split(","):
                cached = args.frames / f"{seed}-{theme}-{screen}.npz" if args.frames else None
                if cached is not None and cached.exists():
                    data = np.load(cached)
                    shots, raws = list(data["shots"]), list(data["raws"])
                else:
                    shots = screenfuls(args.profile, theme, screen, library)
                    raws = [view.frame(s) for s in shots]
                    if cached is not None:
                        cached.parent.mkdir(parents=True, exist_ok=True)
                        np.savez_compressed(cached, shots=np.array(shots), raws=np.array(raws))
                cams = [through_camera(raw, profile.width, profile.height) for raw in raws]
                adb, _ = read_all(shots, screen, library)
                cam, problem = read_all(cams, screen, library)
                same, total, diffs = compare(screen, adb, cam)
                t = totals.setdefault(f"{theme} {screen}", [0, 0])
                t[0] += same
                t[1] += total
                extra = ""
                if screen == "email_accounts":
                    got = [account_address(e.sub) for e in cam if "microsoft" in words(e.title)]
                    ok = got == [ADDRESS]
                    a = totals.setdefault(f"{theme} address", [0, 0])
                    a[0] += ok
                    a[1] += 1
                    extra = f" address {'ok' if ok else got}"
                listed = totals.setdefault(f"{theme} {screen} listed as many as ADB", [0, 0])
                listed[0] += len(cam) == len(adb)
                listed[1] += 1
                count = "" if len(cam) == len(adb) else f" (listed {len(cam)} for {len(adb)})"
                row.append(f"{screen} {same}/{total}{count}{extra}" + (f" ({problem})" if problem else ""))
                for d in diffs:
                    print(f"    {seed} {theme} {screen}: {d}")
            print(f"seed {seed} {theme}: " + "; ".join(row), flush=True)
    for key, (same, total) in totals.items():
        print(f"{key}: {same}/{total}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
