"""``harness lab ...``: racks across hosts on labgrid (``export``: this host's handsets on a coordinator)."""

from __future__ import annotations

import argparse
import os
import re
import signal
from typing import Any

#: What ``--coordinator`` takes: HOST:PORT, as labgrid's ``-x``/``LG_COORDINATOR`` do.
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


def add_lab_parser(sub: Any) -> None:
    """Register ``harness lab`` and its sub-commands."""
    p = sub.add_parser("lab", help="racks across hosts on labgrid (see docs/rack.md)")
    lab = p.add_subparsers(dest="lab_command", required=True, metavar="LAB_COMMAND")
    e = lab.add_parser("export", help="publish this host's handsets (an inventory) on a labgrid coordinator",
                       description="Run a labgrid-exporter for the handsets of an inventory, serve their local serial "
                                   "ports through ser2net (RFC 2217), and make a place per handset the coordinator "
                                   "lacks. Runs until Ctrl-C or SIGTERM; stops everything it started.")
    e.add_argument("--inventory", default=os.environ.get("HARNESS_INVENTORY"), metavar="FILE",
                   required=not os.environ.get("HARNESS_INVENTORY"),
                   help="rack inventory TOML (default: $HARNESS_INVENTORY)")
    e.add_argument("--coordinator", type=_address, default=os.environ.get("LG_COORDINATOR"), metavar="HOST:PORT",
                   required=not os.environ.get("LG_COORDINATOR"),
                   help="the labgrid coordinator (default: $LG_COORDINATOR)")
    e.add_argument("--name", required=True, metavar="HOSTNAME",
                   help="this exporter's name on the coordinator (places match NAME/HANDSET/*)")
    e.add_argument("--hostname", default="127.0.0.1", metavar="ADDRESS",
                   help="address other hosts reach this one at: ser2net listens there and resources name it "
                        "(default 127.0.0.1, this host only)")
    e.add_argument("--janitor-limit", type=float, default=60.0, metavar="SECONDS",
                   help="beside the export, free a place of this exporter whose holder's heartbeat is older than "
                        "this (default 60; 0: run no janitor here)")
    e.set_defaults(func=_cmd_export)
    j = lab.add_parser("janitor", help="free labgrid places whose holder stopped beating (a killed run)",
                       description="Watch every place at the coordinator and release one whose harness holder's "
                                   "heartbeat is older than --limit, logging which place it freed from whom. "
                                   "Runs until Ctrl-C or SIGTERM. harness lab export runs one beside itself.")
    j.add_argument("--coordinator", type=_address, default=os.environ.get("LG_COORDINATOR"), metavar="HOST:PORT",
                   required=not os.environ.get("LG_COORDINATOR"),
                   help="the labgrid coordinator (default: $LG_COORDINATOR)")
    j.add_argument("--limit", type=float, default=60.0, metavar="SECONDS",
                   help="seconds without a heartbeat before a place is freed (default 60)")
    j.add_argument("--exporter", action="append", default=[], metavar="NAME",
                   help="free only the places whose first match names this exporter (repeatable; default: every "
                        "place, so run one such janitor per lab and give the exports --janitor-limit 0)")
    j.set_defaults(func=_cmd_janitor)


def _address(text: str) -> str:
    if not _ADDRESS.match(text) or not 0 < int(text.rsplit(":", 1)[1]) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return text


def _cmd_export(args: argparse.Namespace) -> int:
    from harness.lab.inventory import Inventory
    from harness.lab.labgrid.export import RackExport
    from harness.lab.labgrid.processes import die_with_parent

    die_with_parent(signal.SIGTERM)  # started by a shell, a service or a test: it goes when they go

    def say(line: str) -> None:
        print(f"harness lab export: {line}", flush=True)

    export = RackExport(Inventory.load(args.inventory), args.coordinator, args.name, args.hostname, say)
    janitor = _start_janitor(args.coordinator, args.janitor_limit, say, args.name) \
        if args.janitor_limit > 0 else None
    try:
        places = export.start()
        say(f"ready: exporter {args.name} on {args.coordinator}, {len(export.plan.places)} handsets, "
            f"places made: {', '.join(places.made) or 'none'}")
        return export.serve()
    finally:
        if janitor is not None:
            janitor.set()
        export.stop()


def _start_janitor(address: str, limit: float, say: Any, exporter: str) -> Any:
    """The janitor of this exporter's places (``harness.lab.labgrid.janitor``) in a daemon thread; set the
    returned event to stop it. Another export's janitor frees that export's places, never these."""
    import threading

    from harness.lab.labgrid.janitor import run_janitor

    stop = threading.Event()
    threading.Thread(target=run_janitor, args=(address, limit, stop, say), kwargs={"owners": [exporter]},
                     name="janitor", daemon=True).start()
    return stop


def _cmd_janitor(args: argparse.Namespace) -> int:
    from harness.lab.labgrid.janitor import main

    return main(["--coordinator", args.coordinator, "--limit", str(args.limit),
                 *(f"--exporter={name}" for name in args.exporter)])
