"""One handset as the live view sees it: its frames, what screen it shows, its console and modem, and who drives it.

Watching takes no lease: a rack's overview shows every handset without
getting in the way of a test run. Driving (taps, swipes, text, keys, the
modem) needs the handset's lease, taken when a person chooses to drive it
(``drive``), or from the start for ``harness view --handset/--device``. All
calls on the handset go through one lock, so the grabber's screenshots and a
person's taps never interleave on one connection.
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from harness.errors import HarnessError
from harness.handset import KEYCODES
from harness.secrets import Secret
from harness.serial_log import mask
from harness.view.frames import Frame, FrameSource

if TYPE_CHECKING:
    from harness.handsets import OpenedHandset
    from harness.lab.chosen import ChosenHandset
    from harness.vision import ScreenLibrary

#: How many console lines a viewer sees.
CONSOLE_LINES = 200


class NotDriving(HarnessError):
    """A tap, swipe, text or key on a handset this view watches but does not drive (no lease taken)."""


class Station:
    """A handset of the view: ``opener`` opens it (no lease), ``chosen`` leases it when a person drives it.

    ``driving`` from the start for ``harness view --handset URI`` (a bare URI has no lease) and ``--device``.
    """

    def __init__(self, name: str, uri: str, opener: Callable[[], "OpenedHandset"], chosen: "ChosenHandset | None",
                 library: Callable[[], "ScreenLibrary"], driving: bool = False) -> None:
        self.name, self.uri = name, uri
        self._opener = opener
        self.chosen = chosen
        self._library = library
        self.driving = driving
        self._lock = threading.RLock()        # one call on the handset at a time
        self._open_lock = threading.Lock()
        self._seen_lock = threading.Lock()
        self.opened: "OpenedHandset | None" = None
        self.frames = FrameSource(self._screenshot, name, stream=self._stream)
        self._seen: tuple[int, dict[str, Any]] = (-1, {})   # (frame changes, what vision said of that frame)
        self.console: Any = None
        self.console_note = ""

    # -- the handset ---------------------------------------------------------------------------------------------
    def open(self) -> "OpenedHandset":
        """Open the handset once (later calls return it); the console too when its port is known and we drive."""
        with self._open_lock:
            if self.opened is None:
                self.opened = self._opener()
                if self.driving:
                    self._start_console()
            return self.opened

    def _screenshot(self) -> Any:
        opened = self.open()
        with self._lock:
            return opened.handset.screenshot().copy()  # the driver may reuse its buffer for the next screenshot

    def _stream(self, height: int | None) -> tuple[Any, tuple[int, int]] | None:
        """The handset's own frame stream at most ``height`` pixels high, with its screen size (None: it has none)."""
        handset = self.open().handset
        with self._lock:
            stream = handset.screen_stream(height)
            return None if stream is None else (stream, (handset.info.width, handset.info.height))

    def snapshot(self, max_age: float) -> Any:
        """The screen at its own size, seen no longer than ``max_age`` seconds ago: the newest live frame when it is
        full size and that recent (a live stream vouches for a still screen), else a screenshot taken now."""
        frame = self.frames.latest
        if frame is not None and frame.full and time.time() - max(frame.taken, self.frames.confirmed) <= max_age:
            return frame.image
        image = self._screenshot()
        self.frames.offer(image)   # the newest frame when nobody watches (the rack's thumbnails and vision)
        return image

    def close(self) -> None:
        """Stop the grabber, the console, the handset (and an emulator the view started), and give back the lease."""
        self.frames.close()
        if self.console is not None:
            self.console.close()
        if self.opened is not None:
            self.opened.close()
        if self.chosen is not None:
            self.chosen.release()

    # -- driving ---------------------------------------------------------------------------------------------------
    def holder(self) -> str | None:
        """Who holds the handset's lease now, in one line (None: free or not a rack handset)."""
        if self.chosen is None or self.chosen.inventory is None or self.chosen.entry is None:
            return None
        if self.chosen.lease is not None:
            return "this view"
        from harness.lab.leases import holder_of, lease_key

        held = holder_of(lease_key(self.chosen.entry, self.chosen.inventory))
        return held.describe() if held is not None else None

    def drive(self) -> None:
        """Take the handset's lease now (fails at once naming the holder), and start reading its console."""
        if self.driving:
            return
        if self.chosen is not None:
            self.chosen.wait = False
            self.chosen.take_lease()
        self.driving = True
        if self.opened is not None:
            self._start_console()

    def _need_driving(self) -> Any:
        if not self.driving:
            raise NotDriving(f"{self.name} is watched, not driven: choose 'drive' first (takes its lease)")
        return self.open().handset

    def tap(self, x: int, y: int) -> None:
        handset = self._need_driving()
        with self._lock:
            handset.tap(x, y)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, ms: int) -> None:
        handset = self._need_driving()
        with self._lock:
            handset.swipe(x1, y1, x2, y2, ms)

    def text(self, text: str) -> None:
        """Type what a person typed; it may be a password, so it travels as a Secret (masked in every error)."""
        handset = self._need_driving()
        with self._lock:
            handset.text(Secret(text, registered=False))

    def key(self, name: str) -> None:
        if name not in KEYCODES:
            raise HarnessError(f"unknown key {name!r} (known: {', '.join(KEYCODES)})")
        handset = self._need_driving()
        with self._lock:
            handset.key(name)

    # -- what the screen shows ---------------------------------------------------------------------------------
    def seen(self, frame: Frame | None = None) -> dict[str, Any]:
        """The recognised screen of the newest frame: ``screen`` (None: unknown), ``score``, ``targets`` as boxes
        in device pixels; computed once per change of the screen, whoever asks."""
        frame = frame or self.frames.latest
        if frame is None:
            return {"screen": None, "score": 0.0, "targets": [], "why": "no frame yet"}
        with self._seen_lock:
            if self._seen[0] == frame.changes:
                return self._seen[1]
            library = self._library()
            scale = self.opened.profile.scale if self.opened is not None and self.opened.profile is not None else None
            # vision needs the screen's own pixels: a frame the phone scaled down is looked at again, full size
            image = frame.image if frame.full else self._screenshot()
            rec, guess = library.classify(image, scale)
            if rec is None:
                said: dict[str, Any] = {"screen": None, "score": round(guess.score, 3), "targets": [], "why": guess.why()}
            else:  # each list item where a tap lands (its row read by OCR, as harness match and find_target do)
                from harness.vision.recognition import confirm_list_items

                confirm_list_items(rec)
                said = {"screen": rec.screen, "score": round(rec.score, 3), "targets": _boxes(rec)}
            said["frame"] = frame.seq
            self._seen = (frame.changes, said)
            return said

    # -- serial peers ----------------------------------------------------------------------------------------------
    def _port(self, field: str) -> str | None:
        if self.chosen is not None and self.chosen.entry is not None and getattr(self.chosen.entry, field, None):
            return self.chosen.port(field, None)
        if self.opened is not None and isinstance(self.opened.endpoints.get(field), str):
            return str(self.opened.endpoints[field])
        return None

    def _start_console(self) -> None:
        url = self._port("console")
        if url is None or self.console is not None:
            self.console_note = "" if url else "no console port for this handset"
            return
        from harness.console import SerialConsole, console_port

        try:
            self.console = SerialConsole(console_port(url, self.opened.profile if self.opened else None)).open()
        except HarnessError as exc:
            self.console_note = f"console: {exc}"

    def console_tail(self, n: int = CONSOLE_LINES) -> list[str]:
        """The console's newest lines, masked as its log is (secrets, code-shaped digit runs)."""
        return self.console.tail(n) if self.console is not None else []

    def messages(self, timeout: float = 20.0) -> list[dict[str, Any]]:
        """What the modem holds, access codes masked (as ``harness sms`` shows them); needs the lease."""
        self._need_driving()
        url = self._port("modem")
        if url is None:
            raise HarnessError(f"{self.name}: no modem port for this handset")
        from harness.modem import GsmModem
        from harness.modem.modem import DEFAULT_CODE_PATTERN
        from harness.modem.options import driver_options
        from harness.serial_port import SerialPort

        entry = self.chosen.entry if self.chosen is not None else None
        code = re.compile(DEFAULT_CODE_PATTERN)
        options = driver_options(getattr(entry, "modem_mode", None), getattr(entry, "modem_profile", None))
        with GsmModem(SerialPort(url), **options) as modem:
            found = modem.list_messages(timeout=timeout)
        return [{"sender": mask(m.sender, plain=True), "when": m.timestamp.isoformat() if m.timestamp else "",
                 "parts": m.parts, "text": mask(code.sub(lambda c: "•" * len(c.group(0)), " ".join(m.body.splitlines())))}
                for m in found]

    def state(self) -> dict[str, Any]:
        """What the handset page polls: the screen vision sees, who holds the lease, the console, the frame count."""
        frame = self.frames.latest
        return {"name": self.name, "uri": self.uri, "driving": self.driving, "holder": self.holder(),
                "frame": frame.seq if frame else 0, "width": frame.width if frame else 0,
                "height": frame.height if frame else 0, "grabs": self.frames.grabs, "error": self.frames.error,
                "source": self.frames.mode,
                "console": self.console_tail(), "console_note": self.console_note, "seen": self.seen(frame),
                "time": time.time()}


def _boxes(rec: Any) -> list[dict[str, Any]]:
    """The recognised screen's targets as boxes (device pixels): the target's recorded region around where a tap on it
    lands (a list item's where its label is read, ``confirm_list_items``)."""
    boxes = []
    definition = rec.definition
    by_name = {t.name: t for t in definition.targets} if definition is not None else {}
    for name, (x, y) in rec.targets.items():
        t = by_name.get(name)
        if t is not None and definition is not None:   # the target's recorded region, centred where it was found
            k = rec.scale / definition.scale     # recorded pixels -> this frame's pixels
            w, h = t.region.w * k, t.region.h * k
            cx, cy = x - t.offset[0] * k, y - t.offset[1] * k
        else:
            w = h = 48 * rec.scale
            cx, cy = x, y
        boxes.append({"name": name, "tap": [round(x), round(y)],
                      "box": [round(cx - w / 2), round(cy - h / 2), round(w), round(h)]})
    return boxes
