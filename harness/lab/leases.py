"""Leases: a run takes a handset exclusively before it drives it.

Each handset has a lock file in the lease directory; a lease is an
``fcntl.flock`` on it. The kernel drops a flock when its holder dies, however
it dies (SIGKILL included), so a killed run frees its leases and a lock file
left behind never blocks anybody: only a live holder does. The holder writes
who it is (pid, host, command, run id, since when) into the file so a waiting
run can say whom it waits for.

The lease directory is ``$HARNESS_LEASE_DIR``, else
``$XDG_RUNTIME_DIR/handset-harness/leases``, else
``/tmp/handset-harness-leases-$UID``; every run on one host must use the same one.
Several users of one rack host share a folder through a group: ``chmod 2770`` it,
``chgrp`` it to the lab's group, and every lock file made in it is group-writable
and of that group, whatever each user's umask.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from harness.errors import HarnessTimeout
from harness.lab.inventory import HandsetEntry, Inventory
from harness.lab.lockfiles import LeaseError, lease_dir, open_lock_file

__all__ = ["Holder", "Lease", "LeaseBusy", "LeaseError", "LeaseTimeout", "NoMatchingHandset", "acquire", "holder_of",
           "lease", "lease_any", "lease_dir", "lease_key", "lease_table", "lock_path"]

log = logging.getLogger(__name__)

#: How often a waiting run tries again.
POLL = 0.05
#: A fail-fast take retries this long, so a momentary probe (``holder_of``) is not mistaken for a holder.
PROBE_GRACE = 0.3


class LeaseBusy(LeaseError):
    """Fail-fast take of a handset someone else holds; names the holder."""

    def __init__(self, name: str, holder: "Holder | None", detail: str | None = None) -> None:
        self.name = name
        self.holder = holder
        super().__init__(detail or f"{name} is leased by {holder.describe() if holder else 'another run'}")


class LeaseTimeout(LeaseError, HarnessTimeout):
    """Waited for a handset (or any of several) and it did not come free in time."""


class NoMatchingHandset(LeaseError, LookupError):
    """No handset of the inventory has what was asked: a test can skip with this reason."""


def _command_name() -> str:
    if "pytest" in sys.modules or "_pytest" in sys.modules:
        return "pytest"
    argv0 = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if argv0 in ("__main__.py", "-c", ""):
        return Path(sys.executable).name
    return argv0


def default_run_id() -> str | None:
    """The run this process belongs to: ``$HARNESS_RUN_ID``, or pytest-xdist's run uid plus worker."""
    if os.environ.get("HARNESS_RUN_ID"):
        return os.environ["HARNESS_RUN_ID"]
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if uid:
        return f"{uid[:12]}/{worker}" if worker else uid[:12]
    return None


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as its lock file says."""

    pid: int
    host: str
    command: str
    since: float
    run_id: str | None = None

    @classmethod
    def me(cls, run_id: str | None = None, command: str | None = None) -> "Holder":
        return cls(os.getpid(), socket.gethostname(), command or _command_name(), time.time(), run_id or default_run_id())

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "host": self.host, "command": self.command, "since": self.since,
                           "run_id": self.run_id})

    @classmethod
    def from_json(cls, text: str) -> "Holder | None":
        try:
            d = json.loads(text)
            return cls(int(d["pid"]), str(d["host"]), str(d["command"]), float(d["since"]), d.get("run_id"))
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        """``pid 1234 (pytest) since 21:40:03``, with the host when it is not this one, and the run."""
        host = "" if self.host == socket.gethostname() else f" on {self.host}"
        run = f", run {self.run_id}" if self.run_id else ""
        return f"pid {self.pid}{host} ({self.command}{run}) since {time.strftime('%H:%M:%S', time.localtime(self.since))}"

    def as_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "command": self.command, "since": self.since, "run_id": self.run_id}


def lock_path(key: str, directory: Path | None = None) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in key)
    return (directory or lease_dir()) / f"{safe}.lock"


def lease_key(entry: HandsetEntry | str, inventory: Inventory | None = None) -> str:
    """The lock name of a handset: its name, inside its rack's name when the inventory has one."""
    name = entry if isinstance(entry, str) else entry.name
    return f"{inventory.rack}--{name}" if inventory is not None and inventory.rack else name


def _read_holder(path: Path) -> Holder | None:
    try:
        return Holder.from_json(path.read_text(encoding="utf-8"))
    except OSError:
        return None


class Lease:
    """An exclusive hold on one handset until ``release()`` (or the process's death)."""

    def __init__(self, key: str, path: Path, fd: int, holder: Holder, entry: HandsetEntry | None = None) -> None:
        self.key = key
        self.path = path
        self.holder = holder
        self.entry = entry
        self._fd: int | None = fd

    @property
    def name(self) -> str:
        return self.entry.name if self.entry is not None else self.key

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let the handset go; the lock file stays (only a live flock means anything)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        log.info("released %s", self.name)

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten lease still frees when collected
        try:
            self.release()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"Lease({self.name!r}, {'held' if self.held else 'released'})"


def _try_lock(key: str, directory: Path | None, holder: Holder, entry: HandsetEntry | None) -> Lease | None:
    path = lock_path(key, directory)
    fd = open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    holder = replace(holder, since=time.time())
    data = holder.to_json().encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    return Lease(key, path, fd, holder, entry)


