"""The janitor: frees labgrid places whose holder stopped beating (a run killed with -9, a cancelled CI job).

labgrid keeps a place acquired until someone releases it (labgrid issues #1739,
#1884). A harness run that holds places beats on each of them (``holder.py``:
the ``harness_beat`` tag changes every ``harness_every`` seconds). The janitor
watches every place at the coordinator and, when an acquired place's beat has
not changed for ``limit`` seconds by the janitor's own clock (at least three of
the holder's beats, so a run that beats slowly is never cut off), releases it
with labgrid's own ``ReleasePlace`` (only from that holder) and clears the
tags, logging which place it freed from whom. Clocks of other hosts never
matter: only changes are watched. A place acquired without our tags (a person
with ``labgrid-client acquire``) is left alone.

Several janitors in one lab (one beside every export) never act on the same
place: a janitor given exporter names (``owners``) frees only the places whose
first match (in sorted order) names one of them, so each place has one janitor,
the one beside the export that publishes its handset. labgrid's ``ReleasePlace``
releases from a user (HOST/USER), not from one process, and has no
compare-and-release: two janitors freeing one place could free it twice, the
second time from a new run of the same user that took it in between. A janitor
also syncs with the coordinator and checks the beat once more right before it
releases, and clears the tags only while they are still the freed holder's.

Run it beside an export: ``run_janitor(address, limit, stop, owners=[NAME])`` in
a thread, or ``harness lab janitor --coordinator HOST:PORT [--limit SECONDS]
[--exporter NAME ...]`` (without ``--exporter`` it frees every place: run one
such janitor per lab, and its exports with ``--janitor-limit 0``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import threading
import time
from typing import Any, Callable

from harness.errors import HarnessError
from harness.lab.labgrid.holder import BEAT_TAG, EVERY_TAG, HOLDER_TAG, holder_of
from harness.lab.labgrid.session import CoordinatorSession, CoordinatorUnavailable

#: Seconds without a beat after which a place is freed, unless told otherwise.
DEFAULT_LIMIT = 60.0
log = logging.getLogger("harness.janitor")


class Janitor:
    """Watches the places of one coordinator session; ``sweep()`` frees the stale ones (call it every second)."""

    def __init__(self, session: CoordinatorSession, limit: float = DEFAULT_LIMIT,
                 report: Callable[[str], None] | None = None, owners: list[str] | None = None) -> None:
        self.session = session
        self.limit = limit
        self.owners = set(owners or ())  # empty: every place
        self.report = report or log.warning
        self.seen: dict[str, tuple[tuple[str, str, str], float]] = {}  # place -> (holder, tag, beat), since
        self.freed: list[tuple[str, str, float]] = []  # (place, holder, seconds without a beat)

    async def sweep(self) -> None:
        """Look at every place once; free those whose beat is older than the limit."""
        now = time.monotonic()
        places = self.session.session.places
        for name in list(self.seen):
            if name not in places:
                del self.seen[name]
        for name, place in list(places.items()):
            if self.owners and owner_of(place) not in self.owners:
                self.seen.pop(name, None)  # another export's janitor frees it
                continue
            tag = place.tags.get(HOLDER_TAG, "")
            if not place.acquired or tag.split(" ", 1)[0] != place.acquired:
                self.seen.pop(name, None)  # free, or not held by a harness run: nothing to watch
                if not place.acquired and tag:
                    await self._untag(name)  # a run died between its release and its untagging
                continue
            key = (place.acquired, tag, place.tags.get(BEAT_TAG, ""))
            last = self.seen.get(name)
            if last is None or last[0] != key:
                self.seen[name] = (key, now)
                continue
            allowed = max(self.limit, 3 * _seconds(place.tags.get(EVERY_TAG)))
            quiet = now - last[1]
            if quiet >= allowed:
                await self._free(name, key, quiet, allowed)

    async def _free(self, name: str, key: tuple[str, str, str], quiet: float, allowed: float) -> None:
        lg = self.session.session
        await lg.sync_with_coordinator()  # every update the coordinator sent so far is in our view now
        place = lg.places.get(name)
        if place is None or (place.acquired, place.tags.get(HOLDER_TAG, ""), place.tags.get(BEAT_TAG, "")) != key:
            self.seen.pop(name, None)  # it beat, was released or changed hands meanwhile: watch afresh
            return
        holder = holder_of(place)
        await self.session.request("ReleasePlace", f"releasing place {name}", placename=name, fromuser=key[0])
        await self._untag(name, key[1])
        self.seen.pop(name, None)
        self.freed.append((name, holder, quiet))
        self.report(f"janitor: freed place {name} from {holder}: no heartbeat for {quiet:.1f}s "
                    f"(limit {allowed:g}s)")

    async def _untag(self, name: str, tag: str | None = None) -> None:
        """Clear our tags from a free place; with ``tag``, only while they are still that holder's."""
        place = self.session.session.places.get(name)
        if place is not None and not place.acquired and (tag is None or place.tags.get(HOLDER_TAG) == tag):
            await self.session.request("SetPlaceTags", f"untagging place {name}", placename=name,
                                       tags={HOLDER_TAG: "", EVERY_TAG: "", BEAT_TAG: ""})


def owner_of(place: Any) -> str | None:
    """The exporter whose janitor frees ``place``: the one its first match (sorted) names; None for a pattern."""
    exporters = sorted(str(m.exporter) for m in place.matches)
    return exporters[0] if exporters and not any(c in exporters[0] for c in "*?[") else None


def _seconds(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def run_janitor(address: str, limit: float = DEFAULT_LIMIT, stop: threading.Event | None = None,
                report: Callable[[str], None] | None = None, period: float | None = None,
                owners: list[str] | None = None) -> None:
    """Free stale places at ``address`` (only those of the exporters ``owners``, when given) until ``stop`` is
    set; a coordinator that goes away is reconnected to (the janitor says so). Meant for a thread beside
    ``harness lab export``, or the main thread."""
    stop = stop or threading.Event()
    say = report or log.warning
    period = period or min(1.0, limit / 4)
    session = CoordinatorSession(address)
    janitor = Janitor(session, limit, say, owners)
    connected = ever = False
    try:
        while not stop.is_set():
            try:
                if not session.alive:
                    session.start()
                    janitor.seen.clear()  # a restarted coordinator: watch afresh
                    whose = f" of exporter {', '.join(sorted(owners))}" if owners else ""
                    say(f"janitor: {address} is back; watching again" if ever else
                        f"janitor: watching the places{whose} at {address} (limit {limit:g}s)")
                    connected = ever = True
                session.run(janitor.sweep(), "looking at places")
            except (CoordinatorUnavailable, HarnessError) as exc:
                if connected:
                    say(f"janitor: {exc}; trying again")
                connected = session.alive
            stop.wait(period)
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.lab.labgrid.janitor``: run the janitor in the foreground until SIGTERM or Ctrl-C."""
    import signal

    parser = argparse.ArgumentParser(prog="python -m harness.lab.labgrid.janitor", description=__doc__.split("\n")[0])
    parser.add_argument("--coordinator", metavar="HOST:PORT", required=True)
    parser.add_argument("--limit", type=float, default=DEFAULT_LIMIT, metavar="SECONDS",
                        help=f"free a place after this long without a heartbeat (default {DEFAULT_LIMIT:g})")
    parser.add_argument("--exporter", action="append", default=[], metavar="NAME",
                        help="free only the places of this exporter (repeatable; default: every place)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_janitor(args.coordinator, args.limit, stop, report=lambda line: print(line, file=sys.stderr, flush=True),
                owners=args.exporter or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
