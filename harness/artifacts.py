"""One folder per run that keeps everything: screenshots, step log, serial logs, traces.

Everything is written as it happens (append and flush), so a run that
crashes still leaves its evidence behind. Text passes through secret
redaction on the way to disk.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from harness.secrets import redact


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80] or "run"


class Artifacts:
    """The artifacts folder of one run (or of one test)."""

    def __init__(self, root: str | Path, name: str | None = None) -> None:
        base = Path(root)
        self.dir = base / _slug(name) if name else base
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._counter = 0
        self.last_screenshot: Path | None = None

    def path(self, name: str) -> Path:
        """A path inside the folder for a file some other part writes (console.log, adb.trace)."""
        return self.dir / name

    def child(self, name: str) -> "Artifacts":
        return Artifacts(self.dir, name)

    def save_screenshot(self, image: np.ndarray, label: str) -> Path:
        """Save an RGB array as the next numbered PNG; returns its path."""
        with self._lock:
            self._counter += 1
            path = self.dir / f"{self._counter:03d}-{_slug(label)}.png"
        Image.fromarray(np.ascontiguousarray(image[:, :, :3])).save(path, compress_level=1)
        self.last_screenshot = path
        return path

    def record(self, kind: str, **fields: Any) -> None:
        """Append one JSON line to steps.jsonl (flushed at once, redacted)."""
        entry = {"t": round(time.time(), 3), "kind": kind, **fields}
        line = redact(json.dumps(entry, default=str))
        with self._lock, open(self.dir / "steps.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()

    def write_text(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(redact(text), encoding="utf-8")
        return path

    def append_text(self, name: str, text: str) -> None:
        with self._lock, open(self.dir / name, "a", encoding="utf-8") as fh:
            fh.write(redact(text))
            fh.flush()
