"""Places for a test run, reserved by tags through the coordinator's own reservations (one place per worker).

A pytest worker asks for a place by tags (``profile=lumia-930``, ``os_version=8.1``),
as ``labgrid-client reserve profile=lumia-930`` does: the coordinator's scheduler
picks a free place that has them, by priority and age, and allocates it to the
reservation; the worker then acquires that place (only the reservation's owner
may) and beats on it. A worker keeps its place while the next test wants the
same tags, and otherwise gives it back (release, cancel the reservation) before
reserving another, so it never holds more than one. A wanted tag set that no
place at the coordinator has at all fails at once (``NoSuchPlace``); one whose
places are all taken is waited for, the reservation polled (labgrid expires an
unpolled one after a minute), up to the wait.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from harness.errors import HarnessError
from harness.lab.inventory import Inventory
from harness.lab.labgrid.endpoints import place_inventory
from harness.lab.labgrid.holder import PlaceHolder, holder_of, let_go
from harness.lab.labgrid.session import CoordinatorSession


class NoSuchPlace(HarnessError, LookupError):
    """No place at the coordinator has the wanted tags (whoever holds it)."""

    def __init__(self, address: str, tags: dict[str, str], seen: str) -> None:
        self.tags = tags
        super().__init__(f"no place at {address} has {_said(tags)} (it has: {seen})")


class NoFreePlace(HarnessError, TimeoutError):
    """Places with the wanted tags exist, but none was allocated to us within the wait."""

    def __init__(self, address: str, tags: dict[str, str], waited: float, holders: str) -> None:
        self.tags = tags
        super().__init__(f"no free place at {address} with {_said(tags)} within {waited:g}s (held: {holders})")


def _said(tags: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(tags.items()))


class PlacePool:
    """One worker's place at ``address``: ``get(tags)`` gives a held place's inventory, ``close()`` gives it back."""

    def __init__(self, address: str, command: str = "pytest", wait: float = 600.0,
                 note: Callable[[str], None] | None = None) -> None:
        self.address, self.command, self.wait = address, command, wait
        self.note = note or (lambda line: None)
        self.session: CoordinatorSession | None = None
        self.holder: PlaceHolder | None = None
        self.current: tuple[dict[str, str], str, str, Inventory] | None = None  # tags, place, token, inventory

    def _connect(self) -> CoordinatorSession:
        if self.session is None:
            self.session = CoordinatorSession(self.address).start()
            self.holder = PlaceHolder(self.session, self.command, note=self.note)
        return self.session

    def get(self, tags: dict[str, str]) -> tuple[str, Inventory]:
        """(place name, its one-handset inventory) of a held place with ``tags``; NoSuchPlace, NoFreePlace."""
        if self.current is not None and self.current[0] == tags:
            assert self.holder is not None
            self.holder.check()
            return self.current[1], self.current[3]
        self.give_back()
        session = self._connect()
        assert self.holder is not None
        token, name = session.run(self._reserve(tags), f"reserving a place with {_said(tags)}", self.wait + 30)
        try:
            self.holder.acquire(name, wait=False, reservation=token)
            inventory = session.run(self._read(name), f"reading the resources of place {name}")
        except BaseException:
            self._cancel(token, name)
            raise
        self.current = (dict(tags), name, token, inventory)
        return name, inventory

    async def _reserve(self, tags: dict[str, str]) -> tuple[str, str]:
        from labgrid.remote.common import Reservation
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2

        session = self.session
        assert session is not None
        lg = session.session
        having = [p for p in lg.places.values() if all(p.tags.get(k) == v for k, v in tags.items())]
        if not having:
            seen = "; ".join(f"{p.name} {_said({k: v for k, v in p.tags.items() if not k.startswith('harness_')})}"
                             for p in sorted(lg.places.values(), key=lambda p: p.name)) or "no places"
            raise NoSuchPlace(session.address, tags, seen)
        created = await session.request("CreateReservation", f"reserving a place with {_said(tags)}",
                                        filters={"main": pb2.Reservation.Filter(filter=tags)}, prio=0.0)
        token = created.reservation.token
        deadline = time.monotonic() + self.wait
        said = False
        while True:
            polled = await session.request("PollReservation", "polling the reservation", token=token)
            allocated = Reservation.from_pb2(polled.reservation).allocations.get("main")
            if allocated:
                return token, allocated[0]
            if time.monotonic() >= deadline:
                await session.request("CancelReservation", "cancelling the reservation", token=token)
                holders = ", ".join(f"{p.name} by {holder_of(p)}" for p in having)
                raise NoFreePlace(session.address, tags, self.wait, holders)
            if not said:
                self.note(f"waiting for a place with {_said(tags)}: "
                          + ", ".join(f"{p.name} acquired by {holder_of(p)}" for p in having))
                said = True
            await session.wait_changed(min(1.0, max(0.0, deadline - time.monotonic())))

    async def _read(self, name: str) -> Inventory:
        assert self.session is not None
        lg = self.session.session
        return place_inventory(self.address, lg.places[name], lg.resources)

    def _cancel(self, token: str, name: str) -> None:
        assert self.session is not None and self.holder is not None
        try:
            self.holder.release(name)
        finally:
            self.session.run(self.session.request("CancelReservation", "cancelling the reservation", token=token),
                             "cancelling the reservation")

    def give_back(self) -> None:
        """Release the current place and cancel its reservation (no-op when none is held)."""
        current, self.current = self.current, None
        if current is not None:
            self._cancel(current[2], current[1])

    def close(self) -> None:
        """Give the place back and disconnect."""
        try:
            self.give_back()
        finally:
            holder, session = self.holder, self.session
            self.holder = self.session = None
            let_go(holder, session)
