"""A command's handset reached through a labgrid place: acquire it, read its endpoints, release it.

``HeldPlace`` is what ``harness ... --coordinator HOST:PORT --place NAME`` uses
(``harness.lab.chosen.ChosenHandset``): it connects to the coordinator, acquires
the place (waiting with a message naming the holder, or failing at once), turns
the place's resources into a one-handset inventory (``endpoints.py``), keeps the
place beating while the command runs, and releases it at the end, on errors
and on SIGTERM/Ctrl-C too (the caller's ``with``/``finally``). A kill -9 leaves
the place to the janitor.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

from harness.lab.inventory import Inventory
from harness.lab.labgrid.endpoints import place_inventory
from harness.lab.labgrid.holder import PlaceHolder, let_go
from harness.lab.labgrid.session import CoordinatorSession


def say(line: str) -> None:
    """A note for the person running the command (stderr)."""
    print(line, file=sys.stderr, flush=True)


class HeldPlace:
    """Place ``name`` at the coordinator ``address``, held between ``acquire()`` and ``release()``."""

    def __init__(self, address: str, name: str, *, wait: bool = True, timeout: float = 600.0,
                 command: str = "harness", note: Callable[[str], None] = say) -> None:
        self.address, self.name = address, name
        self.wait, self.timeout, self.command, self.note = wait, timeout, command, note
        self.session: CoordinatorSession | None = None
        self.holder: PlaceHolder | None = None
        self.inventory: Inventory | None = None
        self.acquired_in: float | None = None  # seconds from connecting to holding the place

    def acquire(self) -> Inventory:
        """Hold the place and return its handset as a one-handset inventory (typed errors; nothing held then)."""
        started = time.monotonic()
        self.session = CoordinatorSession(self.address).start()
        try:
            self.holder = PlaceHolder(self.session, self.command, note=self.note)
            self.holder.acquire(self.name, wait=self.wait, timeout=self.timeout)
            self.inventory = self.session.run(self._read(), f"reading the resources of place {self.name}")
        except BaseException:
            self.release()
            raise
        self.acquired_in = time.monotonic() - started
        return self.inventory

    async def _read(self) -> Inventory:
        assert self.session is not None and self.session.session is not None
        lg = self.session.session
        return place_inventory(self.address, lg.places[self.name], lg.resources)

    def check(self) -> None:
        """PlaceLost if the place stopped being ours while we held it."""
        if self.holder is not None:
            self.holder.check()

    def release(self) -> None:
        """Release the place (if held) and disconnect; idempotent."""
        holder, session = self.holder, self.session
        self.holder = self.session = None
        let_go(holder, session)

    def __enter__(self) -> "HeldPlace":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