def holder_of(key: str, directory: Path | None = None) -> Holder | None:
    """Who holds this lease right now (None when it is free), for display.

    Probes with a shared lock for an instant; takers in fail-fast mode allow
    for that (``PROBE_GRACE``).
    """
    path = lock_path(key, directory)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path) or Holder(0, "?", "unknown holder", time.time())
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _default_notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def acquire(key: str, *, wait: bool = True, timeout: float = 600.0, directory: Path | None = None,
            run_id: str | None = None, command: str | None = None, entry: HandsetEntry | None = None,
            notice: Callable[[str], None] | None = _default_notice) -> Lease:
    """Lease one handset by key.

    ``wait=False`` fails fast with ``LeaseBusy`` naming the holder; ``wait=True``
    says once (and again when the holder changes) whom it waits for through
    ``notice``, and gives up after ``timeout`` seconds with ``LeaseTimeout``.
    """
    holder = Holder.me(run_id, command)
    display = entry.name if entry is not None else key
    start = time.monotonic()
    deadline = start + (timeout if wait else PROBE_GRACE)
    last_seen: Holder | None = None
    told = False
    while True:
        lease = _try_lock(key, directory, holder, entry)
        if lease is not None:
            if told and notice:
                notice(f"leased {display} after waiting {time.monotonic() - start:.1f}s")
            log.info("leased %s (%s)", display, lease.path)
            return lease
        seen = _read_holder(lock_path(key, directory))
        if wait and notice and (not told or (seen and last_seen and seen != last_seen)):
            notice(f"waiting for {display}, leased by {seen.describe() if seen else 'another run'}"
                   f" (up to {timeout:g}s)")
            told = True
        last_seen = seen or last_seen
        if time.monotonic() >= deadline:
            if not wait:
                raise LeaseBusy(display, seen)
            raise LeaseTimeout(f"a lease on {display}", f"still leased by {seen.describe() if seen else 'another run'}",
                               timeout)
        time.sleep(POLL)


def lease(inventory: Inventory, name: str, **kwargs: Any) -> Lease:
    """Lease the inventory's handset ``name`` (see ``acquire`` for wait/timeout)."""
    entry = inventory.get(name)
    return acquire(lease_key(entry, inventory), entry=entry, **kwargs)


def _requirement(profile: str | None, os_version: str | None, tags: Iterable[str]) -> str:
    parts = []
    if profile:
        parts.append(f"profile {profile}")
    if os_version:
        parts.append(f"OS {os_version}")
    tags = list(tags)
    if tags:
        parts.append(f"tags {', '.join(tags)}")
    return " and ".join(parts) or "any profile"


def lease_any(inventory: Inventory, profile: str | None = None, os_version: str | None = None, *,
              tags: Iterable[str] = (), exclude: Iterable[str] = (), wait: bool = True, timeout: float = 600.0,
              directory: Path | None = None, run_id: str | None = None, command: str | None = None,
              notice: Callable[[str], None] | None = _default_notice) -> Lease:
    """Lease a free handset of the inventory that has this profile / OS version / tags.

    Raises ``NoMatchingHandset`` (with a reason fit for ``pytest.skip``) when no
    handset of the inventory could ever match, ``LeaseBusy`` (``wait=False``)
    or ``LeaseTimeout`` when all that match stay leased. Each pytest-xdist
    worker calling this gets a different handset.
    """
    tags = tuple(tags)
    excluded = set(exclude)
    candidates = [e for e in inventory.matching(profile, os_version, tags) if e.name not in excluded]
    if not candidates:
        have = sorted({f"{e.profile} (OS {inventory.os_version_of(e)})" for e in inventory.handsets})
        raise NoMatchingHandset(f"no handset in {inventory.path} has {_requirement(profile, os_version, tags)}"
                                f" (it has: {', '.join(have) or 'no handsets'})")
    holder = Holder.me(run_id, command)
    start = time.monotonic()
    deadline = start + (timeout if wait else PROBE_GRACE)
    told = False
    while True:
        for entry in candidates:
            got = _try_lock(lease_key(entry, inventory), directory, holder, entry)
            if got is not None:
                if told and notice:
                    notice(f"leased {entry.name} after waiting {time.monotonic() - start:.1f}s")
                log.info("leased %s", entry.name)
                return got
        busy = {e.name: _read_holder(lock_path(lease_key(e, inventory), directory)) for e in candidates}
        shown = "; ".join(f"{n} by {h.describe() if h else 'another run'}" for n, h in busy.items())
        if wait and notice and not told:
            notice(f"waiting for a handset with {_requirement(profile, os_version, tags)}: all leased ({shown})"
                   f" (up to {timeout:g}s)")
            told = True
        if time.monotonic() >= deadline:
            what = f"a free handset with {_requirement(profile, os_version, tags)}"
            if not wait:
                if len(busy) == 1:
                    raise LeaseBusy(*next(iter(busy.items())))
                raise LeaseBusy(", ".join(busy), None, f"every handset with {_requirement(profile, os_version, tags)} is leased: {shown}")
            raise LeaseTimeout(what, f"all leased: {shown}", timeout)
        time.sleep(POLL)


def lease_table(inventory: Inventory, directory: Path | None = None) -> dict[str, Holder | None]:
    """Each handset's current holder (None: free), for ``harness devices``."""
    return {e.name: holder_of(lease_key(e, inventory), directory) for e in inventory.handsets}
