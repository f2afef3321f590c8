"""Holding labgrid places: acquire (waiting, naming the holder), a heartbeat while held, release.

A place is acquired with labgrid's own ``AcquirePlace``, as ``labgrid-client
acquire`` does, so ``labgrid-client who`` and ``places`` show it as labgrid users
expect. labgrid keeps an acquisition until someone releases it, also when the
process that made it was killed (labgrid issues #1739, #1884). So while it
holds places, a run tags each of them with who holds it (``harness_holder``), how
often it beats (``harness_every``) and a value it changes every beat
(``harness_beat``); the janitor (``janitor.py``) releases a place whose beat
stopped changing. The beat runs on the session's own thread, so a slow or busy
run keeps beating.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Callable

from harness.errors import HarnessError, HarnessTimeout
from harness.lab.labgrid.session import CoordinatorRefused, CoordinatorSession, CoordinatorUnavailable

HOLDER_TAG = "harness_holder"  # "HOST/USER pid PID (COMMAND) since HH:MM:SS"
BEAT_TAG = "harness_beat"      # changes at every beat
EVERY_TAG = "harness_every"    # seconds between beats
#: Seconds between beats unless ``$HARNESS_LG_HEARTBEAT`` says otherwise (the janitor's limit is at least 3 beats).
DEFAULT_BEAT = 10.0
#: How long a run keeps trying to reach a coordinator that went away (restarted) before its places count as lost.
DEFAULT_RECOVER = 60.0


class PlaceUnknown(HarnessError, LookupError):
    """No place of that name at the coordinator."""

    def __init__(self, address: str, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"labgrid coordinator {address}: no place {name!r} (it has: {', '.join(known) or 'none'})")


class PlaceBusy(HarnessError):
    """The place is held by someone else and the caller would not wait (``--no-wait``)."""

    def __init__(self, name: str, holder: str) -> None:
        self.name, self.holder = name, holder
        super().__init__(f"place {name} is acquired by {holder}")


class PlaceLost(HarnessError):
    """A place this run held is no longer its own (released by someone else, or the coordinator forgot it)."""

    def __init__(self, name: str, why: str) -> None:
        self.name, self.why = name, why
        super().__init__(f"place {name} was lost while this run held it: {why}")


def beat_seconds() -> float:
    """Seconds between heartbeats: ``$HARNESS_LG_HEARTBEAT`` or ``DEFAULT_BEAT``."""
    try:
        value = float(os.environ.get("HARNESS_LG_HEARTBEAT") or DEFAULT_BEAT)
    except ValueError:
        raise HarnessError(f"$HARNESS_LG_HEARTBEAT: expected seconds, got {os.environ['HARNESS_LG_HEARTBEAT']!r}") \
            from None
    return value if value > 0 else DEFAULT_BEAT


def holder_of(place: Any) -> str:
    """Who holds ``place`` (a labgrid ``Place``), in words: our holder tag when it names the acquirer, else
    labgrid's ``acquired`` (HOST/USER), else 'nobody'."""
    acquired = place.acquired
    if not acquired:
        return "nobody"
    tag = place.tags.get(HOLDER_TAG, "")
    return tag if tag.split(" ", 1)[0] == acquired else acquired


