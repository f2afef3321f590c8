"""``harness match``, ``harness read-text`` and ``harness screens record``: the screen library from the command line."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from harness.cli.options import (add_target_options, add_timeout_option, bounded, chosen_handset,
                                 handset_named, open_chosen, screen_library)
from harness.cli.wording import worded
from harness.errors import ConfigError, HarnessError
from harness.images import load_rgb


def _box(text: str, what: str) -> Any:
    from harness.vision.definitions import Box

    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise HarnessError(f"{what}: expected x,y,w,h in pixels, got {text!r}") from None
    return Box(x, y, w, h)


def add_match_parser(sub: Any) -> None:
    """Register ``harness match`` (which screen, and where its targets are) on the subparsers."""
    p = sub.add_parser("match", help="recognise the screen in screenshots (or on a live handset)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="PNG/JPEG screenshots")
    add_target_options(p)  # --handset/--device: take the screenshot from this handset (as every desk command does)
    p.add_argument("--screens", metavar="DIR", help="screen library (default: the library shipped with the package)")
    p.add_argument("--profile", help="device profile, for its scale factor (default: width / 480)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    add_timeout_option(p, "match")
    p.set_defaults(func=bounded(_cmd_match))


def _print(label: str, image: np.ndarray, library: Any, scale: float | None, as_json: bool) -> bool:
    library.prepare(image.shape[1], scale)  # compiled once per resolution: not part of recognising a frame
    started = time.perf_counter()
    rec, guess = library.classify(image, scale)
    ms = (time.perf_counter() - started) * 1000
    if rec is None:
        if as_json:
            print(json.dumps({"image": label, "screen": None, "score": round(guess.score, 4), "targets": {}, "ms": round(ms, 1),
                              "why": guess.why()}))
        else:
            print(f"{label}: unknown ({guess.why()}) [{ms:.0f} ms]")
        return False
    from harness.vision.recognition import confirm_list_items

    # where a tap would land (a list item's row read, as before a tap), after the timing: ms is recognition's own
    targets = {k: [round(v[0]), round(v[1])] for k, v in confirm_list_items(rec).items()}
    if as_json:
        print(json.dumps({"image": label, "screen": rec.screen, "score": round(rec.score, 4), "targets": targets,
                          "ms": round(ms, 1)}))
    else:
        where = ", ".join(f"{k} ({x}, {y})" for k, (x, y) in targets.items())
        print(f"{label}: {rec.screen} (score {rec.score:.2f}) [{ms:.0f} ms] targets: {where or 'none'}")
    return True


def _frames(args: argparse.Namespace, command: str) -> Iterator[tuple[str, np.ndarray, float | None]]:
    """(label, frame, scale) for each IMAGE file, then one screenshot of the chosen handset: what ``match`` and
    ``read-text`` both look at (the handset is opened for the one screenshot and closed again)."""
    scale = None
    if args.profile:
        from harness.profiles import load_profile

        scale = load_profile(args.profile).scale
    if not args.images and not handset_named(args):
        raise HarnessError(f"{command}: give IMAGE files, --handset URI, --device NAME or --place NAME")
    for path in args.images:
        yield path, load_rgb(path), scale
    if handset_named(args, lg_place=not args.images):
        with chosen_handset(args) as chosen:
            args.stage(f"connecting to {chosen.uri}")
            opened = open_chosen(chosen, one_shot=True)
            try:
                args.stage(f"taking a screenshot from {chosen.uri}")
                image = opened.handset.screenshot()
                yield (args.device or chosen.place or chosen.require_uri(), image,
                       scale or (opened.profile.scale if opened.profile else None))
            finally:
                opened.close()


def _cmd_match(args: argparse.Namespace) -> int:
    library = screen_library(args.screens)
    found = True
    for label, image, scale in _frames(args, "match"):
        found &= _print(label, image, library, scale, args.json)
    return 0 if found else 1


def add_screens_parser(sub: Any) -> None:
    """Register ``harness screens record`` (a screen definition from a screenshot) on the subparsers."""
    p = sub.add_parser("screens", help="the screen library: record a screen from a screenshot")
    s = p.add_subparsers(dest="screens_command", required=True, metavar="ACTION")
    r = s.add_parser("record", help="write a screen definition from a screenshot and rectangles on it")
    r.add_argument("name", help="screen name (as the emulator names screens, e.g. keep_your_life_in_sync)")
    r.add_argument("--from-image", required=True, metavar="PNG", help="a screenshot of the screen")
    r.add_argument("--anchor", action="append", required=True, metavar="x,y,w,h", help="a crop that identifies the screen")
    r.add_argument("--target", action="append", default=[], metavar="name=x,y,w,h[@dx,dy]",
                   help="a tap target: a crop found on the screen, tapped at its centre (+dx,dy)")
    r.add_argument("--ignore", action="append", default=[], metavar="x,y,w,h", help="a region to ignore (clock, user text)")
    r.add_argument("--screens", metavar="DIR", help="library folder (default: the library shipped with the package)")
    r.add_argument("--replace", action="store_true", help="record over the library's definition of this name")
    r.set_defaults(func=_cmd_record)


def _cmd_record(args: argparse.Namespace) -> int:
    from harness.lab.anchor_texts import annotate_recorded
    from harness.vision.definitions import DEFAULT_LIBRARY, load_definition
    from harness.vision.recording import check_free_name, write_definition

    image = load_rgb(args.from_image, f"--from-image {args.from_image}")
    targets = []
    for spec in args.target:
        name, sep, rest = spec.partition("=")
        if not sep or not name:
            raise HarnessError(f"--target: expected name=x,y,w,h[@dx,dy], got {spec!r}")
        rect, _, offset = rest.partition("@")
        dx, dy = (int(v) for v in offset.split(",")) if offset else (0, 0)
        targets.append((name, _box(rect, f"--target {name}"), (dx, dy), None))
    folder = Path(args.screens) if args.screens else DEFAULT_LIBRARY
    try:
        check_free_name(folder, args.name, args.replace)
        path = write_definition(folder, args.name, image, [_box(a, "--anchor") for a in args.anchor], targets,
                                [_box(g, "--ignore") for g in args.ignore])
        load_definition(path)
        said = annotate_recorded([path])
    except ConfigError as exc:
        raise HarnessError(worded(exc, args.command)) from None
    print(f"wrote {path} ({said})")
    return 0


def add_read_text_parser(sub: Any) -> None:
    """Register ``harness read-text`` (what the screen says in a region, by OCR) on the subparsers."""
    p = sub.add_parser("read-text", help="print what the screen says in a region or at a target (OCR, Tesseract)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="PNG/JPEG screenshots (or rectified camera frames)")
    add_target_options(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--region", metavar="x,y,w,h", help="device pixels of the frame (default: all of it)")
    where.add_argument("--target", metavar="NAME", help="around this target of the recognised screen (its label's region)")
    p.add_argument("--screen", metavar="NAME", help="with --target: the screen the frame shows, when recognition "
                   "cannot tell (default: the recognised one)")
    p.add_argument("--screens", metavar="DIR", help="screen library for --target (default: the shipped one)")
    p.add_argument("--profile", help="device profile, for its scale factor (default: width / 480)")
    p.add_argument("--lang", default="eng", help="Tesseract language(s), e.g. eng, rus, eng+rus (default eng)")
    p.add_argument("--json", action="store_true", help="one JSON object per frame")
    add_timeout_option(p, "reading")
    p.set_defaults(func=bounded(_cmd_read_text))


def _read_one(label: str, image: np.ndarray, args: argparse.Namespace, scale: float | None) -> bool:
    from harness.vision.labels import label_region
    from harness.vision.ocr import read_region

    screen = None
    region = _box(args.region, "--region") if args.region else None
    if args.target:
        library = screen_library(args.screens)
        if args.screen:
            definition = library.definitions.get(args.screen)
            if definition is None:
                raise HarnessError(f"--screen: no screen {args.screen!r} in the library (known: {', '.join(library.names)})")
            scale = scale or image.shape[1] / 480
        else:
            rec, guess = library.classify(image, scale)
            if rec is None or rec.definition is None:
                raise HarnessError(f"--target {args.target}: {label} shows no known screen ({guess.why()}); "
                                   "--screen NAME says which it is")
            definition, scale = rec.definition, rec.scale
        target = next((t for t in definition.targets if t.name == args.target), None)
        if target is None:
            known = ", ".join(t.name for t in definition.targets) or "none"
            raise HarnessError(f"--target: screen {definition.name} has no target {args.target!r} (its targets: {known})")
        screen = definition.name
        region = label_region(definition, target, image.shape[1], image.shape[0], scale)
    try:
        reading = read_region(image, region, scale=scale, lang=args.lang)
    except ValueError as exc:  # a region off the frame
        raise HarnessError(f"--region: {exc}") from None
    if args.json:
        print(json.dumps({"image": label, "screen": screen, "region": reading.region.as_list(), "text": reading.text,
                          "lines": reading.lines}, ensure_ascii=False))
    else:
        print(reading.text if reading.text else f"{label}: nothing read in {reading.region.as_list()}")
    return bool(reading.text)


def _cmd_read_text(args: argparse.Namespace) -> int:
    read = True
    for label, image, scale in _frames(args, "read-text"):
        args.stage("reading the screen (OCR)")
        read &= _read_one(label, image, args, scale)
    return 0 if read else 1
