"""Touch gestures made of robot moves: tap, long press, swipe, double tap, in machine millimetres.

A gesture is checked whole before its first line is sent (a swipe whose
end is off the phone never starts), then streamed, then waited for: the
robot is Idle, at hover height, where the gesture ends, within the
gesture's deadline. A long press holds by the controller's own dwell
(``G4 P``), so the hold is timed by the robot, not by this process.
The handset (``robot://``) maps screen pixels to these millimetres through
its calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.deadline import deadline_of, until
from harness.robot.grbl import RobotError
from harness.robot.robot import GrblRobot
from harness.robot.status import Status


@dataclass(frozen=True)
class Feeds:
    """Feed rates in mm/min: ``press`` lowers and lifts the stylus, ``swipe`` drags it; travel is rapid (G0)."""

    press: float = 3000.0
    swipe: float = 6000.0

    def __post_init__(self) -> None:
        if self.press <= 0 or self.swipe <= 0:
            raise ValueError(f"feed rates must be positive, got press={self.press:g} swipe={self.swipe:g}")


class Gestures:
    """Gestures on one robot; each ends Idle at hover height, or in a typed error by ``timeout``."""

    def __init__(self, robot: GrblRobot, feeds: Feeds | None = None, timeout: float = 30.0,
                 recover: bool = True) -> None:
        self.robot = robot
        self.feeds = feeds or Feeds()
        self.timeout = timeout
        self.recover = recover

    def _check(self, name: str, points: list[tuple[float, float]]) -> None:
        limits = self.robot.limits
        for x, y in points:
            for z in (limits.hover_z, limits.touch_z):
                limits.check((x, y, z), f"{name} at ({x:g}, {y:g}) on robot {self.robot.url}")

    def _run(self, name: str, points: list[tuple[float, float]], strokes: "list[tuple[str, tuple]]") -> Status:
        self._check(name, points)

        def once() -> Status:
            at = deadline_of(self.timeout)
            robot, limits = self.robot, self.robot.limits
            for kind, args in strokes:
                left = until(at)
                if kind == "hover":  # up to the hover height first if lower, across, then down to it if higher
                    if robot.where()[2] < limits.hover_z:
                        robot.move_to(z=limits.hover_z, feed=self.feeds.press, timeout=left)
                    robot.move_to(x=args[0], y=args[1], timeout=left)
                    robot.move_to(z=limits.hover_z, feed=self.feeds.press, timeout=left)
                elif kind == "down":
                    robot.move_to(z=limits.touch_z, feed=self.feeds.press, timeout=left)
                elif kind == "up":
                    robot.move_to(z=limits.hover_z, feed=self.feeds.press, timeout=left)
                elif kind == "drag":
                    robot.move_to(x=args[0], y=args[1], feed=args[2], timeout=left)
                elif kind == "hold":
                    robot.dwell(args[0], timeout=left)
            return robot.wait_idle(until(at) or 0.0)

        return self.robot.recovering(once) if self.recover else once()

    def tap(self, x: float, y: float) -> Status:
        """Lower the stylus to the touch height at (x, y) and lift it."""
        return self._run("tap", [(x, y)], [("hover", (x, y)), ("down", ()), ("up", ())])

    def double_tap(self, x: float, y: float) -> Status:
        """Two taps at (x, y), back to back."""
        return self._run("double tap", [(x, y)], [("hover", (x, y)), ("down", ()), ("up", ()), ("down", ()), ("up", ())])

    def long_press(self, x: float, y: float, seconds: float = 1.0) -> Status:
        """Touch (x, y) and hold ``seconds`` (the controller's dwell) before lifting."""
        if seconds <= 0:
            raise RobotError(f"a long press holds for a positive time, got {seconds:g}s")
        return self._run("long press", [(x, y)], [("hover", (x, y)), ("down", ()), ("hold", (seconds,)), ("up", ())])

    def swipe(self, x0: float, y0: float, x1: float, y1: float, feed: float | None = None) -> Status:
        """Touch (x0, y0), drag to (x1, y1) at ``feed`` mm/min (default: the swipe feed), lift."""
        rate = self.feeds.swipe if feed is None else feed
        if rate <= 0:
            raise RobotError(f"a swipe's feed rate must be positive, got {rate:g}")
        return self._run("swipe", [(x0, y0), (x1, y1)],
                         [("hover", (x0, y0)), ("down", ()), ("drag", (x1, y1, rate)), ("up", ())])
