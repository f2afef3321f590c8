"""An emulated GRBL 1.1 controller of a 3-axis tapping robot, on a pty, written from GRBL's documentation
and checked against the firmware itself (GRBL 1.1h in grbl-sim; docs/camera-robot.md says how).

It behaves as the firmware does with homing enabled: it starts in Alarm,
announcing ``Grbl 1.1h ['$' for help]`` and ``[MSG:'$H'|'$X' to unlock]``,
and locks g-code out (``error:9``) until ``$H`` homes it or ``$X`` unlocks
it. A line is read as GRBL reads it (spaces, comments and control bytes
dropped, upper-cased, 79 characters kept: ``error:11`` past that) and
answered ``ok`` once planned (G4 and M2 after the moves before them). ``?``
is answered at once with ``<State|MPos:x,y,z|FS:feed,speed>``, WCO and Ov
every tenth report (every thirtieth and twentieth while moving), as ``$10``
asks. A target past the travel (``$130``-``$132``, the box ``-travel..0``
after homing) raises ``ALARM:2``; a move that runs into the machine's end
(possible only when it was unlocked without homing) trips a limit switch:
``ALARM:1``. After either, as GRBL does, nothing is heard, not even ``?``,
until a soft reset (ctrl-x). A line cut short by a reset is answered ``ok``
before the banner, as the firmware does.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Any, Callable

from harness.emulator.bench import bench_of
from harness.emulator.grbl_gcode import GcodeError, Modal, parse_block
from harness.emulator.grbl_motion import Contact, Motion, Point
from harness.emulator.grbl_system import DEFAULT_SETTINGS, GrblSystem
from harness.emulator.pty_port import PtyPort
from harness.emulator.stylus_touch import StylusTouches
from harness.emulator.transport_service import CommandHandler, takes

BANNER = "\r\nGrbl 1.1h ['$' for help]\r\n"
LOCKED = "[MSG:'$H'|'$X' to unlock]\r\n"
#: GRBL's line buffer is 80 bytes with its terminating zero: 79 characters are kept.
LINE_BUFFER = 80
#: How many planner blocks the emulated GRBL holds (GRBL's BLOCK_BUFFER_SIZE on an Uno) and its RX buffer.
PLANNER_BLOCKS = 16
RX_BUFFER = 128
#: Contacts of the stylus with the glass kept for ``robot_contacts``.
CONTACT_LOG = 512
#: Reports between two WCO fields and two Ov fields: (idle, moving), as GRBL's default build.
WCO_EVERY = (10, 30)
OV_EVERY = (10, 20)


class EmulatedGrbl(GrblSystem):
    """The controller: line intake and real-time bytes (pty thread), one worker running lines, the motion.

    ``start_at`` is where the stylus physically is at power-up, in the frame
    homing establishes; ``surface_z`` is the glass's height in that frame.
    """

    def __init__(self, start_at: Point = (-75.0, -100.0, -10.0), surface_z: float = -40.0,
                 settings: dict[int, float] | None = None, time_scale: float = 1.0) -> None:
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.motion = Motion(start_at, surface_z, time_scale=time_scale)
        self.port = PtyPort("robot", self._on_data)
        self.offset: Point = tuple(-v for v in start_at)  # type: ignore[assignment]  # MPos = physical + offset
        self.state = "Alarm" if self.settings[22] else "Idle"
        self.modal = Modal()
        self.muted = False       # fault: the controller stops answering (a crashed or unplugged board)
        self.lines: list[str] = []  # every line received, for tests that ask what reached the robot
        self.alarms: list[int] = []
        self._raw = bytearray()
        self._flags = ""         # intake: "(" in a comment, ";" in a comment to the line's end, "!" overflowed
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.RLock()  # answers and resets: a line is answered once, before or by the reset
        self._epoch = 0          # bumped by a soft reset: a line in progress gives up
        self._in_line = False    # a line taken and not answered yet (a reset answers it ``ok``)
        self._after: Callable[[], None] | None = None  # what a line does after its answer ($C leaving: a reset)
        self._halted = threading.Event()  # a critical alarm: only a reset gets out
        self._wco_in = self._ov_in = 0  # reports until the next WCO and Ov fields
        self._worker = threading.Thread(target=self._work, name="grbl lines", daemon=True)
        self.contacts: deque[Contact] = deque(maxlen=CONTACT_LOG)  # the latest, for the control socket
        self.motion.add_listener(self.contacts.append)
        self.extra_commands: dict[str, CommandHandler] = {}  # what listeners of its contacts add (robot_touches)

    # ---------------------------------------------------------------- transport service
    def start(self) -> dict[str, Any]:
        path = self.port.start()
        self._worker.start()
        self._announce()
        return {"robot": path}

    def stop(self) -> None:
        self._lines.put(None)
        self.port.stop()
        self.motion.stop()
        self._worker.join(timeout=2)

    def commands(self) -> dict[str, CommandHandler]:
        def fault(req: dict[str, Any]) -> dict[str, Any]:
            kind = str(req["kind"])
            if kind not in ("mute", "limit", "clear"):
                raise ValueError(f"unknown robot fault {kind!r} (mute, limit, clear)")
            self.muted = kind == "mute"
            if kind == "limit":
                self._alarm(1)
            return {"muted": self.muted, "state": self.state}

        return {"robot_state": takes("")(lambda req: {"state": self.state, "mpos": self.machine_position(),
                                                      "stylus": self.motion.position(), "alarms": self.alarms,
                                                      "lowest_z": self.motion.lowest_z}),
                "robot_fault": takes("kind=mute|limit|clear")(fault),
                "robot_contacts": takes("[n=100]")(lambda req: {"contacts": [
                    {"kind": c.kind, "x": round(c.x, 3), "y": round(c.y, 3), "at": round(c.at, 3)}
                    for c in list(self.contacts)[-int(req.get("n", 100)):]]}), **self.extra_commands}

    def add_contact_listener(self, listener: Callable[[Contact], None]) -> None:
        """Hear the stylus touch, move on and leave the glass (for the emulated phone's touch screen)."""
        self.motion.add_listener(listener)

    # ---------------------------------------------------------------- what it says
    def _write(self, text: str) -> None:
        if not self.muted:
            self.port.write(text.encode("ascii"))

    def _announce(self) -> None:
        self._write(BANNER)
        if self.state == "Alarm":
            self._write(LOCKED)

    def machine_position(self) -> Point:
        x, y, z = (p + o for p, o in zip(self.motion.position(), self.offset))
        return (x, y, z)

    def _state_now(self) -> str:
        if self.state in ("Alarm", "Home", "Check"):
            return self.state
        return "Run" if self.motion.busy() else "Idle"

    def report(self) -> str:
        """The real-time status report as ``$10`` asks (bit 0: MPos, else WPos; bit 1: Bf), in mm or inches (``$13``)."""
        state = self._state_now()
        mask, inches = int(self.settings[10]), bool(self.settings[13])
        moving = state in ("Run", "Home")
        position = ",".join(f"{v / 25.4:.4f}" if inches else f"{v:.3f}" for v in self.machine_position())
        zero = ",".join(["0.0000" if inches else "0.000"] * 3)  # no work offsets: WPos is MPos
        parts = [state, f"{'MPos' if mask & 1 else 'WPos'}:{position}"]
        if mask & 2:
            parts.append(f"Bf:{PLANNER_BLOCKS - 1 - self.motion.pending()},{RX_BUFFER - len(self._raw)}")
        speed = self.modal.speed if self.modal.spindle in (3, 4) else 0.0
        parts.append(f"FS:{self.motion.feed_now() / (25.4 if inches else 1):.{1 if inches else 0}f},{speed:.0f}")
        if self._wco_in:
            self._wco_in -= 1
        else:
            self._wco_in = WCO_EVERY[moving] - 1
            self._ov_in = self._ov_in or 1  # GRBL puts Ov on the report after a WCO one
            parts.append(f"WCO:{zero}")
        if self._ov_in:
            self._ov_in -= 1
        else:
            self._ov_in = OV_EVERY[moving] - 1
            parts.append("Ov:100,100,100")
            accessories = {3: "S", 4: "C"}.get(self.modal.spindle, "") + ("F" if self.modal.coolant == 8 else "")
            if accessories:
                parts.append(f"A:{accessories}")
        return "<" + "|".join(parts) + ">\r\n"

    # ---------------------------------------------------------------- intake (the pty's thread)
    def _on_data(self, data: bytes) -> None:
        for byte in data:
            if self.muted:
                continue
            if byte == ord("?"):
                if not self._halted.is_set():  # a limit alarm holds the firmware in a loop that answers nothing
                    self._write(self.report())
            elif byte == 0x18:
                self._soft_reset()
            elif byte in (ord("!"), ord("~")) or byte >= 0x80:
                continue  # feed hold, cycle start and the extended overrides: not emulated
            elif byte in (ord("\n"), ord("\r")):
                self._lines.put("\x00overflow" if "!" in self._flags else self._raw.decode("ascii"))
                self._raw.clear()
                self._flags = ""
            else:
                self._take(byte)

    def _take(self, byte: int) -> None:
        """One character of a line, kept or dropped as GRBL's intake does."""
        if self._flags:
            if byte == ord(")"):
                self._flags = self._flags.replace("(", "")
        elif byte <= ord(" ") or byte == ord("/"):
            pass  # spaces, control bytes and block delete are dropped
        elif byte == ord("("):
            self._flags = "("
        elif byte == ord(";"):
            self._flags = ";"
        elif len(self._raw) >= LINE_BUFFER - 1:
            self._flags = "!"
        else:
            self._raw.append(byte - 32 if ord("a") <= byte <= ord("z") else byte)

    def _soft_reset(self) -> None:
        """Ctrl-x: stop, forget the lines not run yet, answer the one in progress ``ok``, greet again."""
        with self._lock:
            self._epoch += 1
            owed, self._in_line = self._in_line, False
            code = 6 if self.state == "Home" else 3 if self.motion.busy() else None
            self.motion.halt()
            while not self._lines.empty():
                try:
                    self._lines.get_nowait()
                except queue.Empty:
                    break
            self._raw.clear()
            self._flags = ""
            self.modal = Modal()
            self._wco_in = self._ov_in = 0
            if code is not None:  # a reset during a cycle loses the position (3), during homing fails it (6)
                self.alarms.append(code)
                self._write(f"ALARM:{code}\r\n")
                self.state = "Alarm"
            elif self.state == "Check":
                self.state = "Idle"
            if owed:
                self._write("ok\r\n")
            self._halted.clear()
            self._announce()

    def _alarm(self, code: int) -> None:
        """Stop, report ``ALARM:code``; limits (1, 2) block everything, ``?`` too, until a reset, as GRBL does."""
        with self._lock:
            self.motion.halt()
            self.state = "Alarm"
            self.alarms.append(code)
            self._write(f"ALARM:{code}\r\n")
            if code in (1, 2):
                self._write("[MSG:Reset to continue]\r\n")
                self._halted.set()

    # ---------------------------------------------------------------- the worker
    def _work(self) -> None:
        while True:
            line = self._lines.get()
            if line is None:
                return
            with self._lock:
                if self._halted.is_set():
                    continue  # heard by no one: the reset that ends the halt clears it
                epoch = self._epoch
                self._in_line = True
            self.lines.append(line)
            answer = self._run(line, lambda: self._epoch != epoch)
            with self._lock:
                if self._epoch != epoch or self._halted.is_set():
                    continue  # the reset answered it, or will
                self._in_line = False
                if answer is not None:
                    self._write(answer + "\r\n")
                after, self._after = self._after, None
                if after is not None:
                    after()

    def _run(self, line: str, cancelled: Callable[[], bool]) -> str | None:
        if line == "\x00overflow":
            return "error:11"
        if not line:
            return "ok"
        if line.startswith("$"):
            return self._system(line, cancelled)
        if self.state == "Alarm":
            return "error:9"
        try:
            block = parse_block(line, self.modal)
        except GcodeError as exc:
            return f"error:{exc.code}"
        if self.state == "Check":
            return "ok"  # parsed, not run
        if block.dwell is not None:
            if not self.motion.wait_done(cancelled) or not self.motion.sleep(block.dwell, cancelled):
                return None
        if block.axes:
            answer = self._move(block.axes, block.motion == 0, block.machine, cancelled)
            if answer != "ok":
                return answer
        if block.program_end:
            if not self.motion.wait_done(cancelled):
                return None
            self._write("[MSG:Pgm End]\r\n")
        return "ok"

    def _move(self, axes: dict[str, float], rapid: bool, machine: bool, cancelled: Callable[[], bool]) -> str | None:
        while self.motion.pending() >= PLANNER_BLOCKS - 1 and not cancelled():  # ok waits for room in the planner
            with self.motion.cond:
                self.motion.cond.wait(0.05)
        if cancelled():
            return None  # a reset while the line waited for room: the reset answers it
        here = self._planned_mpos()
        target = tuple((here[i] + axes[a]) if (self.modal.incremental and not machine and a in axes)
                       else axes.get(a, here[i]) for i, a in enumerate("XYZ"))
        travel = [self.settings[130 + i] for i in range(3)]
        if self.settings[20] and any(not -t <= v <= 0 for v, t in zip(target, travel)):
            self._alarm(2)
            return None
        rates = [self.settings[110 + i] for i in range(3)]
        deltas = [abs(b - a) for a, b in zip(here, target)]
        distance = sum(d * d for d in deltas) ** 0.5
        slowest = max((d / r for d, r in zip(deltas, rates)), default=0.0) * 60
        feed = min(self.modal.feed or 0.0, min(rates)) if not rapid else min(rates)
        seconds = max(slowest, distance / feed * 60 if not rapid and feed else 0.0)
        physical = tuple(v - o for v, o in zip(target, self.offset))
        start = tuple(v - o for v, o in zip(here, self.offset))
        then = None
        if self.settings[21]:  # hard limits: the switches sit at the ends of the physical travel
            f = _fraction_inside(start, physical, travel)  # type: ignore[arg-type]
            if f < 1.0:
                physical = tuple(a + (b - a) * f for a, b in zip(start, physical))
                seconds *= f
                then = lambda: self._alarm(1)  # noqa: E731
        self.motion.plan(physical, seconds, 0.0 if not distance or not seconds else distance / seconds * 60, then)  # type: ignore[arg-type]
        return "ok"

    def _planned_mpos(self) -> Point:
        x, y, z = (p + o for p, o in zip(self.motion.planned_end(), self.offset))
        return (x, y, z)

    def _home(self, cancelled: Callable[[], bool]) -> str | None:
        """Z up to its switch first, then X and Y, at the seek rate; then pull off: MPos is -pull-off on each axis."""
        self.state = "Home"
        seek, pull = self.settings[25], self.settings[27]
        here = self.motion.position()
        steps = [(here[0], here[1], 0.0), (0.0, 0.0, 0.0), (-pull, -pull, -pull)]
        for target in steps:
            start = self.motion.planned_end()
            distance = sum((b - a) ** 2 for a, b in zip(start, target)) ** 0.5
            self.motion.plan(target, distance / seek * 60, seek)
        if not self.motion.wait_done(cancelled):
            return None
        self.offset = (0.0, 0.0, 0.0)
        self.state = "Idle"
        return "ok"


def _fraction_inside(start: tuple[float, ...], end: tuple[float, ...], travel: list[float]) -> float:
    """How far along start->end the stylus stays inside the physical travel ``-t..0`` (1.0: all the way)."""
    f = 1.0
    for a, b, t in zip(start, end, travel):
        for limit, past in ((0.0, b > 0.0), (-t, b < -t)):
            if past:
                f = min(f, max(0.0, (limit - a) / (b - a)) if b != a else 0.0)
    return f


def robot_service(phone: Any, options: dict[str, Any]) -> EmulatedGrbl | None:
    """The robot, when ``harness emulate --robot`` asks for one (options ``robot``, ``robot_time_scale``), over the
    phone's bench (``bench_seed``): the glass is where the phone lies, and the camera sees the stylus."""
    if not options.get("robot"):
        return None
    bench = bench_of(phone, options)
    robot = EmulatedGrbl(surface_z=bench.glass_z, time_scale=float(options.get("robot_time_scale", 1.0)))
    bench.stylus = robot.motion.position
    touches = StylusTouches(phone, bench)  # the stylus on the glass or a key is the phone's own touch
    robot.add_contact_listener(touches.on_contact)
    robot.extra_commands.update(touches.commands())
    return robot
