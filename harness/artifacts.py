"""One folder per run that keeps everything: screenshots, step log, serial logs, traces.

Everything is written as it happens (append and flush), so a run that
crashes still leaves its evidence behind. Text passes through secret
redaction on the way to disk.

Nothing a run writes lands in another run's files: a run's folder is
created exclusively (``name``, else ``name.2``, ``name.3`` ...), and every
file in it is created exclusively too (``claim``), so a re-run, a second
run in the same second or eleven parametrised tests with long ids each get
their own folder and never append to or overwrite an old one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from harness.errors import HarnessError
from harness.secret_frames import veiled
from harness.secrets import redact

#: Longest folder or file name the harness makes (well under NAME_MAX, readable in a listing).
NAME_LIMIT = 100
#: How many numbered siblings ``name.2``, ``name.3`` ... are tried before giving up.
MAX_SIBLINGS = 10_000


class ArtifactsError(HarnessError):
    """The artifacts folder or one of its files cannot be made; names the path and why."""


def _slug(text: str, limit: int = 80) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("_.")[:limit].strip("_.") or "run"


def folder_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A readable file-system name for ``name``; one too long keeps its start and its end
    (a test's parameter ids) and gets a short hash of the whole, so two long names never meet."""
    slug = _slug(name, 10 * limit)
    if len(slug) <= limit:
        return slug
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    keep = limit - len(digest) - 2
    head = keep // 3
    return f"{slug[:head]}~{slug[len(slug) - (keep - head):]}~{digest}"


def _numbered(name: str, n: int) -> str:
    if n == 1:
        return name
    stem, dot, suffix = name.partition(".") if "." in name[1:] else (name, "", "")
    return f"{stem}.{n}{dot}{suffix}" if dot else f"{name}.{n}"


def new_folder(root: str | Path, name: str) -> Path:
    """Create ``root/name`` exclusively (``name.2`` ... when taken) and return it; ArtifactsError when impossible."""
    base = Path(root)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArtifactsError(f"cannot create the artifacts folder {base}: {exc.strerror or exc}") from None
    for n in range(1, MAX_SIBLINGS):
        path = base / (name if n == 1 else f"{name}.{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise ArtifactsError(f"cannot create the artifacts folder {path}: {exc.strerror or exc}") from None
    raise ArtifactsError(f"{base}: {MAX_SIBLINGS} folders named {name} already; clear some out")


def new_file(directory: str | Path, name: str) -> Path:
    """Create ``directory/name`` exclusively (``stem.2.ext`` ... when taken) and return its path."""
    directory = Path(directory)
    for n in range(1, MAX_SIBLINGS):
        path = directory / _numbered(name, n)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ArtifactsError(f"cannot create {path}: {exc.strerror or errno.errorcode.get(exc.errno or 0, exc)}") from None
        os.close(fd)
        return path
    raise ArtifactsError(f"{directory}: {MAX_SIBLINGS} files named {name} already")


#: The run folders this process made (``new_run_folder``), so an interrupted command can say what it kept.
_RUN_FOLDERS: list[Path] = []


def new_run_folder(root: str | Path | None, label: str) -> Path:
    """A new folder ``root/label-YYYYmmdd-HHMMSS`` (``.2`` ... for a second run in the same second) for one CLI run."""
    path = new_folder(root or "artifacts", f"{label}-{time.strftime('%Y%m%d-%H%M%S')}")
    _RUN_FOLDERS.append(path)
    return path


def run_folders() -> list[Path]:
    """The run folders this process made, oldest first."""
    return list(_RUN_FOLDERS)


def kept(folder: str | Path) -> str:
    """What a folder holds, in a few words: ``artifacts/demo-... (4 screenshots, steps.jsonl, modem.log)``."""
    folder = Path(folder)
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.stat().st_size > 0)
    except OSError:
        return str(folder)
    shots = [p for p in files if p.suffix == ".png"]
    others = [p.name for p in files if p.suffix != ".png"]
    parts = ([f"{len(shots)} screenshot{'s' if len(shots) != 1 else ''}"] if shots else []) + others
    return f"{folder} ({', '.join(parts) or 'nothing yet'})"


class Artifacts:
    """The artifacts folder of one run (or of one test): a new folder, never one an earlier run wrote."""

    def __init__(self, root: str | Path, name: str | None = None) -> None:
        if name:
            self.dir = new_folder(root, folder_name(name))
        else:  # a folder the caller made for this run (files in it are still created exclusively)
            self.dir = Path(root)
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ArtifactsError(f"cannot create the artifacts folder {self.dir}: {exc.strerror or exc}") from None
        self._lock = threading.Lock()
        self._counter = 0
        self._claimed: dict[str, Path] = {}
        self.last_screenshot: Path | None = None

    def claim(self, name: str) -> Path:
        """A new, empty file in the folder for some other part to write (console.log, modem.log).

        Created here exclusively the first time a name is claimed (``console.2.log`` if
        something else made ``console.log``), so its writer never appends to a file it did
        not start; claiming the same name again gives the same file.
        """
        with self._lock:
            if name not in self._claimed:
                self._claimed[name] = new_file(self.dir, name)
            return self._claimed[name]

    def path(self, name: str) -> Path:
        """Where the file ``name`` of this run is (the claimed one, if claimed); creates nothing."""
        with self._lock:
            return self._claimed.get(name, self.dir / name)

    def child(self, name: str) -> "Artifacts":
        return Artifacts(self.dir, name)

    def save_screenshot(self, image: np.ndarray, label: str) -> Path:
        """Save an RGB array as the next numbered PNG (veiled where a secret shows: ``harness.secret_frames``);
        returns its path."""
        image = veiled(image, self.dir)
        with self._lock:
            self._counter += 1
            path = new_file(self.dir, f"{self._counter:03d}-{_slug(label)}.png")
        Image.fromarray(np.ascontiguousarray(image[:, :, :3])).save(path, format="PNG", compress_level=1)
        self.last_screenshot = path
        return path

    def record(self, kind: str, **fields: Any) -> None:
        """Append one JSON line to steps.jsonl (flushed at once, redacted)."""
        entry = {"t": round(time.time(), 3), "kind": kind, **fields}
        self.append_text("steps.jsonl", redact(json.dumps(entry, default=str)) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """A new file with this text (``name.2`` when the name is taken)."""
        with self._lock:
            path = new_file(self.dir, name)
        path.write_text(redact(text), encoding="utf-8")
        return path

    def append_text(self, name: str, text: str) -> None:
        """Append to this run's own file ``name`` (created by this run on first use)."""
        path = self.claim(name)
        with self._lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(redact(text))
            fh.flush()

    def kept(self) -> str:
        """What the folder holds, in a few words (for "interrupted; kept ..." messages)."""
        return kept(self.dir)
