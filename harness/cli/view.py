"""``harness view``: the handset's screen live in a browser (click to tap), or an overview of a whole rack.

``--handset URI`` / ``--device NAME`` / ``--place NAME`` serve one handset's
page, driven from the start (a ``--device`` under its lease, a place acquired); ``--inventory FILE`` alone serves
the rack's overview, which watches every handset and leases one only when a
person chooses to drive it. One line on stdout: the URL with its token.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import threading
from typing import TYPE_CHECKING, Any

from harness.cli.options import add_target_options, chosen_handset, handset_named, open_chosen, screen_library
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.view.station import Station
    from harness.vision import ScreenLibrary


def add_view_parser(sub: Any) -> None:
    """Register ``harness view`` on the ``harness`` command's subparsers."""
    text = "serve a live view of a handset (click to tap) or of a whole rack, in the browser"
    p = sub.add_parser("view", help=text, description=text + "; prints the URL (with its token) and runs until Ctrl-C")
    add_target_options(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other still needs the token)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: one the OS picks)")
    p.add_argument("--screens", metavar="DIR", help="screen library (default: the library shipped with the package)")
    p.set_defaults(func=_cmd_view)


class _Library:
    """The screen library, loaded once in the background (compiling it takes seconds) and shared by every handset."""

    def __init__(self, folder: str | None) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._library: "ScreenLibrary | None" = None
        threading.Thread(target=self, name="view-library", daemon=True).start()

    def __call__(self) -> "ScreenLibrary":
        with self._lock:
            if self._library is None:
                self._library = screen_library(self._folder)
            return self._library


def _stations(args: argparse.Namespace, library: _Library) -> list["Station"]:
    from harness.view.station import Station

    if handset_named(args, lg_place=not args.inventory):   # --handset, --device, --place: that handset's page
        chosen = chosen_handset(args)
        opened = open_chosen(chosen)   # leases a --device first, waiting as every desk command does
        name = chosen.entry.name if chosen.entry is not None else opened.handset.info.serial or "handset"
        station = Station(name, chosen.require_uri(), lambda: opened, chosen, library, driving=True)
        station.open()
        return [station]
    import os

    from harness.handsets import open_handset
    from harness.lab.chosen import ChosenHandset
    from harness.lab.inventory import Inventory

    path = args.inventory or os.environ.get("HARNESS_INVENTORY")
    if not path:
        raise HarnessError("give --handset URI, --device NAME, or --inventory FILE for the rack's overview")
    stations = []
    for entry in Inventory.load(path).handsets:
        chosen = ChosenHandset(device=entry.name, inventory=path, wait=False, command="harness view")

        def opener(chosen: ChosenHandset = chosen) -> Any:
            opened = open_handset(chosen.require_uri())   # watching: no lease
            if opened.profile is None:
                opened.profile = chosen.profile()
            return opened
        stations.append(Station(entry.name, entry.uri, opener, chosen, library))
    if not stations:
        raise HarnessError(f"{path}: the inventory lists no handsets")
    return stations


def _cmd_view(args: argparse.Namespace) -> int:
    try:
        ipaddress.ip_address(args.host)
    except ValueError:
        raise HarnessError(f"--host {args.host!r}: expected an IP address to listen on") from None
    if not ipaddress.ip_address(args.host).is_loopback:
        print(f"note: listening on {args.host}: anyone who can reach it and has the URL's token can drive the handsets",
              file=sys.stderr, flush=True)
    try:
        import aiohttp  # noqa: F401  (the server's library, an extra: say so before anything starts)
    except ImportError:
        raise HarnessError("the live view needs aiohttp: pip install 'handset-harness[view]'") from None
    stations = _stations(args, _Library(args.screens))
    try:
        asyncio.run(_serve(stations, args.host, args.port))
    finally:
        for station in stations:
            station.close()
    return 0


async def _serve(stations: list["Station"], host: str, port: int) -> None:
    from harness.view.server import ViewServer

    server = ViewServer(stations)
    url = await server.start(host, port)
    print(url, flush=True)
    print(f"serving {len(stations)} handset{'s' if len(stations) != 1 else ''}; Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        await asyncio.Event().wait()   # until Ctrl-C or SIGTERM
    finally:
        await server.stop()
