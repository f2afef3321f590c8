"""The per-handset file system that ADB sync pushes to and pulls from."""

from __future__ import annotations

import posixpath
import stat as stat_mod
import threading
import time
from dataclasses import dataclass

DIR_MODE = stat_mod.S_IFDIR | 0o775
FILE_MODE = stat_mod.S_IFREG | 0o644


@dataclass(frozen=True)
class FileStat:
    mode: int
    size: int
    mtime: int

    @property
    def is_dir(self) -> bool:
        return stat_mod.S_ISDIR(self.mode)


class FileSystem:
    """A small in-memory POSIX-like tree: directories, files, modes, mtimes."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._files: dict[str, tuple[bytes, int, int]] = {}
        self._dirs: dict[str, tuple[int, int]] = {"/": (DIR_MODE, int(time.time()))}

    @staticmethod
    def norm(path: str) -> str:
        return posixpath.normpath("/" + path.lstrip("/")) if path else "/"

    def mkdirs(self, path: str) -> None:
        path = self.norm(path)
        with self._lock:
            if path in self._files:
                raise NotADirectoryError(path)
            parts = [p for p in path.split("/") if p]
            cur = ""
            for part in parts:
                cur += "/" + part
                if cur in self._files:
                    raise NotADirectoryError(cur)
                self._dirs.setdefault(cur, (DIR_MODE, int(time.time())))

    def write(self, path: str, data: bytes, mode: int = FILE_MODE, mtime: int | None = None) -> None:
        path = self.norm(path)
        with self._lock:
            if path in self._dirs:
                raise IsADirectoryError(path)
            self.mkdirs(posixpath.dirname(path))
            if not stat_mod.S_ISREG(mode):
                mode = stat_mod.S_IFREG | (mode & 0o7777)
            self._files[path] = (bytes(data), mode, int(mtime if mtime is not None else time.time()))

    def read(self, path: str) -> bytes:
        path = self.norm(path)
        with self._lock:
            if path in self._dirs:
                raise IsADirectoryError(path)
            if path not in self._files:
                raise FileNotFoundError(path)
            return self._files[path][0]

    def stat(self, path: str) -> FileStat | None:
        path = self.norm(path)
        with self._lock:
            if path in self._files:
                data, mode, mtime = self._files[path]
                return FileStat(mode, len(data), mtime)
            if path in self._dirs:
                mode, mtime = self._dirs[path]
                return FileStat(mode, 4096, mtime)
            return None

    def listdir(self, path: str) -> list[tuple[str, FileStat]]:
        path = self.norm(path)
        with self._lock:
            if path not in self._dirs:
                raise NotADirectoryError(path) if path in self._files else FileNotFoundError(path)
            prefix = path.rstrip("/") + "/"
            names = {p[len(prefix):].split("/", 1)[0] for p in list(self._files) + list(self._dirs)
                     if p.startswith(prefix) and p != path}
            return [(n, st) for n in sorted(names) if (st := self.stat(prefix + n)) is not None]

    def remove(self, path: str) -> None:
        path = self.norm(path)
        with self._lock:
            if path in self._files:
                del self._files[path]
            elif path in self._dirs and path != "/":
                prefix = path + "/"
                for p in [p for p in self._files if p.startswith(prefix)]:
                    del self._files[p]
                for p in [p for p in self._dirs if p == path or p.startswith(prefix)]:
                    del self._dirs[p]
            else:
                raise FileNotFoundError(path)

    def files_under(self, path: str) -> dict[str, bytes]:
        """Every file below ``path`` (for backups)."""
        prefix = self.norm(path).rstrip("/") + "/"
        with self._lock:
            return {p: d for p, (d, _, _) in self._files.items() if p.startswith(prefix)}
