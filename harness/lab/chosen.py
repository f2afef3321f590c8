"""The handset a person chose to drive: a URI, or a name of the rack inventory, under the lease pytest takes too.

Every command that drives an inventory handset (the desk commands, ``match``,
``signin``, ``run-flow``) takes the lease pytest takes for it, so a person at
the desk and a test run never drive one phone at once. A URI that is an
inventory handset's URI is leased the same way as its name. This module takes
no argparse: the front doors build a ``ChosenHandset`` from their options, and
word its errors (``HandsetChoiceError``, ``PortUnknown``) with their option names.

A third way to name a handset is a labgrid place (``place`` at ``coordinator``):
the place is acquired instead of a lease, and its resources become a
one-handset inventory (``harness.lab.labgrid``), so everything below reads the
same fields for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.handsets import OpenedHandset, starts_handset
from harness.lab.inventory import HandsetEntry, Inventory
from harness.lab.leases import Lease
from harness.power import PowerSwitch, open_switch
from harness.profiles import Profile

#: How long a command waits for a leased handset unless told.
DEFAULT_LEASE_WAIT = 600.0


class HandsetChoiceError(HarnessError):
    """The handset to drive was not said clearly; ``problem`` says how, for a front door to word with its options.

    ``BOTH``: more than one of a URI, an inventory name and a place; ``NONE``: none of them; ``NO_INVENTORY``: a
    name but no inventory to find it in; ``NO_COORDINATOR``: a place but no coordinator to ask for it.
    """

    BOTH, NONE, NO_INVENTORY, NO_COORDINATOR = "both", "none", "no inventory", "no coordinator"
    _SAID = {BOTH: "more than one of a handset URI, an inventory handset name and a labgrid place were given; "
                   "one handset is driven at a time",
             NONE: "no handset chosen: a handset URI, an inventory handset name or a labgrid place is needed",
             NO_INVENTORY: "a handset named by its inventory name needs an inventory file (or $HARNESS_INVENTORY)",
             NO_COORDINATOR: "a labgrid place needs the coordinator that holds it (HOST:PORT, or $LG_COORDINATOR)"}

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(self._SAID[problem])


class PortUnknown(HarnessError):
    """No URL for the handset's ``field`` port (console, modem): none was given, and no inventory lists one for it."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"no {field} port: none was given, and no inventory lists one for this handset")


def entry_with_uri(inventory: Inventory, uri: str) -> HandsetEntry | None:
    """The inventory's handset reached at ``uri`` (None: not one of the rack's), so a URI is leased like its name."""
    def norm(text: str) -> str:
        return text.split("?", 1)[0].rstrip("/").lower()
    return next((e for e in inventory.handsets if norm(e.uri) == norm(uri)), None)


