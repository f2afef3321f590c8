"""What a command drives: one handset, by URI or by its name in the rack inventory, under its lease.

Every command that drives an inventory handset (the desk commands, ``match``,
``signin``, ``run-flow``) takes the lease pytest takes for it, so a person at
the desk and a test run never drive one phone at once. A ``--handset URI`` that
is an inventory handset's URI (with ``--inventory`` or ``$HARNESS_INVENTORY``)
is leased the same way as its ``--device NAME``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

#: How long a command waits for a leased handset unless told (``--lease-timeout``).
DEFAULT_LEASE_WAIT = 600.0


def entry_with_uri(inventory: Any, uri: str) -> Any:
    """The inventory's handset reached at ``uri`` (None: not one of the rack's), so a URI is leased like its name."""
    def norm(text: str) -> str:
        return text.split("?", 1)[0].rstrip("/").lower()
    return next((e for e in inventory.handsets if norm(e.uri) == norm(uri)), None)


class Target:
    """What a command acts on: a handset URI and, from the inventory, its serial ports and power.

    A handset of the inventory (``--device NAME``, or ``--handset URI`` when the URI is one
    of the inventory's) is driven only under its lease, the same one a pytest run takes:
    ``with Target(args) as target:`` waits for it (saying whom it waits for) or, with
    ``--no-wait``, fails at once naming the holder.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.uri: str | None = args.handset
        self.inventory = None
        self.entry = None
        self.command = f"harness {getattr(args, 'command', '') or ''}".strip()
        self.wait = not getattr(args, "no_wait", False)
        self.lease_timeout: float = getattr(args, "lease_timeout", None) or DEFAULT_LEASE_WAIT
        self.lease: Any = None
        path = getattr(args, "inventory", None) or os.environ.get("HARNESS_INVENTORY")
        if getattr(args, "device", None):
            from harness.lab.inventory import Inventory

            if args.handset:
                raise HarnessError("give --handset URI or --device NAME, not both")
            if not path:
                raise HarnessError("--device needs --inventory FILE (or $HARNESS_INVENTORY)")
            self.inventory = Inventory.load(path)
            self.entry = self.inventory.get(args.device)
            self.uri = self.entry.uri
        elif self.uri and path and not self.uri.startswith("emulator://"):
            from harness.lab.inventory import Inventory

            inventory = Inventory.load(path)
            self.entry = entry_with_uri(inventory, self.uri)
            self.inventory = inventory if self.entry is not None else None

    def require_uri(self) -> str:
        """The handset URI, checked (a one-line error for a malformed one, before anything is opened)."""
        from harness.devices import parse_uri

        if not self.uri:
            raise HarnessError("say which handset: --handset URI or --device NAME")
        parse_uri(self.uri)
        return self.uri

    def take_lease(self) -> Any:
        """Lease the inventory handset (no-op for a bare --handset URI); kept until ``release``."""
        if self.entry is not None and self.lease is None:
            from harness.deadline import left
            from harness.lab.leases import lease

            # a command bounded by --timeout waits for the lease within it too
            timeout = round(left(self.lease_timeout) or 0.0, 1)
            self.lease = lease(self.inventory, self.entry.name, wait=self.wait,  # type: ignore[arg-type]
                               timeout=timeout, command=self.command)
        return self.lease

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None

    def __enter__(self) -> "Target":
        self.take_lease()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def port(self, field: str, override: str | None) -> str:
        if override:
            return override
        if self.inventory is not None and self.entry is not None and getattr(self.entry, field, None):
            return self.inventory.resolve_port(self.entry, field)
        raise HarnessError(f"no {field} port: give --port URL (or use --device NAME with an inventory that lists one)")

    def __repr__(self) -> str:
        return f"Target({self.entry.name if self.entry is not None else self.uri!r})"

    def open(self, log_dir: str | Path | None = None, one_shot: bool = False) -> Any:
        """Open the handset (under its lease, when it is an inventory handset).

        ``one_shot``: this command does one thing and ends, so an ``emulator://`` handset
        lives only as long as it; say so, and point to ``harness emulate``.
        """
        from harness.devices import open_handset

        uri = self.require_uri()
        self.take_lease()
        if one_shot and uri.startswith("emulator://"):
            profile = uri[len("emulator://"):].split("?", 1)[0] or "lumia-930"
            print(f"note: {uri} starts a throwaway emulated handset that stops when this command ends; "
                  f"for one that stays, run `harness emulate --profile {profile}` and use the adb endpoint "
                  f"it prints (--handset adb-tcp://HOST:PORT)", file=sys.stderr, flush=True)
        print(f"connecting to {uri} ...", file=sys.stderr, flush=True)
        opened = open_handset(uri, log_dir=log_dir)
        if opened.profile is None and self.inventory is not None and self.entry is not None:
            opened.profile = self.inventory.profile_of(self.entry)
        return opened


def add_target_options(p: argparse.ArgumentParser) -> None:
    """--handset / --device / --inventory and the lease options, for every command that drives one handset."""
    p.add_argument("--handset", metavar="URI", help="adb-tcp://HOST:PORT, adb-usb://SERIAL or emulator://PROFILE")
    p.add_argument("--device", metavar="NAME", help="a handset of the rack inventory (driven under its lease)")
    p.add_argument("--inventory", metavar="FILE", help="rack inventory (default: $HARNESS_INVENTORY)")
    p.add_argument("--no-wait", action="store_true",
                   help="for an inventory handset: fail at once, naming the holder, when someone else has it leased")
    p.add_argument("--lease-timeout", type=float, metavar="SECONDS", default=DEFAULT_LEASE_WAIT,
                   help=f"for an inventory handset: how long to wait for its lease (default {DEFAULT_LEASE_WAIT:g};"
                        " a command's --timeout bounds it too)")
