"""Where the emulated robot's stylus is, moment by moment, in emulated time.

Moves are queued as straight segments, each taking the time its feed rate
(or the axes' rapid rates) allow; the stylus position at any moment is read
off the queue, so a status report between two moves shows the machine
Running part-way. A segment that crosses the glass (``surface_z``) is split
there, so a contact starts or ends exactly when the stylus meets the glass;
a ticker thread walks the segment ends in time and tells listeners of each
contact (down, moves every ``sample`` seconds while touching, up), which is
what the emulated phone later turns into touch events.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

Point = tuple[float, float, float]


@dataclass(frozen=True)
class Contact:
    """The stylus met the glass (down), moved on it (move) or left it (up), at bed position (x, y), time ``at``."""

    kind: str
    x: float
    y: float
    at: float


@dataclass
class Segment:
    start: Point
    end: Point
    t0: float
    t1: float
    feed: float
    then: Callable[[], None] | None = None  # runs when the segment ends (a limit switch hit there)

    def at(self, t: float) -> Point:
        if self.t1 <= self.t0:
            return self.end
        f = min(1.0, max(0.0, (t - self.t0) / (self.t1 - self.t0)))
        x, y, z = (a + (b - a) * f for a, b in zip(self.start, self.end))
        return (x, y, z)


class Motion:
    """The planner and steppers of the emulated robot: a segment queue in emulated time (``clock``)."""

    def __init__(self, position: Point, surface_z: float, clock: Callable[[], float] | None = None,
                 time_scale: float = 1.0, sample: float = 0.02) -> None:
        self.time_scale = time_scale
        self._start = time.monotonic()
        self.clock = clock or (lambda: (time.monotonic() - self._start) * self.time_scale)
        self.surface_z = surface_z
        self.sample = sample
        self.cond = threading.Condition()
        self._queue: deque[Segment] = deque()
        self._rest = position
        self.lowest_z = position[2]
        self._touching = position[2] <= surface_z
        self._listeners: list[Callable[[Contact], None]] = []
        self._stopped = False
        self._begun: Segment | None = None
        # segments gone from the queue whose contacts the listeners have not heard yet: the machine is not done
        # with them (a real stylus has touched and left the glass by the time its controller says Idle)
        self._telling = 0
        self._version = 0  # counts plans and halts: the ticker does not sleep through one
        self._thread = threading.Thread(target=self._tick, name="grbl motion", daemon=True)
        self._thread.start()

    def add_listener(self, listener: Callable[[Contact], None]) -> None:
        """Hear every contact of the stylus with the glass (the hook the emulated phone's touch screen uses)."""
        self._listeners.append(listener)

    def position(self) -> Point:
        """The stylus now."""
        with self.cond:
            now = self.clock()
            for seg in self._queue:
                if seg.t0 <= now < seg.t1:
                    return seg.at(now)
            return self._queue[-1].end if self._queue and self._queue[-1].t1 <= now else (
                self._queue[0].start if self._queue else self._rest)

    def planned_end(self) -> Point:
        """Where the stylus will be once every queued move is done."""
        with self.cond:
            return self._queue[-1].end if self._queue else self._rest

    def busy(self) -> bool:
        with self.cond:
            return bool(self._queue) or self._telling > 0

    def feed_now(self) -> float:
        with self.cond:
            now = self.clock()
            return next((s.feed for s in self._queue if s.t0 <= now < s.t1), 0.0)

    def pending(self) -> int:
        with self.cond:
            return len(self._queue)

    def plan(self, target: Point, duration: float, feed: float, then: Callable[[], None] | None = None) -> None:
        """Queue a straight move to ``target`` taking ``duration`` emulated seconds (split where it meets the glass)."""
        with self.cond:
            start = self._queue[-1].end if self._queue else self._rest
            t0 = max(self.clock(), self._queue[-1].t1 if self._queue else 0.0)
            cuts = [0.0, 1.0]
            dz = target[2] - start[2]
            if dz and (start[2] - self.surface_z) * (target[2] - self.surface_z) < 0:
                cuts.insert(1, (self.surface_z - start[2]) / dz)
            points = [tuple(a + (b - a) * f for a, b in zip(start, target)) for f in cuts]
            for i in range(len(cuts) - 1):
                a, b = points[i], points[i + 1]
                seg = Segment(a, b, t0 + duration * cuts[i], t0 + duration * cuts[i + 1], feed,  # type: ignore[arg-type]
                              then if i == len(cuts) - 2 else None)
                self._queue.append(seg)
            self.lowest_z = min(self.lowest_z, target[2])
            self._version += 1
            self.cond.notify_all()

    def halt(self) -> Point:
        """Stop dead where the stylus is (a reset or a limit switch); the queue is dropped."""
        with self.cond:
            here = self.position()
            self._queue.clear()
            self._rest = here
            self._version += 1
            self.cond.notify_all()
        self._contact(here, self.clock())
        return here

    def wait_done(self, until: Callable[[], bool]) -> bool:
        """Block until the queue is empty (True) or ``until()`` says stop (False)."""
        with self.cond:
            while (self._queue or self._telling) and not until() and not self._stopped:
                left = self._queue[-1].t1 - self.clock() if self._queue else 0.0
                self.cond.wait(self._real_seconds(left) + 0.01)
            return not self._queue and not self._telling

    def sleep(self, seconds: float, until: Callable[[], bool]) -> bool:
        """Let ``seconds`` of emulated time pass (a dwell); False when ``until()`` cut it short."""
        end = self.clock() + seconds
        with self.cond:
            while self.clock() < end and not until() and not self._stopped:
                self.cond.wait(self._real_seconds(end - self.clock()) + 0.001)
            return self.clock() >= end

    def _real_seconds(self, emulated: float) -> float:
        return max(0.0, emulated) / self.time_scale

    def _contact(self, here: Point, at: float, moving: bool = False) -> None:
        touching = here[2] <= self.surface_z + 1e-9
        kind = None
        if touching and not self._touching:
            kind = "down"
        elif self._touching and not touching:
            kind = "up"
        elif touching and moving:
            kind = "move"
        self._touching = touching
        if kind:
            for listener in list(self._listeners):
                listener(Contact(kind, here[0], here[1], at))

    def _begin(self, seg: Segment) -> None:
        if seg is not self._begun:
            self._begun = seg  # a segment's interior is all touching or all clear: the contact starts or ends here
            self._contact(seg.at((seg.t0 + seg.t1) / 2), seg.t0)

    def _tick(self) -> None:
        while True:
            with self.cond:
                if self._stopped:
                    return
                now = self.clock()
                done: list[Segment] = []
                while self._queue and self._queue[0].t1 <= now:
                    done.append(self._queue.popleft())
                if done:
                    self._rest = done[-1].end
                    self._telling += 1
                current = self._queue[0] if self._queue and self._queue[0].t0 <= now else None
                upcoming = self._queue[0].t0 if self._queue else None
                version = self._version
            try:
                for seg in done:
                    self._begin(seg)
                    self._contact(seg.end, seg.t1, moving=seg.start[:2] != seg.end[:2])
                    if seg.then is not None:
                        seg.then()
            finally:
                if done:
                    with self.cond:
                        self._telling -= 1
                        self.cond.notify_all()
            if current is not None:
                self._begin(current)
                if self._touching and current.start[:2] != current.end[:2]:
                    self._contact(current.at(now), now, moving=True)
                wait = min(self.sample, current.t1 - now)
            else:
                wait = 0.5 if upcoming is None else min(0.5, upcoming - now)
            with self.cond:
                if not self._stopped and version == self._version:
                    self.cond.wait(self._real_seconds(wait) + 0.001)

    def stop(self) -> None:
        with self.cond:
            self._stopped = True
            self.cond.notify_all()
        self._thread.join(timeout=2)