class PlaceHolder:
    """The places one run holds through one ``CoordinatorSession``, and their heartbeat.

    ``note`` gets one line for each thing a person should know (waiting for a holder, a coordinator that came
    back after a restart); ``check()`` raises ``PlaceLost`` once a held place is no longer this run's.
    """

    def __init__(self, session: CoordinatorSession, command: str = "harness", beat: float | None = None,
                 recover: float = DEFAULT_RECOVER, note: Callable[[str], None] | None = None) -> None:
        self.session = session
        self.beat = beat or beat_seconds()
        self.recover = recover
        self.note = note or (lambda line: None)
        self.tag = f"{session.name} pid {os.getpid()} ({command}) since {time.strftime('%H:%M:%S')}"
        self.held: list[str] = []
        self.lost: dict[str, str] = {}
        self._beating: Any = None

    # ------------------------------------------------------------------ acquire
    def acquire(self, name: str, wait: bool = True, timeout: float = 600.0, reservation: str | None = None) -> None:
        """Acquire place ``name``: at once, or (``wait``) when its holder lets go, within ``timeout`` seconds.

        PlaceBusy (not waiting), HarnessTimeout naming the holder, PlaceUnknown, CoordinatorUnavailable.
        """
        budget = timeout + self.session.request_timeout
        self.session.run(self._acquire(name, wait, timeout, reservation), f"acquiring place {name}", budget)
        self.held.append(name)
        if self._beating is None:  # one beat loop for the holder's life (release_all ends it)
            self._beating = self.session.call_soon(self._heartbeat)

    async def _acquire(self, name: str, wait: bool, timeout: float, reservation: str | None) -> None:
        session = self.session
        deadline = time.monotonic() + timeout
        said = None
        while True:
            place = session.session.places.get(name)
            if place is None:
                raise PlaceUnknown(session.address, name, sorted(session.session.places))
            free = not place.acquired and (place.reservation is None or place.reservation == reservation)
            if free:
                try:
                    await session.request("AcquirePlace", f"acquiring place {name}", placename=name)
                except CoordinatorRefused as exc:
                    if "already acquired" not in exc.details and "not reserved" not in exc.details:
                        raise
                else:
                    await self._tag(name)
                    return
                place = session.session.places.get(name) or place
            holder = holder_of(place) if place.acquired else f"reservation {place.reservation}"
            if not wait:
                raise PlaceBusy(name, holder)
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessTimeout(f"place {name} to be released", f"it acquired by {holder}", timeout)
            if holder != said:
                self.note(f"waiting for place {name}, acquired by {holder} (up to {left:.0f}s)")
                said = holder
            await session.wait_changed(min(left, 1.0))

    async def _tag(self, name: str) -> None:
        await self.session.request("SetPlaceTags", f"tagging place {name}", placename=name,
                                   tags={HOLDER_TAG: self.tag, EVERY_TAG: f"{self.beat:g}", BEAT_TAG: _beat_value()})

    # ------------------------------------------------------------------ heartbeat
    async def _heartbeat(self) -> None:
        while True:  # also while nothing is held: a pytest worker holds one place after another
            await asyncio.sleep(self.beat)
            try:
                for name in list(self.held):
                    if name not in self.held:
                        continue  # released while an earlier place's beat was on its way
                    place = self.session.session.places.get(name)
                    if place is None or place.acquired != self.session.name or \
                            place.tags.get(HOLDER_TAG) != self.tag:
                        self._lose(name, f"now {'deleted' if place is None else 'held by ' + holder_of(place)}")
                        continue
                    await self._tag(name)
            except (CoordinatorUnavailable, CoordinatorRefused) as exc:
                await self._recover(exc)

    async def _recover(self, exc: HarnessError) -> None:
        """The coordinator went away (restarted): connect again and acquire our places again, or lose them."""
        self.note(f"labgrid coordinator {self.session.address} went away ({exc}); trying again for "
                  f"{self.recover:.0f}s")
        until = time.monotonic() + self.recover
        while time.monotonic() < until:
            try:
                await self.session._connect()
                break
            except CoordinatorUnavailable:
                await asyncio.sleep(min(1.0, max(0.0, until - time.monotonic())))
        else:
            for name in list(self.held):
                self._lose(name, f"the coordinator {self.session.address} did not come back within "
                                 f"{self.recover:.0f}s")
            return
        for name in list(self.held):
            place = self.session.session.places.get(name)
            if place is None:  # the coordinator came back without it (not saved yet): its export makes it again
                self.note(f"place {name} is not at the coordinator {self.session.address} now; waiting up to "
                          f"{max(0.0, until - time.monotonic()):.0f}s for it to be made again")
            while place is None and time.monotonic() < until:
                await self.session.wait_changed(min(1.0, max(0.0, until - time.monotonic())))
                place = self.session.session.places.get(name)
            if place is not None and place.acquired == self.session.name and place.tags.get(HOLDER_TAG) == self.tag:
                continue  # the coordinator kept it (the connection dropped, the coordinator did not restart)
            if place is None or place.acquired:
                self._lose(name, f"after the coordinator came back it is "
                                 f"{'gone' if place is None else 'held by ' + holder_of(place)}")
                continue
            try:
                await self.session.request("AcquirePlace", f"acquiring place {name} again", placename=name)
                await self._tag(name)
                self.note(f"labgrid coordinator {self.session.address} came back; place {name} acquired again")
            except (CoordinatorUnavailable, CoordinatorRefused) as again:
                self._lose(name, f"could not acquire it again after the coordinator came back ({again})")

    def _lose(self, name: str, why: str) -> None:
        if name not in self.held:
            return  # given back meanwhile: not lost
        self.held.remove(name)
        self.lost[name] = why
        self.note(f"place {name} lost: {why}")

    def check(self) -> None:
        """Raise PlaceLost for the first place this run held and lost."""
        for name, why in self.lost.items():
            raise PlaceLost(name, why)

    # ------------------------------------------------------------------ release
    def release(self, name: str) -> None:
        """Release ``name`` if this run still holds it, and clear our tags from it."""
        if name in self.held:
            self.held.remove(name)
        self.session.run(self._release(name), f"releasing place {name}")

    async def _release(self, name: str) -> None:
        session = self.session
        place = session.session.places.get(name)
        if place is None or place.tags.get(HOLDER_TAG) != self.tag:
            return  # not ours (any more): leave it alone
        if place.acquired == session.name:
            await session.request("ReleasePlace", f"releasing place {name}", placename=name, fromuser=session.name)
        place = session.session.places.get(name)
        if place is not None and not place.acquired and place.tags.get(HOLDER_TAG) == self.tag:
            await session.request("SetPlaceTags", f"untagging place {name}", placename=name,
                                  tags={HOLDER_TAG: "", EVERY_TAG: "", BEAT_TAG: ""})

    def release_all(self) -> None:
        """Release every place still held (errors of one do not keep the others held); stop beating."""
        errors: list[HarnessError] = []
        for name in list(self.held):
            try:
                self.release(name)
            except HarnessError as exc:
                errors.append(exc)
        if self._beating is not None:
            self._beating.cancel()
            self._beating = None
        if errors:
            raise errors[0]


def let_go(holder: "PlaceHolder | None", session: CoordinatorSession | None) -> None:
    """Release every place ``holder`` still holds, then close ``session``, also when releasing fails.

    The one way a command (``places.HeldPlace``) and a pytest worker (``reservations.PlacePool``) end their
    hold: the session must close even when the coordinator refuses a release, or the process keeps a stream.
    """
    try:
        if holder is not None:
            holder.release_all()
    finally:
        if session is not None:
            session.close()


def _beat_value() -> str:
    return f"{time.time():.3f}".replace(".", "_")
