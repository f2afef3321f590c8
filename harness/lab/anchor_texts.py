"""Record the words of every text anchor of a screen library: ``text = "..."`` in each [[anchor]] of its TOML files.

The words come from the library's own crops, read by OCR (``harness.vision.anchor_text.crop_text``): what the
recorded screen shows, not typed by hand per font. An anchor whose crop shows no words for certain (an icon, a
list's rows marked ``structure``) gets none. Matching uses them under covers, where another font draws an anchor
too differently to match by its pixels (``harness.vision.anchor_text``).

Run: python -m harness.lab.anchor_texts [FOLDER] (default: the shipped library); ``harness screens record`` and
``python -m harness.lab.record_screens`` run it on what they record. Needs the ``ocr`` extra and Tesseract.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from harness.vision.anchor_text import crop_text
from harness.vision.definitions import DEFAULT_LIBRARY, load_definition

_TABLE = re.compile(r"^\[\[?([A-Za-z_.]+)\]\]?\s*$")


def annotate(path: str | Path) -> list[str]:
    """Write the text of each anchor of the definition at ``path`` (replacing what it had); the texts, in order."""
    path = Path(path)
    d = load_definition(path)
    texts = ["" if a.structure else crop_text(a.image, d.scale) for a in d.anchors]
    out: list[str] = []
    table, n = "", -1
    for line in path.read_text(encoding="utf-8").splitlines():
        if (m := _TABLE.match(line)) is not None:
            table = m.group(1)
            n += table == "anchor"
        if table == "anchor" and line.startswith("text = "):
            continue  # written again below, from this recording's crop
        out.append(line)
        if table == "anchor" and line.startswith("region = ") and texts[n]:
            out.append(f"text = {json.dumps(texts[n], ensure_ascii=False)}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return texts


def annotate_recorded(paths: list[Path]) -> str:
    """Write the anchors' words of definitions just recorded; what it did, in a few words (without OCR installed
    the definitions stay as recorded: their anchors are matched by their pixels only)."""
    from harness.vision.ocr import OcrUnavailable

    try:
        said = [t for p in paths for t in annotate(p)]
    except OcrUnavailable as exc:
        return f"anchors recorded without their words ({exc})"
    return f"{sum(bool(t) for t in said)} of {len(said)} anchors with their words"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default=str(DEFAULT_LIBRARY))
    folder = Path(ap.parse_args().folder)
    files = sorted(folder.glob("*.toml"))
    said = [t for f in files for t in annotate(f)]
    print(f"{folder}: {sum(bool(t) for t in said)} of {len(said)} anchors of {len(files)} screens have words")


if __name__ == "__main__":
    main()
