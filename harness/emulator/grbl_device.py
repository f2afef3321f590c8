"""An emulated GRBL 1.1 controller of a 3-axis tapping robot, on a pty, written from GRBL's documentation.

It behaves as the firmware does with homing enabled: it starts (and comes
back from a soft reset) in Alarm, announcing ``Grbl 1.1h ['$' for help]``
and ``[MSG:'$H'|'$X' to unlock]``, and locks g-code out (``error:9``) until
``$H`` homes it or ``$X`` unlocks it. Lines are answered ``ok`` once
planned (G4 answers after the moves before it and its dwell); ``?`` is
answered at once with ``<State|MPos:x,y,z|FS:feed,0>``. A target past the
travel (``$130``-``$132``, the box ``-travel..0`` after homing) raises
``ALARM:2`` and, as GRBL does for a limit, holds everything until a soft
reset (ctrl-x); a move that runs into the machine's end (possible only
when it was unlocked without homing) trips a limit switch: ``ALARM:1``.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Any, Callable

from harness.emulator.bench import bench_of
from harness.emulator.grbl_gcode import GcodeError, Modal, parse_block
from harness.emulator.grbl_motion import Contact, Motion, Point
from harness.emulator.pty_port import PtyPort
from harness.emulator.stylus_touch import StylusTouches
from harness.emulator.transport_service import CommandHandler, takes

BANNER = "\r\nGrbl 1.1h ['$' for help]\r\n"
LOCKED = "[MSG:'$H'|'$X' to unlock]\r\n"
LINE_BUFFER = 80
#: Contacts of the stylus with the glass kept for ``robot_contacts``.
CONTACT_LOG = 512
#: A desk tapping robot's settings: mm/rev, rates (mm/min), accelerations, max travel (mm).
DEFAULT_SETTINGS: dict[int, float] = {
    0: 10, 1: 25, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 10: 1, 11: 0.010, 12: 0.002, 13: 0, 20: 1, 21: 1, 22: 1, 23: 0,
    24: 600.0, 25: 6000.0, 26: 250, 27: 1.0, 30: 1000, 31: 0, 32: 0, 100: 80.0, 101: 80.0, 102: 400.0,
    110: 12000.0, 111: 12000.0, 112: 6000.0, 120: 1000.0, 121: 1000.0, 122: 500.0, 130: 150.0, 131: 200.0, 132: 50.0}
_INTEGER = {0, 1, 2, 3, 4, 5, 6, 10, 13, 20, 21, 22, 23, 26, 30, 31, 32}


def _setting(number: int, value: float) -> str:
    return f"${number}={int(value)}" if number in _INTEGER else f"${number}={value:.3f}"


class EmulatedGrbl:
    """The controller: line intake and real-time bytes (pty thread), one worker running lines, the motion.

    ``start_at`` is where the stylus physically is at power-up, in the frame
    homing establishes; ``surface_z`` is the glass's height in that frame.
    """

    def __init__(self, start_at: Point = (-75.0, -100.0, -10.0), surface_z: float = -40.0,
                 settings: dict[int, float] | None = None, time_scale: float = 1.0) -> None:
        self.settings = dict(DEFAULT_SETTINGS, **(settings or {}))
        self.motion = Motion(start_at, surface_z, time_scale=time_scale)
        self.port = PtyPort("robot", self._on_data)
        self.offset: Point = tuple(-v for v in start_at)  # type: ignore[assignment]  # MPos = physical + offset
        self.state = "Alarm" if self.settings[22] else "Idle"
        self.modal = Modal()
        self.muted = False       # fault: the controller stops answering (a crashed or unplugged board)
        self.lines: list[str] = []  # every line received, for tests that ask what reached the robot
        self.alarms: list[int] = []
        self._raw = bytearray()
        self._overflow = False
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._epoch = 0          # bumped by a soft reset: a line in progress gives up
        self._halted = threading.Event()  # a critical alarm: only a reset gets out
        self._reports = 0
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
        if self.state in ("Alarm", "Home"):
            return self.state
        return "Run" if self.motion.busy() else "Idle"

    def report(self) -> str:
        """The real-time status report, as ``$10=1`` asks: machine position, feed and speed; WCO now and then."""
        x, y, z = self.machine_position()
        self._reports += 1
        wco = "|WCO:0.000,0.000,0.000" if self._reports % 10 == 1 else ""
        return f"<{self._state_now()}|MPos:{x:.3f},{y:.3f},{z:.3f}|FS:{self.motion.feed_now():.0f},0{wco}>\r\n"

    # ---------------------------------------------------------------- intake (the pty's thread)
    def _on_data(self, data: bytes) -> None:
        for byte in data:
            if self.muted:
                continue
            if byte == ord("?"):
                self._write(self.report())
            elif byte == 0x18:
                self._soft_reset()
            elif byte in (ord("!"), ord("~")) or byte >= 0x80:
                continue  # feed hold, cycle start and the extended overrides: not emulated
            elif byte in (ord("\n"), ord("\r")):
                line = "" if self._overflow else self._raw.decode("ascii")
                self._lines.put("\x00overflow" if self._overflow else line)
                self._raw.clear()
                self._overflow = False
            elif byte > ord(" "):
                if len(self._raw) >= LINE_BUFFER:
                    self._overflow = True
                else:
                    self._raw.append(byte)

    def _soft_reset(self) -> None:
        self._epoch += 1
        code = 6 if self.state == "Home" else 3 if self.motion.busy() else None
        self.motion.halt()
        while not self._lines.empty():
            try:
                self._lines.get_nowait()
            except queue.Empty:
                break
        self._raw.clear()
        self.modal = Modal()
        if code is not None:  # a reset during a cycle loses the position (3), during homing fails it (6)
            self.alarms.append(code)
            self._write(f"ALARM:{code}\r\n")
            self.state = "Alarm"
        self._halted.clear()
        self._announce()

    def _alarm(self, code: int) -> None:
        """Stop, report ``ALARM:code``; limits (1, 2) block everything but ``?`` and a reset, as GRBL does."""
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
            epoch = self._epoch
            self.lines.append(line)
            answer = self._run(line, lambda: self._epoch != epoch)
            if self._epoch == epoch and answer is not None and not self._halted.is_set():
                self._write(answer + "\r\n")

    def _run(self, line: str, cancelled: Callable[[], bool]) -> str | None:
        if line == "\x00overflow":
            return "error:11"
        if self._halted.is_set():
            return None  # a limit alarm: nothing but a reset is heard
        line = _strip_comments(line.upper())
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
        if block.dwell is not None:
            if not self.motion.wait_done(cancelled) or not self.motion.sleep(block.dwell, cancelled):
                return None
        if block.axes:
            return self._move(block.axes, block.motion == 0, block.machine, cancelled)
        return "ok"

    def _move(self, axes: dict[str, float], rapid: bool, machine: bool, cancelled: Callable[[], bool]) -> str | None:
        while self.motion.pending() >= 15 and not cancelled():  # the planner holds 16 blocks: ok waits for room
            with self.motion.cond:
                self.motion.cond.wait(0.05)
        if cancelled():
            return None  # a reset while the line waited for room: it is dropped with the rest
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

    def _system(self, line: str, cancelled: Callable[[], bool]) -> str | None:
        busy = self._state_now() in ("Run", "Home")
        if line == "$$":
            if busy:
                return "error:8"
            self._write("".join(_setting(n, v) + "\r\n" for n, v in sorted(self.settings.items())))
            return "ok"
        if line == "$X":
            if self.state == "Alarm":
                self.state = "Idle"
                self._write("[MSG:Caution: Unlocked]\r\n")
            return "ok"
        if line == "$H":
            if not self.settings[22]:
                return "error:5"
            if busy:
                return "error:8"
            return self._home(cancelled)
        if line == "$":
            self._write("[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]\r\n")
            return "ok"
        name, eq, value = line[1:].partition("=")
        if eq and name.isdigit():
            number = int(name)
            if number not in self.settings:
                return "error:3"
            try:
                amount = float(value)
            except ValueError:
                return "error:2"
            if amount < 0:
                return "error:4"
            self.settings[number] = amount
            return "ok"
        return "error:3"

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


def _strip_comments(line: str) -> str:
    out, depth = [], False
    for ch in line:
        if ch == ";":
            break
        if ch == "(":
            depth = True
        elif ch == ")":
            depth = False
        elif not depth:
            out.append(ch)
    return "".join(out)


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
