"""``labgrid-client``, the tool labgrid's users know, run as a program: how the export makes and reads places.

Going through the program (not labgrid's Python internals) keeps us on the
interface labgrid keeps stable, and what we do is what a person could type.
"""

from __future__ import annotations

import os
import subprocess

from harness.lab.labgrid import LabgridError, program

#: Seconds one ``labgrid-client`` call may take (it imports gRPC, connects, does one thing).
CLIENT_TIMEOUT = 60.0


def run_client(address: str, *args: str, timeout: float = CLIENT_TIMEOUT,
               place: str | None = None) -> subprocess.CompletedProcess:
    """``labgrid-client -x ADDRESS [-p PLACE] ARGS...``; its output as text, whatever its exit status.

    ``LG_PLACE``/``LG_TOKEN`` of our own environment are not passed on, so a
    user's shell settings cannot redirect what the export does.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("LG_PLACE", "LG_COORDINATOR", "LG_TOKEN")}
    argv = [program("labgrid-client"), "-x", address, *(["-p", place] if place else []), *args]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise LabgridError(f"labgrid-client {' '.join(args)}: no answer from the coordinator at {address} "
                           f"within {timeout:g}s") from exc


def checked_client(address: str, *args: str, timeout: float = CLIENT_TIMEOUT,
                   place: str | None = None) -> str:
    """``run_client`` that raises ``LabgridError`` quoting labgrid's last line when it fails; its stdout."""
    done = run_client(address, *args, timeout=timeout, place=place)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1][:300]
        where = f" for place {place}" if place else ""
        raise LabgridError(f"labgrid-client {' '.join(args)}{where} at {address} failed "
                           f"(status {done.returncode}): {said}")
    return done.stdout
