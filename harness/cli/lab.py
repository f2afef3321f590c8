"""``harness devices``: what is attached, and whether the rack inventory answers right now."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def add_devices_parser(sub: Any) -> None:
    """Register ``harness devices`` on the ``harness`` command's subparsers."""
    p = sub.add_parser("devices", help="list attached phones and serial ports, and probe the rack inventory",
                       description="List USB phones with an ADB interface and serial ports; with an inventory, "
                                   "say whether each handset and port answers right now and who leases it.")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--inventory", metavar="FILE", default=os.environ.get("HARNESS_INVENTORY"),
                   help="rack inventory TOML (default: $HARNESS_INVENTORY)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds each probe may take (default 2)")
    p.set_defaults(func=_cmd_devices)


def _cmd_devices(args: argparse.Namespace) -> int:
    from harness.lab.discovery import discover, format_report
    from harness.lab.inventory import Inventory

    inventory = Inventory.load(args.inventory) if args.inventory else None
    report = discover(inventory, timeout=args.timeout)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(format_report(report))
    return 0
