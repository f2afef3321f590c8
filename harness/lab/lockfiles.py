"""Lock files of leases on disk: the lease folder, and files every user of a shared folder can lock.

Several users of one rack host share a lease folder through a group (``chmod 2770``,
``chgrp lab``): every file and folder made here gets the folder's bits whatever the
user's umask, and the kernel gives it the folder's group (setgid).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


class LeaseError(HarnessError):
    """Base of lease errors."""


def lease_dir() -> Path:
    """Where lock files live (see leases.py): ``$HARNESS_LEASE_DIR`` (shared like its setgid parent), else private."""
    explicit = os.environ.get("HARNESS_LEASE_DIR")
    if explicit:  # may be shared by a lab group: made inside a setgid folder, it gets that folder's bits
        path = Path(explicit)
        mode = 0o777
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "handset-harness" / "leases"
        mode = 0o700
    else:
        path = Path(f"/tmp/handset-harness-leases-{os.getuid()}")
        mode = 0o700
    try:
        path.mkdir(parents=True, mode=mode)
    except FileExistsError:
        return path
    except OSError as exc:
        raise LeaseError(f"cannot create the lease directory {path}: {exc.strerror or exc} (set HARNESS_LEASE_DIR)") from None
    if explicit:
        _share_like_parent(path)
    return path


def _share_like_parent(path: Path) -> None:
    """A lease dir made inside a setgid (group-shared) folder is shared the same way, whatever the umask."""
    try:
        parent = os.stat(path.parent).st_mode
        if parent & 0o2000:
            os.chmod(path, parent & 0o2777)
    except OSError:
        pass


def open_lock_file(path: Path) -> int:
    """Open (creating if need be) a lock file that everyone who may use the lease folder can lock too.

    A new file gets the folder's read/write bits whatever the umask (a folder shared by a lab
    group, ``chmod 2770``, gives group-writable lock files; a private one, private files); the
    group comes from the folder when it is setgid (the kernel's rule, left alone here).
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LeaseError(f"cannot create the lock file {path}: {exc.strerror or exc}"
                         f"{_access_hint(path.parent)}") from None
    else:
        try:
            os.fchmod(fd, os.stat(path.parent).st_mode & 0o666)
        except OSError:
            pass
        return fd
    try:
        return os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise LeaseError(f"cannot open the lock file {path}: {exc.strerror or exc}{_access_hint(path)}") from None


def _access_hint(path: Path) -> str:
    """Whose file it is and its mode, for a permission error in a shared lease folder."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    import grp
    import pwd

    def name(getter: Any, ident: int) -> str:
        try:
            return str(getter(ident)[0])
        except KeyError:
            return str(ident)
    return (f" (owner {name(pwd.getpwuid, st.st_uid)}, group {name(grp.getgrgid, st.st_gid)}, mode {st.st_mode & 0o7777:04o};"
            f" a lease folder shared by a group needs chmod 2770 and that group)")
