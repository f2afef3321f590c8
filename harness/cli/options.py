"""Options every command that drives one handset shares: which handset (``--handset``/``--device``/``--place``),
``--timeout``.

Kept in one place so ``screenshot``, ``match`` and ``signin`` read the same
options the same way and open the chosen handset with the same notes on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from harness.errors import HarnessError
from harness.handsets import OpenedHandset, pace, usages
from harness.lab.chosen import DEFAULT_LEASE_WAIT, ChosenHandset

if TYPE_CHECKING:
    from harness.vision import ScreenLibrary

#: The default --timeout of a one-shot command.
DEFAULT_TIMEOUT = 60.0


def add_target_options(p: argparse.ArgumentParser) -> None:
    """--handset / --device / --inventory and the lease options, for every command that drives one handset."""
    p.add_argument("--handset", metavar="URI", help=usages())
    p.add_argument("--device", metavar="NAME", help="a handset of the rack inventory (driven under its lease)")
    p.add_argument("--inventory", metavar="FILE", help="rack inventory (default: $HARNESS_INVENTORY)")
    p.add_argument("--place", metavar="NAME",
                   help="a labgrid place holding the handset (default: $LG_PLACE); acquired for the command and "
                        "released after it")
    p.add_argument("--coordinator", metavar="HOST:PORT",
                   help="the labgrid coordinator that holds --place (default: $LG_COORDINATOR)")
    p.add_argument("--no-wait", action="store_true",
                   help="for an inventory handset or a place: fail at once, naming the holder, when someone else "
                        "has it")
    p.add_argument("--lease-timeout", type=float, metavar="SECONDS", default=DEFAULT_LEASE_WAIT,
                   help=f"for an inventory handset or a place: how long to wait for it (default {DEFAULT_LEASE_WAIT:g};"
                        " a command's --timeout bounds it too)")


def chosen_handset(args: argparse.Namespace) -> ChosenHandset:
    """The handset the target options name; a context manager that holds its lease (an inventory handset's) or
    its labgrid place. ``$LG_PLACE`` names the place only when no --handset or --device is given."""
    place = getattr(args, "place", None)
    if place is None and not args.handset and not getattr(args, "device", None):
        place = os.environ.get("LG_PLACE") or None
    coordinator = getattr(args, "coordinator", None) or os.environ.get("LG_COORDINATOR") or None
    return ChosenHandset(args.handset, getattr(args, "device", None), getattr(args, "inventory", None),
                         wait=not getattr(args, "no_wait", False), lease_timeout=getattr(args, "lease_timeout", None),
                         command=f"harness {getattr(args, 'command', '') or ''}".strip(),
                         place=place, coordinator=coordinator)


def handset_named(args: argparse.Namespace, lg_place: bool = True) -> bool:
    """True when the options name a handset: --handset, --device, --place (or, with ``lg_place``, $LG_PLACE)."""
    return bool(args.handset or getattr(args, "device", None) or getattr(args, "place", None)
                or (lg_place and os.environ.get("LG_PLACE")))


def open_chosen(chosen: ChosenHandset, log_dir: str | Path | None = None, one_shot: bool = False) -> OpenedHandset:
    """Open the chosen handset under its lease (an inventory handset's), saying on stderr what it connects to.

    ``one_shot``: the command does one thing and ends, so an ``emulator://`` handset
    lives only as long as it; say so, and point to ``harness emulate``.
    """
    from harness.handsets import parse_uri, starts_handset
    from harness.handsets.emulator import DEFAULT_PROFILE

    uri = chosen.require_uri()
    chosen.take_lease()  # before the notes: waiting for a leased handset says so first
    if one_shot and starts_handset(uri):
        profile = parse_uri(uri).location or DEFAULT_PROFILE
        print(f"note: {uri} starts a throwaway emulated handset that stops when this command ends; "
              f"for one that stays, run `harness emulate --profile {profile}` and use the adb endpoint "
              f"it prints (--handset adb-tcp://HOST:PORT)", file=sys.stderr, flush=True)
    print(f"connecting to {uri} ...", file=sys.stderr, flush=True)
    return chosen.open(log_dir)


def screen_library(folder: str | None) -> "ScreenLibrary":
    """The screen library of ``--screens DIR``, else the one shipped with the package."""
    from harness.vision import ScreenLibrary

    return ScreenLibrary.load(folder) if folder else ScreenLibrary.load_default()


def add_timeout_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--timeout SECONDS`` for a one-shot command; ``bounded`` applies it to the command's function."""
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help=f"give up {what} after this many seconds in all (default {DEFAULT_TIMEOUT:g}, times the "
                        f"handset's pace: {DEFAULT_TIMEOUT * pace('robot://'):g} for a robot:// handset, whose "
                        "taps are a robot's moves and whose screenshots a camera's frames)")


def default_timeout(args: argparse.Namespace) -> float:
    """--timeout when none is given: DEFAULT_TIMEOUT times the pace of the handset the options name (its URI's
    scheme; an inventory handset's URI from the inventory)."""
    uri = args.handset
    if not uri and getattr(args, "device", None) and not getattr(args, "place", None):
        try:
            uri = chosen_handset(args).uri
        except (HarnessError, OSError):  # a bad --device or inventory is reported when the command opens it
            uri = None
    return DEFAULT_TIMEOUT * pace(uri)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def bounded(fn: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], int]:
    """Run a command function under its ``--timeout``: it ends by then with a one-line error naming its stage."""
    def run(args: argparse.Namespace) -> int:
        from harness.deadline import Stage, command_deadline

        args.stage = Stage("starting")
        if args.timeout is None:
            args.timeout = default_timeout(args)
        with command_deadline(args.timeout, f"`harness {args.command}` to finish within --timeout", args.stage):
            return int(fn(args) or 0)
    return run
