"""Recording a screen into a library: cutting the crops out of a screenshot and writing NAME.toml beside them,
keeping what a lab wrote by hand in a definition recorded over (``harness screens record``, ``harness.lab``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from harness.errors import ConfigError
from harness.tomlfile import read_toml
from harness.vision.definitions import LAYOUT_SCALE, TARGET_NAME, Box, check_label, check_name


class NameTaken(ConfigError):
    """A screen name the library already has: recording over it must be asked for (``replace``)."""

    def __init__(self, path: str | Path, name: str) -> None:
        self.name = name
        super().__init__(path, "name", f"screen {name!r} is already in the library")


def check_free_name(folder: str | Path, name: str, replace: bool = False) -> None:
    """Before recording ``name`` into a library: a name the library already has is refused (two of one name
    would make recognition a guess), unless ``replace``, and then only in its own NAME.toml file."""
    folder = Path(folder)
    path = folder / f"{name}.toml"
    check_name(path, "name", name)
    for other in sorted(folder.glob("*.toml")):
        try:
            defined = read_toml(other).get("name")
        except ConfigError:
            continue  # a broken file is reported when the library is loaded
        if defined != name:
            continue
        if other.name != path.name:
            raise ConfigError(path, "name", f"screen {name!r} is already defined in {other} (two of one name would "
                              "make recognition a guess)")
        if not replace:
            raise NameTaken(path, name)


@dataclass
class _Kept:
    """What a lab wrote by hand in an existing definition, for a re-recording to keep (scaled to its size)."""

    labels: dict[str, str] = field(default_factory=dict)   # target name -> label
    title: str = ""                                        # the [title] table, as TOML lines
    ignore: list[Box] = field(default_factory=list)        # every [[ignore]] region
    anchors: list[str] = field(default_factory=list)       # [[anchor]] tables whose crop the recorder does not cut
    targets: dict[str, str] = field(default_factory=dict)  # target name -> its [[target]] table


def _kept_on_file(path: Path, width: int, height: int) -> _Kept:
    """What a lab wrote by hand in an existing definition: its targets' labels (by target name), its [title]
    table and its [[ignore]] regions, scaled to a recording ``width`` x ``height`` (one that would not fit is
    dropped), and, recorded at the same size, the anchors it added with crops of its own (not NAME.anchorN.png)
    and its targets (those the recording has are recorded again)."""
    try:
        data = read_toml(path) if path.is_file() else {}
        old = data.get("recorded", {})
        k = width / int(old["width"])
        same = (int(old["width"]), int(old["height"])) == (width, height)
    except (ConfigError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return _Kept()
    kept = _Kept()
    targets = data.get("target", [])
    kept.labels = {t["name"]: t["label"] for t in targets if isinstance(t, dict) and isinstance(t.get("name"), str)
                   and isinstance(t.get("label"), str)} if isinstance(targets, list) else {}

    def scaled(region: Any) -> list[int] | None:
        try:
            box = [round(int(v) * k) for v in region]
        except (TypeError, ValueError):
            return None
        ok = len(box) == 4 and min(box) >= 0 and box[2] > 0 and box[3] > 0
        return box if ok and box[0] + box[2] <= width and box[1] + box[3] <= height else None

    title = data.get("title")
    region = scaled(title.get("region")) if isinstance(title, dict) else None
    if region is not None and isinstance(title.get("text"), str):  # type: ignore[union-attr]
        kept.title = f"\n[title]\ntext = {json.dumps(title['text'], ensure_ascii=False)}\nregion = {json.dumps(region)}"  # type: ignore[index]
    for g in data.get("ignore", []) if isinstance(data.get("ignore"), list) else []:
        box = scaled(g.get("region")) if isinstance(g, dict) else None
        if box is not None:
            kept.ignore.append(Box(*box))
    own = re.compile(re.escape(str(data.get("name", path.stem))) + r"\.anchor\d+\.png")
    for a in data.get("anchor", []) if same and isinstance(data.get("anchor"), list) else []:
        if isinstance(a, dict) and isinstance(a.get("image"), str) and not own.fullmatch(a["image"]) \
                and scaled(a.get("region")) is not None:
            kept.anchors.append("\n".join(["", "[[anchor]]", f"image = {json.dumps(a['image'])}",
                                            f"region = {json.dumps(scaled(a['region']))}"]
                                           + ([f"align = {json.dumps(a['align'])}"] if isinstance(a.get("align"), str) else [])
                                           + (["structure = true"] if a.get("structure") is True else [])
                                           + (["icon = true"] if a.get("icon") is True else [])))
    for t in targets if same and isinstance(targets, list) else []:
        if isinstance(t, dict) and isinstance(t.get("name"), str) and all(isinstance(v, (str, list)) for v in t.values()):
            kept.targets[t["name"]] = "\n".join(["", "[[target]]"] + [f"{key} = {json.dumps(v, ensure_ascii=False)}"
                                                                    for key, v in t.items()])
    return kept


def layout_picture(screenshot: np.ndarray) -> np.ndarray:
    """The layout picture of a screenshot: grey, LAYOUT_SCALE pixels per view pixel (480 view pixels across)."""
    h, w = screenshot.shape[:2]
    k = LAYOUT_SCALE * 480 / w
    small = np.asarray(Image.fromarray(np.ascontiguousarray(screenshot[:, :, :3])).convert("L").resize(
        (round(w * k), round(h * k)), Image.Resampling.BOX))
    return small


def write_definition(folder: str | Path, definition_name: str, screenshot: np.ndarray,
                     anchors: list[Box | tuple[Box, str]] | list[Box | tuple[Box, str] | tuple[Box, str, bool]],
                     targets: list[tuple[str, Box, tuple[int, int], Box | None]] | list[tuple[str, Box, tuple[int, int], Box | None, str]],
                     ignore: list[Box], profile: str = "", theme: str = "", description: str = "") -> Path:
    """Cut the crops out of ``screenshot`` and write NAME.toml beside them (what ``harness screens record`` does).

    A target is ``(name, region, offset, search)`` or with a fifth item, its
    label. Recording over a definition keeps what a lab wrote in its file by
    hand (re-recording must not lose it): the labels of targets of the same
    name, the [title], every [[ignore]] region beside those recorded now,
    anchors whose crop is not one the recorder cuts (NAME.anchorN.png), and
    targets the recording does not have (one recorded from a list scrolled).
    """
    folder = Path(folder)
    kept = _kept_on_file(folder / f"{definition_name}.toml", screenshot.shape[1], screenshot.shape[0])
    check_name(folder / f"{definition_name}.toml", "name", definition_name)  # it becomes a file name: no escape
    names = [t[0] for t in targets]
    for i, tname in enumerate(names):
        check_name(folder / f"{definition_name}.toml", f"target[{i}].name", tname, TARGET_NAME)
        if tname in names[:i]:
            raise ConfigError(folder / f"{definition_name}.toml", f"target[{i}].name",
                              f"duplicate target {tname!r} (also target[{names.index(tname)}])")
    folder.mkdir(parents=True, exist_ok=True)
    height, width = screenshot.shape[:2]
    lines = [f"name = {json.dumps(definition_name)}"]
    if description:
        lines.append(f"description = {json.dumps(description)}")
    recorded = f"width = {width}, height = {height}" + (f", profile = {json.dumps(profile)}" if profile else "") + \
        (f", theme = {json.dumps(theme)}" if theme else "")
    lines.append(f"recorded = {{ {recorded} }}")

    def cut(box: Box, label: str) -> str:
        if box.x < 0 or box.y < 0 or box.x + box.w > width or box.y + box.h > height or box.w <= 0 or box.h <= 0:
            raise ConfigError(folder / f"{definition_name}.toml", label, f"region {box.as_list()} is off the {width}x{height} image")
        name = f"{definition_name}.{label}.png"
        Image.fromarray(np.ascontiguousarray(screenshot[box.y:box.y + box.h, box.x:box.x + box.w, :3])).save(folder / name)
        return name

    for i, anchor in enumerate(anchors):
        box, align, structure = (*anchor, False)[:3] if isinstance(anchor, tuple) else (anchor, "", False)
        lines += ["", "[[anchor]]", f'image = "{cut(box, f"anchor{i}")}"', f"region = {box.as_list()}"]
        if align:
            lines.append(f'align = "{align}"')
        if structure:
            lines.append("structure = true")
    lines += kept.anchors
    for target in targets:
        name, box, offset, search = target[:4]
        label = str(target[4]) if len(target) > 4 else kept.labels.get(name, "")  # type: ignore[misc]
        safe = name.replace(":", "_")
        lines += ["", "[[target]]", f"name = {json.dumps(name)}"]
        if label:
            lines.append(f"label = {json.dumps(check_label(folder / f'{definition_name}.toml', 'label', label), ensure_ascii=False)}")
        lines += [f'image = "{cut(box, f"target-{safe}")}"', f"region = {box.as_list()}"]
        if offset != (0, 0):
            lines.append(f"offset = [{offset[0]}, {offset[1]}]")
        if search is not None:
            lines.append(f"search = {search.as_list()}")
    lines += [table for name, table in kept.targets.items() if name not in names]  # added by hand (a list scrolled)
    for box in dict.fromkeys([*ignore, *kept.ignore]):  # the regions recorded now and those the file had
        lines += ["", "[[ignore]]", f"region = {box.as_list()}"]
    layout_name = f"{definition_name}.layout.png"
    Image.fromarray(layout_picture(screenshot)).save(folder / layout_name)
    at = next(i for i, line in enumerate(lines) if line.startswith("recorded = ")) + 1
    lines.insert(at, f'layout = "{layout_name}"')
    if kept.title:
        lines.append(kept.title)
    path = folder / f"{definition_name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