class ChosenHandset:
    """A handset URI and, when it is one of the inventory's, its entry (serial ports, power) and its lease.

    A handset of the inventory (by ``device`` name, or by a ``uri`` that is one of the
    inventory's) is driven only under its lease: ``with ChosenHandset(...) as chosen:``
    waits for it (saying whom it waits for) or, with ``wait=False``, fails at once
    naming the holder.
    """

    def __init__(self, uri: str | None = None, device: str | None = None, inventory: str | Path | None = None, *,
                 wait: bool = True, lease_timeout: float | None = None, command: str = "harness",
                 place: str | None = None, coordinator: str | None = None) -> None:
        self.uri: str | None = uri
        self.place, self.coordinator = place, coordinator
        self.held: Any = None  # the HeldPlace while a place is held
        self.inventory: Inventory | None = None
        self.entry: HandsetEntry | None = None
        self.command = command
        self.wait = wait
        self.lease_timeout: float = lease_timeout or DEFAULT_LEASE_WAIT
        self.lease: Lease | None = None
        path = inventory or os.environ.get("HARNESS_INVENTORY")
        if place:
            if uri or device:
                raise HandsetChoiceError(HandsetChoiceError.BOTH)
            if not coordinator:
                raise HandsetChoiceError(HandsetChoiceError.NO_COORDINATOR)
        elif device:
            if uri:
                raise HandsetChoiceError(HandsetChoiceError.BOTH)
            if not path:
                raise HandsetChoiceError(HandsetChoiceError.NO_INVENTORY)
            self.inventory = Inventory.load(path)
            self.entry = self.inventory.get(device)
            self.uri = self.entry.uri
        elif uri and path and not starts_handset(uri):
            rack = Inventory.load(path)
            self.entry = entry_with_uri(rack, uri)
            self.inventory = rack if self.entry is not None else None

    def require_uri(self) -> str:
        """The handset URI, checked: a one-line error for a missing or malformed one, before anything opens."""
        from harness.handsets import parse_uri

        if self.place and not self.uri:
            self.take_lease()  # a place's handset is known once the place is held
        if not self.uri:
            raise HandsetChoiceError(HandsetChoiceError.NONE)
        parse_uri(self.uri)
        return self.uri

    def open(self, log_dir: str | Path | None = None) -> OpenedHandset:
        """Open the handset under its lease (an inventory handset's), with the inventory's profile when its URI
        names none; the caller closes it, and the lease stays until ``release``."""
        from harness.handsets import open_handset

        uri = self.require_uri()
        self.take_lease()
        opened = open_handset(uri, log_dir=log_dir)
        if opened.profile is None:
            opened.profile = self.profile()
        return opened

    def take_lease(self) -> Lease | None:
        """Lease the inventory handset, or acquire the labgrid place (no-op for a bare URI); kept until ``release``."""
        if self.place and self.held is None:
            self._hold_place()
        elif self.entry is not None and self.inventory is not None and self.lease is None:
            from harness.deadline import left
            from harness.lab.leases import lease

            # a command bounded by a deadline waits for the lease within it too
            timeout = round(left(self.lease_timeout) or 0.0, 1)
            self.lease = lease(self.inventory, self.entry.name, wait=self.wait, timeout=timeout, command=self.command)
        return self.lease

    def _hold_place(self) -> None:
        from harness.deadline import left
        from harness.lab.labgrid.places import HeldPlace

        assert self.place and self.coordinator
        timeout = round(left(self.lease_timeout) or 0.0, 1)
        held = HeldPlace(self.coordinator, self.place, wait=self.wait, timeout=timeout, command=self.command)
        self.inventory = held.acquire()
        self.held = held
        self.entry = self.inventory.handsets[0]
        self.uri = self.entry.uri

    def release(self, failing: bool = False) -> None:
        """Give the lease or the place back (no-op when none is held); a place lost while held is a PlaceLost
        error here, unless the command is ``failing`` already."""
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        held, self.held = self.held, None
        if held is not None:
            try:
                if not failing:
                    held.check()
            finally:
                held.release()

    def __enter__(self) -> "ChosenHandset":
        self.take_lease()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release(failing=exc[0] is not None)

    def port(self, field: str, override: str | None) -> str:
        """The pyserial URL of this handset's ``field`` port (console, modem): ``override``, else the inventory's."""
        if override:
            return override
        if self.inventory is not None and self.entry is not None and getattr(self.entry, field, None):
            return self.inventory.resolve_port(self.entry, field)
        raise PortUnknown(field)

    def profile(self) -> Profile | None:
        """The inventory's profile of this handset (None: not an inventory handset)."""
        if self.inventory is not None and self.entry is not None:
            return self.inventory.profile_of(self.entry)
        return None

    def power_switch(self) -> tuple[PowerSwitch, int] | None:
        """The inventory's power switch of this handset, opened, and its channel (None: the inventory names none)."""
        found = self.power_channel()
        return None if found is None else (open_switch(*found), found[2])

    def power_channel(self) -> tuple[str, str, int] | None:
        """The inventory's power switch channel of this handset as (kind, resolved port or hub, channel)."""
        if self.inventory is None or self.entry is None or self.entry.power is None:
            return None
        power = self.entry.power
        where = self.inventory.resolve_port(self.entry, "power") if power.kind == "lcus" else power.hub or ""
        return power.kind, where, power.channel

    def __repr__(self) -> str:
        return f"ChosenHandset({self.entry.name if self.entry is not None else self.place or self.uri!r})"
