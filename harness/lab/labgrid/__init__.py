"""Racks across hosts on labgrid: a rack's handsets exported to a real ``labgrid-coordinator``.

Needs the ``labgrid`` extra (``pip install 'handset-harness[labgrid]'``); the
rest of the harness never imports this package. docs/rack.md says how the
pieces fit: the coordinator, ``harness lab export`` (the exporter of one rack
host), and the places a run acquires.

Using places: ``session.py`` runs labgrid's own client on a thread of its own;
``holder.py`` acquires (waiting, naming the holder), beats and releases;
``endpoints.py`` reads a place's resources back as a one-handset inventory;
``places.py`` is a command's place (``--coordinator``/``--place``);
``janitor.py`` frees the places of runs whose heartbeat stopped.
"""

from __future__ import annotations

import os
import shutil
import sys

from harness.errors import HarnessError


class LabgridError(HarnessError):
    """A labgrid program is missing, did not start, or answered with an error (one line says which)."""


def program(name: str) -> str:
    """The path of labgrid's (or ser2net's) program ``name``: beside this Python first (a venv), then on PATH.

    Why beside the interpreter: a venv's console scripts are not on PATH when its
    Python is run by its full path, and the labgrid of our own venv is the one we mean.
    """
    here = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(here, os.X_OK):
        return here
    found = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    if found is None:
        hint = ("install the labgrid extra: pip install 'handset-harness[labgrid]'" if name.startswith("labgrid")
                else "install Debian's ser2net: apt-get install ser2net")
        raise LabgridError(f"{name}: not found beside {sys.executable} nor on PATH ({hint})")
    return found
