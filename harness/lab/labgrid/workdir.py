"""The working folder of one ``harness lab export`` (ser2net's and the exporter's configuration and logs).

An export killed with -9 cannot remove its folder, so each folder holds a
``lock`` file its export keeps ``flock``-ed while it lives: the kernel drops the
lock when the process dies, however it dies. The next export started on the
host (any exporter name) removes every ``lg-export-*`` folder of this user
whose lock nobody holds. The lock is taken on a file that is only then renamed
to ``lock``, so a folder being made is never seen unlocked; a folder without a
``lock`` is not ours to judge and is left alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

PREFIX = "lg-export-"
LOCK = "lock"


class ExportFolder:
    """A fresh ``lg-export-NAME-*`` folder under the temporary directory, locked until ``remove()``."""

    def __init__(self, name: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{name}-"))
        pending = self.path / f".{LOCK}.new"
        self._fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.write(self._fd, f"{os.getpid()}\n".encode())
        os.rename(pending, self.path / LOCK)  # visible under its name only once locked

    def remove(self) -> None:
        """Remove the folder and let go of its lock (idempotent)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def remove_stale(say: Callable[[str], None], root: str | None = None) -> list[Path]:
    """Remove the folders of exports that ended without removing them (their lock is free); the ones removed."""
    base = Path(root or tempfile.gettempdir())
    removed = []
    for folder in sorted(base.glob(f"{PREFIX}*")):
        lock = folder / LOCK
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # no lock file: being made, or not an export's folder
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its export is alive
        try:
            pid = os.read(fd, 32).decode(errors="replace").strip()
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
        removed.append(folder)
        say(f"removed {folder}, left by an export (pid {pid or '?'}) that ended without removing it")
    return removed
