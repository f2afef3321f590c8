"""Runs Dovecot for ``harness.lab.mailserver`` and stops it when the process that asked is gone.

Started as ``python -m harness.lab.mailserver_keeper BINARY CONFIG UID:GID FD...`` in the server's folder, with the
listening sockets inherited (the FDs) and a pipe on stdin. It hands the
sockets to Dovecot the way systemd's socket activation does (``LISTEN_FDS``,
``LISTEN_PID``; Dovecot then listens on them instead of binding a port it
would have to be told in advance), and waits. When stdin reaches end-of-file
(the parent exited, however it died, from whichever thread it started us),
or on SIGTERM/SIGINT, it stops Dovecot, removes the server's folder (its
working directory) and exits; when Dovecot ends by itself, the folder stays
for the parent to quote its log. Dovecot itself gets the
kernel's parent-death signal, so it goes with this keeper too.

Run by root, the keeper stays root and Dovecot alone becomes UID:GID (the
forked child drops its groups, group and user before the exec): Dovecot
refuses mail owned by uid 0, and an unprivileged user may not be able to run
root's Python at all.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import select
import shutil
import signal
import sys
import time

SD_LISTEN_FDS_START = 3
PR_SET_PDEATHSIG = 1
#: Seconds Dovecot gets to stop on SIGTERM before it is killed.
STOP_GRACE = 10.0


def place_listen_fds(fds: list[int]) -> None:
    """Move the descriptors ``fds`` to 3, 4, ... in order, inheritable, and close the originals elsewhere.

    Each is first copied above the whole target range, so that moving one to 3+i can neither close another
    nor be a dup2 onto itself (which would keep the copy's close-on-exec flag, and the close of the copy would
    then drop the socket: Dovecot would bind the port itself, and fail while the keeper still holds it).
    """
    end = SD_LISTEN_FDS_START + len(fds)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, max(end, 3)) for fd in fds]
    for i, fd in enumerate(high):
        os.dup2(fd, SD_LISTEN_FDS_START + i)  # dup2 leaves the new descriptor inheritable
    for fd in high + [fd for fd in fds if fd >= end]:
        os.close(fd)


def _exec_dovecot(binary: str, config: str, uid: int, gid: int, fds: list[int]) -> None:
    """In the forked child: the sockets at 3, 4, ..., its own user, the activation variables, then Dovecot."""
    place_listen_fds(fds)
    if os.geteuid() == 0 and uid != 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)  # before PR_SET_PDEATHSIG: a change of user clears it
    os.environ["LISTEN_FDS"] = str(len(fds))
    os.environ["LISTEN_PID"] = str(os.getpid())  # exec keeps the pid, so Dovecot finds itself named
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the keeper's own stop still ends it
    os.execv(binary, [binary, "-F", "-c", config])


def main(argv: list[str]) -> int:
    """``BINARY CONFIG UID:GID FD...``: run Dovecot until stdin closes or a stop signal comes; its exit status."""
    binary, config, fds = argv[0], argv[1], [int(a) for a in argv[3:]]
    uid, gid = (int(n) for n in argv[2].split(":"))
    pid = os.fork()
    if pid == 0:
        try:
            _exec_dovecot(binary, config, uid, gid, fds)
        finally:
            os._exit(127)
    for fd in fds:
        os.close(fd)
    stop_r, stop_w = os.pipe()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os.write(stop_w, b"x"))
    child = os.pidfd_open(pid)
    watched = [child, stop_r, sys.stdin.fileno()]
    while True:
        ready, _, _ = select.select(watched, [], [])
        if child in ready:  # Dovecot ended by itself (a bad config, a crash)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)
        if sys.stdin.fileno() in ready and os.read(sys.stdin.fileno(), 64):
            continue  # the parent wrote something: it is alive, keep going
        break  # stdin closed (the parent is gone) or a stop signal
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        if select.select([child], [], [], max(0.0, deadline - time.monotonic()))[0]:
            break
    else:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    shutil.rmtree(os.getcwd(), ignore_errors=True)  # the server's folder: also when the parent died and cannot
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
