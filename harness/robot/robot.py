"""A 3-axis tapping robot whose controller runs GRBL 1.1, over any pyserial URL.

One line at a time, as GRBL's simple "send-response" streaming asks: a line
is written, and the next is written only after its ``ok`` (GRBL answers a
motion line once it is planned, so queued moves still stream). The status
report (``?``, a real-time byte without a line ending) may be asked at any
moment; its answer is picked out of the same stream. Every target is
checked against the ``Limits`` before it is written, every wait ends at a
deadline (``harness.deadline``: an enclosing ``within`` cuts it shorter),
and every answer other than ``ok`` becomes a typed error naming the line.
Moves are in machine coordinates (``G53``) so a work offset left in the
controller's EEPROM cannot shift them.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

import serial

from harness.deadline import deadline_of, until
from harness.errors import quote_seen
from harness.robot.grbl import MAX_LINE, Reply, RobotAlarm, RobotCommandError, RobotError, RobotGone, RobotTimeout
from harness.robot.inbox import Inbox
from harness.robot.limits import Limits, Point
from harness.robot.status import Position, Status, StatusFormatError, parse_status
from harness.serial_port import SerialPort
from harness.serial_reader import PortDriver, PortReader

T = TypeVar("T")

#: GRBL keeps 79 characters of a line (LINE_BUFFER_SIZE 80 with its terminating zero), spaces not counted;
#: one more is answered error:11.
MAX_COMMAND = 79
#: Soft reset, a real-time byte: stops motion, clears the planner, prints the banner again.
SOFT_RESET = b"\x18"
#: Characters GRBL acts on at once wherever they appear in a line (status, feed hold, cycle start).
REALTIME = "?!~"
#: How close (mm) an idle robot must be to where it was sent (GRBL reports three decimals).
POSITION_TOLERANCE = 0.005
#: Limit alarms: GRBL then holds everything, answering nothing (not even '?'), until a soft reset.
CRITICAL = frozenset({1, 2})
#: GRBL says ``[MSG:Reset to continue]`` after a limit alarm and only then listens for the reset.
RESET_TO_CONTINUE = "[MSG:Reset to continue]"
#: How long GRBL may take to print what follows an alarm it raised itself (its own reset's banner, the message).
SETTLE = 2.0
#: How often '?' is asked again while a controller says nothing at open (an Arduino's boot loader drops bytes).
OPEN_POLL = 0.5
#: How long a controller may stay silent at open before it is soft-reset (GRBL answers '?' in milliseconds).
OPEN_QUIET = 2.0


def _sooner(a: float | None, b: float | None) -> float | None:
    """The earlier of two deadlines (None: never)."""
    return b if a is None else a if b is None else min(a, b)


def _fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != 0 else "0"


class GrblRobot(PortDriver):
    """The robot's controller: unlock, home, move (checked against ``limits``), dwell, status, recovery."""

    what = "robot"

    def __init__(self, resource: SerialPort, limits: Limits, answer_timeout: float = 5.0,
                 home_timeout: float = 60.0, poll_interval: float = 0.05) -> None:
        super().__init__(resource)
        self.limits = limits
        self.answer_timeout = answer_timeout
        self.home_timeout = home_timeout
        self.poll_interval = poll_interval
        self.inbox = Inbox()
        self.position: Position | None = None  # the last machine position reported
        self.target: Point | None = None       # where the last move sent goes
        self.last_motion: str | None = None    # the last motion line sent (what an alarm during motion was asked)
        # when (time.monotonic()) the robot was first sent moving since it was last seen Idle, and when it was last
        # seen Idle: a camera takes frames after a move only from these (harness.camera.settle)
        self.moved_at: float | None = None
        self.idle_at: float | None = None
        self._port: serial.SerialBase | None = None
        self._reader: PortReader | None = None
        self._write_lock = threading.Lock()
        self._line_lock = threading.Lock()  # one line in flight: send-response streaming
        self._wco: Position | None = None
        self._cleared_at = 0  # inbox mark after the last homing, unlock or reset: alarms before it are over

    # ---------------------------------------------------------------- lifecycle
    def _start(self) -> None:
        self._port = self._open_port()
        self._reader = PortReader(lambda: self._port, self.inbox.feed, self._read_failed,  # type: ignore[arg-type, return-value]
                                  name=f"robot {self.url}").start()
        try:
            self.status(min(self.answer_timeout, OPEN_QUIET), poll=OPEN_POLL)
        except (RobotTimeout, RobotAlarm):
            # GRBL held by a limit alarm (a robot an earlier run left so) answers nothing, '?' included, until a
            # soft reset; one that answers nothing after a reset either is no GRBL robot: fail at open, by a deadline
            self.reset()
            self.status(poll=OPEN_POLL)

    def _said(self, exc: Exception) -> str:
        """What pyserial said, without the URL's credentials (it may quote the URL)."""
        return str(exc).replace(self.resource.url, self.url)

    def _read_failed(self, exc: Exception) -> bool:
        self.inbox.close(f"{type(exc).__name__}: {self._said(exc)}")
        return False  # a robot's port that went away is not waited for: the waits say so at once

    def _stop(self) -> None:
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        elif self._port is not None:
            self._port.close()
        self._port = None

    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            raise RobotError(f"robot {self.url}: not open")
        with self._write_lock:
            try:
                port.write(data)
                port.flush()
            except (serial.SerialException, OSError) as exc:
                raise RobotGone(f"robot {self.url}: writing {data[:MAX_COMMAND]!r} failed: {self._said(exc)}") from None

    def _timeout(self, expected: str, timeout: float | None, seen: str = "") -> RobotError:
        if self.inbox.gone is not None:
            return RobotGone(f"robot {self.url}: the port went away while waiting for {expected} "
                             f"({quote_seen(self.inbox.gone)})")
        lines = " / ".join(self.inbox.last()) or "nothing"
        return RobotTimeout(f"{expected} from robot {self.url}", f"{seen}last lines: {lines}", timeout or 0.0)

    @property
    def alarm(self) -> int | None:
        """The code of an ``ALARM:N`` the controller raised since it was last homed, unlocked or reset."""
        alarms = [r for r in self.inbox.since(self._cleared_at) if r.kind == "alarm"]
        return alarms[-1].code if alarms else None

    def _holding(self) -> int | None:
        """The limit alarm (1, 2) the controller holds everything for: one with no banner (a reset) after it."""
        code = None
        for reply in self.inbox.since(self._cleared_at):
            if reply.kind == "alarm" and reply.code in CRITICAL:
                code = reply.code
            elif reply.kind == "banner":
                code = None
        return code

    def _held(self, asked: str) -> RobotAlarm:
        code = self._holding() or 0
        return RobotAlarm(self.url, self.last_motion, code,
                          note=f"; the controller answers nothing until a reset, so {asked!r} was not sent")

    # ---------------------------------------------------------------- the line protocol
    def send(self, line: str, timeout: float | None = None) -> list[str]:
        """Send one line; the messages (``[MSG:..]``, ``$N=..``) before its ``ok``. Typed error on anything else."""
        line = line.strip()
        # GRBL picks its real-time commands (? ! ~ and control bytes) out of the stream wherever they are, and
        # keeps 79 characters of a line, not counting spaces
        if (not line or len(line) > MAX_LINE or len(line.replace(" ", "")) > MAX_COMMAND or not line.isascii()
                or any(c in REALTIME or c < " " for c in line)):
            raise RobotError(f"robot {self.url}: {line[:MAX_LINE]!r} is not one GRBL line of at most {MAX_COMMAND} "
                             "printable ASCII characters (spaces aside) without ? ! ~")
        timeout = self.answer_timeout if timeout is None else timeout
        if self._holding() is not None:
            raise self._held(line)
        pending = self.alarm
        if pending is not None and not line.startswith("$"):  # g-code is locked out: say why, do not send it
            raise RobotAlarm(self.url, self.last_motion, pending, note=f"; not sent: {line!r}")
        with self._line_lock:
            at = deadline_of(timeout)
            mark = self.inbox.count
            self._write(line.encode("ascii") + b"\n")

            def answer(lines: list[Reply]) -> tuple[Reply, list[Reply]] | None:
                for i, reply in enumerate(lines):
                    if reply.kind in ("ok", "error", "alarm", "banner"):
                        return reply, lines[:i]
                return None

            got = self.inbox.wait(answer, mark, at)
        if got is None:
            raise self._timeout(f"an answer (ok or error) to {line!r}", timeout)
        reply, before = got
        messages = [r.text for r in before if r.kind == "message"]
        if reply.kind == "ok":
            return messages
        if reply.kind == "error":
            raise RobotCommandError(self.url, line, reply.code or 0)
        if reply.kind == "alarm":
            if reply.code not in CRITICAL:
                # GRBL resets itself after any other alarm (a failed homing, a reset in motion): the line's ok
                # and the banner follow at once; wait for them so they are not taken for the next line's answer
                self.inbox.wait(lambda lines: next((r for r in lines if r.kind == "banner"), None), mark,
                                _sooner(at, deadline_of(SETTLE)))
            raise RobotAlarm(self.url, line, reply.code or 0)
        raise RobotError(f"robot {self.url}: asked {line!r}, the controller reset instead ({reply.text!r})")

    def status(self, timeout: float | None = None, poll: float | None = None) -> Status:
        """Ask for a real-time status report (``?``, again every ``poll`` seconds when given) and return it;
        RobotTimeout when none comes, RobotAlarm when a limit alarm holds the controller (it answers nothing)."""
        timeout = self.answer_timeout if timeout is None else timeout
        if self._holding() is not None:
            raise self._held("?")
        at = deadline_of(timeout)
        mark = self.inbox.count

        def report(lines: list[Reply]) -> Reply | None:
            return next((r for r in lines if r.kind == "status" or r.kind == "alarm" and r.code in CRITICAL), None)

        while True:
            self._write(b"?")
            reply = self.inbox.wait(report, mark, at, poll=poll)
            if reply is not None or until(at) == 0 or self.inbox.gone is not None:
                break
        if reply is None:
            raise self._timeout("a status report <...> to '?'", timeout)
        if reply.kind == "alarm":
            raise RobotAlarm(self.url, self.last_motion, reply.code or 0)
        try:
            status = parse_status(reply.text)
        except StatusFormatError as exc:
            raise RobotError(f"robot {self.url}: asked '?', answered {reply.text!r}: {exc}") from None
        self._wco = status.wco or self._wco
        self.position = status.machine_position(self._wco) or self.position
        return status

    def settings(self) -> dict[int, float]:
        """The controller's numeric ``$$`` settings ($130-$132: max travel, mm)."""
        out: dict[int, float] = {}
        for message in self.send("$$"):
            name, _, value = message.partition("=")
            try:
                out[int(name[1:])] = float(value)
            except ValueError:
                continue  # a setting that is not a number (none in 1.1, but a fork may add one)
        return out

    # ---------------------------------------------------------------- states
    def unlock(self) -> None:
        """``$X``: leave the alarm state without homing (position is trusted as it is)."""
        mark = self.inbox.count
        self.send("$X")
        self._cleared_at = mark

    def home(self, timeout: float | None = None) -> Status:
        """``$H``: run the homing cycle (its ``ok`` comes when it ends), then set millimetres and absolute moves."""
        mark = self.inbox.count
        self._moving()
        self.send("$H", self.home_timeout if timeout is None else timeout)
        self._cleared_at = mark
        self.target = None
        self.send("G21")
        self.send("G90")
        status = self.status()
        if status.state == "Idle":
            self.idle_at = time.monotonic()
        return status

    def reset(self, timeout: float | None = None) -> None:
        """Soft reset (ctrl-x), the only way out of a limit alarm; waits for the controller's banner."""
        timeout = self.answer_timeout if timeout is None else timeout
        with self._line_lock:
            at = deadline_of(timeout)
            if self._holding() is not None:  # GRBL drops a reset that comes before it says it waits for one
                self.inbox.wait(self._told_to_reset, self._cleared_at, _sooner(at, deadline_of(SETTLE)))
            mark = self.inbox.count
            self._write(SOFT_RESET)
            if self.inbox.wait(lambda lines: next((r for r in lines if r.kind == "banner"), None), mark, at) is None:
                raise self._timeout("the banner 'Grbl 1.1x [...]' after a soft reset", timeout)
            self._cleared_at = mark
        self.target = None

    @staticmethod
    def _told_to_reset(lines: list[Reply]) -> bool | None:
        """True when the last limit alarm among ``lines`` was followed by GRBL's 'Reset to continue'."""
        told = None
        for reply in lines:
            if reply.kind == "alarm" and reply.code in CRITICAL:
                told = None
            elif reply.text == RESET_TO_CONTINUE:
                told = True
        return told

    def recover(self, timeout: float | None = None) -> Status:
        """After an alarm: soft reset, then home again (an alarm may have lost the position)."""
        self.reset()
        return self.home(timeout)

    def recovering(self, action: Callable[[], T]) -> T:
        """Run ``action``; on an alarm, recover (reset, home) and run it once more; a second alarm is final."""
        try:
            return action()
        except RobotAlarm as alarm:
            first = str(alarm)
        try:
            self.recover()
        except RobotError as exc:
            raise RobotError(f"{first}; recovery by re-homing failed: {exc}") from None
        try:
            return action()
        except RobotAlarm as again:
            raise RobotAlarm(self.url, again.asked, again.code, note=f" again after re-homing (first: {first})") from None

    # ---------------------------------------------------------------- motion
    def where(self) -> Point:
        """Where the robot is going (the last move's target), or where it reports it is."""
        if self.target is not None:
            return self.target
        position = self.status().machine_position(self._wco)
        if position is None:
            raise RobotError(f"robot {self.url}: its status report carries no position")
        return position

    def move_to(self, x: float | None = None, y: float | None = None, z: float | None = None,
                feed: float | None = None, timeout: float | None = None) -> None:
        """Queue a move (rapid, or at ``feed`` mm/min) to a machine position; MoveRefused before sending when out of limits."""
        here = self.where()
        target = (here[0] if x is None else x, here[1] if y is None else y, here[2] if z is None else z)
        words = " ".join(f"{axis}{_fmt(value)}" for axis, value, given in zip("XYZ", target, (x, y, z))
                         if given is not None)
        if not words:
            return
        if feed is not None and feed <= 0:
            raise RobotError(f"robot {self.url}: feed rate must be positive, got {feed:g}")
        line = f"G53 G0 {words}" if feed is None else f"G53 G1 {words} F{_fmt(feed)}"
        self.limits.check(target, f"{line!r} on robot {self.url}")
        self.last_motion = line
        self._moving()
        self.send(line, timeout)
        self.target = target

    def _moving(self) -> None:
        """Note a move sent: the first since the robot was last seen Idle starts what the camera must see end."""
        if self.moved_at is None or (self.idle_at is not None and self.idle_at >= self.moved_at):
            self.moved_at = time.monotonic()

    def dwell(self, seconds: float, timeout: float | None = None) -> None:
        """Hold still for ``seconds`` by the controller's own ``G4 P`` (its ``ok`` comes after the moves and the dwell)."""
        if seconds < 0:
            raise RobotError(f"robot {self.url}: a dwell cannot be negative ({seconds:g}s)")
        self.send(f"G4 P{_fmt(seconds)}", timeout)

    def wait_idle(self, timeout: float = 30.0) -> Status:
        """Wait until the robot is Idle where it was sent (a ``G4`` sync, then polling ``?``); RobotAlarm or RobotTimeout."""
        at = deadline_of(timeout)
        mark = self.inbox.count
        try:
            # GRBL's documented synchronisation (interface.md): a dwell is answered once the planner is empty
            self.send("G4 P0.01", until(at))
        except RobotAlarm as alarm:  # raised during the moves before it: they are what was asked
            raise RobotAlarm(self.url, self.last_motion, alarm.code) from None
        while True:
            alarm = next((r for r in self.inbox.since(mark) if r.kind == "alarm"), None)
            if alarm is not None:
                raise RobotAlarm(self.url, self.last_motion, alarm.code or 0)
            status = self.status(until(at))
            if status.state == "Alarm":
                raise RobotError(f"robot {self.url}: in Alarm after {self.last_motion!r} (no ALARM line seen)")
            if status.state == "Idle":
                self.idle_at = time.monotonic()
                return self._check_arrived(status)
            if until(at) == 0:
                raise self._timeout(f"Idle after {self.last_motion!r}", timeout,
                                    f"<{status.state}> at {status.machine_position(self._wco)}; ")
            self.inbox.wait(lambda lines: next((r for r in lines if r.kind == "alarm"), None),
                            self.inbox.count, at, poll=self.poll_interval)

    def _check_arrived(self, status: Status) -> Status:
        where = status.machine_position(self._wco)
        if self.target is not None and where is not None and any(
                abs(a - b) > POSITION_TOLERANCE for a, b in zip(where, self.target)):
            raise RobotError(f"robot {self.url}: sent to {self.target} by {self.last_motion!r}, idle at {where}")
        return status

    def with_limits(self, limits: Limits) -> None:
        """Replace the limits (calibration sets the phone's area and the touch height)."""
        self.limits = limits
