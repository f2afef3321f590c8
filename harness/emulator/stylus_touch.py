"""The emulated phone's touch screen and capacitive keys under the robot's stylus.

The robot's motion tells each contact of the stylus with the glass (down,
moves, up, in bed millimetres and emulated seconds); this module follows one
contact from down to up and, when it ends, turns its path into what the
phone's digitiser would have reported: a tap, a long press, a swipe, or a
capacitive key (back, start, search) when it began on a key's pad. Points
are mapped through the phone's placement on the bed (``Bench``), which the
harness does not know: it must calibrate to land where it means to.

Each touch is kept (``robot_touches`` on the control socket, behind its
token) with where it landed in screen pixels, so tests can measure the
accuracy of a calibration without asking the emulator where anything is.
``touch_fault kind=drop after=N [keyboard=1]`` makes the phone miss one tap,
the N+1th from now (with ``keyboard=1``: of the taps made while its on-screen
keyboard is up), as a real digitiser misses a light or short touch: a test of
what the harness does when a key it typed did not register.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from harness.emulator.bench import Bench
from harness.emulator.grbl_motion import Contact
from harness.emulator.transport_service import CommandHandler, takes

#: A contact that wanders less than this (view pixels, as the phone's own tap slop) stays a tap.
TAP_SLOP_VIEW = 10.0
#: A contact held at least this long (seconds) without moving is a long press.
LONG_PRESS_S = 0.8
#: Android key codes the phone's ``keyevent`` takes, for the capacitive keys.
KEY_CODES = {"back": 4, "start": 3, "search": 84}
#: Touches kept for the control socket.
TOUCH_LOG = 512


@dataclass(frozen=True)
class Touch:
    """One finished contact as the phone saw it: ``kind`` tap, long_press, swipe, key or none (off screen and keys)."""

    kind: str
    x: float          # where it began, screen px (past the edges when off the screen)
    y: float
    to_x: float       # where it ended
    to_y: float
    seconds: float    # from down to up, emulated
    key: str = ""
    at: float = 0.0


class StylusTouches:
    """Follows contacts and hands each finished one to the phone (``tap``, ``swipe``, ``keyevent``)."""

    def __init__(self, phone: Any, bench: Bench) -> None:
        self.phone = phone
        self.bench = bench
        self.touches: deque[Touch] = deque(maxlen=TOUCH_LOG)
        self._path: list[Contact] = []
        self._lock = threading.Lock()
        self._drop_in: int | None = None  # taps to let through before one is missed (touch_fault)
        self._drop_keys_only = False       # ... counting only taps while the on-screen keyboard is up

    def on_contact(self, contact: Contact) -> None:
        """The robot's contact listener (its motion thread): gather the path, act when the stylus lifts."""
        with self._lock:
            if contact.kind == "down":
                self._path = [contact]
                return
            if not self._path:
                return  # a contact that began before we listened
            self._path.append(contact)
            if contact.kind != "up":
                return
            path, self._path = self._path, []
        touch = self._classify(path)
        if touch.kind == "tap" and self._missed():
            touch = Touch("missed", touch.x, touch.y, touch.to_x, touch.to_y, touch.seconds, "", touch.at)
        self.touches.append(touch)
        self._deliver(touch)

    def _missed(self) -> bool:
        """Whether this tap is the one ``touch_fault`` said to miss."""
        with self._lock:
            if self._drop_in is None:
                return False
            if self._drop_keys_only and not getattr(getattr(self.phone.ui, "keyboard", None), "up", False):
                return False
            if self._drop_in > 0:
                self._drop_in -= 1
                return False
            self._drop_in = None
            return True

    def _classify(self, path: list[Contact]) -> Touch:
        first, last = path[0], path[-1]
        x, y = self.bench.screen_px(first.x, first.y)
        tx, ty = self.bench.screen_px(last.x, last.y)
        seconds = last.at - first.at
        key = self.bench.key_at(first.x, first.y)
        scale = self.phone.profile.scale
        wander = max(math.hypot(*(a - b for a, b in zip(self.bench.screen_px(c.x, c.y), (x, y)))) for c in path) / scale
        if key is not None:
            kind = "key"
        elif not self.bench.on_screen(x, y) or not self.bench.on_body(first.x, first.y):
            kind = "none"
        elif wander >= TAP_SLOP_VIEW:
            kind = "swipe"
        else:
            kind = "long_press" if seconds >= LONG_PRESS_S else "tap"
        return Touch(kind, x, y, tx, ty, seconds, key or "", first.at)

    def _deliver(self, touch: Touch) -> None:
        if touch.kind == "key":
            self.phone.keyevent(KEY_CODES[touch.key])
        elif touch.kind in ("tap", "long_press"):
            # a Windows Phone button fires when the finger lifts, however long it was held
            self.phone.tap(touch.x, touch.y)
        elif touch.kind == "swipe":
            w, h = self.bench.body.px_w, self.bench.body.px_h
            to_x, to_y = min(max(touch.to_x, 0.0), w - 1.0), min(max(touch.to_y, 0.0), h - 1.0)
            self.phone.swipe(touch.x, touch.y, to_x, to_y, duration_ms=max(1, round(touch.seconds * 1000)))

    def commands(self) -> dict[str, CommandHandler]:
        def recent(req: dict[str, Any]) -> dict[str, Any]:
            n = int(req.get("n", 100))
            return {"touches": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(t).items()}
                                for t in list(self.touches)[-n:]]}

        def fault(req: dict[str, Any]) -> dict[str, Any]:
            kind = str(req["kind"])
            if kind not in ("drop", "clear"):
                raise ValueError(f"unknown touch fault {kind!r} (drop, clear)")
            after = int(req.get("after", 0))
            if after < 0:
                raise ValueError(f"after={after}: taps to let through first, 0 or more")
            with self._lock:
                self._drop_in = after if kind == "drop" else None
                self._drop_keys_only = str(req.get("keyboard", "0")).lower() in ("1", "true", "yes")
            return {"drop_in": self._drop_in, "keyboard": self._drop_keys_only}

        return {"robot_touches": takes("[n=100]")(recent),
                "touch_fault": takes("kind=drop|clear [after=0] [keyboard=0|1]")(fault)}
