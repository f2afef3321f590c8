"""The robot tests' shared slot (see conftest.py): the emulator's start-up, the run's seed and calibration.

Imported as ``from robot_slot import ...`` (a module name of its own: ``conftest`` is not importable by name).

Starting ``harness emulate --camera --robot`` and calibrating it are what the robot tests cost: a calibration
is a minute or two of CPU. So each worker starts one slot (lumia-930, the camera and the robot, the robot's
clock x4) the first time a test asks for it and keeps it for the session, and the whole run calibrates once:
every worker's slot is placed by the same bench seed (drawn at random by the first worker, printed, or taken
from ``ROBOT_BENCH_SEED`` to repeat a run), so the phone lies at the same place under the same camera in every
worker and the one calibration ``harness calibrate`` wrote (through the CLI, on whichever worker asked first)
holds for all of them. Test ids never carry the seed, so every worker collects the same tests.

``started_slot`` is that start-up, for the tests' fixture and for ``benchmarks/bench_calibration.py`` alike (a
benchmark then measures the slot the tests calibrate).

Tests share the slot one after another: each puts the phone on the screen it starts from (``at_setup`` after a
lab reset, or ``goto``) and leaves the robot and the camera as it found them (faults cleared).
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.deadline import deadline_of, until
from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess
from harness.handsets.robot import uri_of

PROFILE = "lumia-930"
#: The emulated robot's clock runs this much faster than real time (its moves are modelled, not measured).
ROBOT_TIME_SCALE = 4
#: Frames a second the emulated camera draws: enough for the harness (it waits for a frame newer than its
#: move) and half the CPU of its default 20.
CAMERA_FPS = 10
#: Upper bound for ``harness calibrate`` on a loaded machine (about 1-2 minutes idle).
CALIBRATE_TIMEOUT = 600.0
#: How long a worker waits for another one's calibration (that one's own deadline, and some).
CALIBRATION_WAIT = CALIBRATE_TIMEOUT + 120.0


def run_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder every xdist worker of this run sees (the parent of the workers' own temp folders)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if worker_id != "master" else base


class RunLock:
    """An exclusive lock on a file of the run folder, taken within a deadline (the other holder may be slow)."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self._file: Any = None

    def __enter__(self) -> "RunLock":
        self._file = open(self.path, "a+")
        at = deadline_of(self.timeout)
        pause = threading.Event()
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if until(at) == 0:
                    self._file.close()
                    raise TimeoutError(f"{self.path} still locked by another worker after {self.timeout:g}s") from None
                pause.wait(0.25)  # another worker holds it: look again (flock cannot wait with a deadline)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def shared_seed(folder: Path) -> int:
    """The run's bench seed: ROBOT_BENCH_SEED, else drawn by the first worker to ask and read by the others."""
    if os.environ.get("ROBOT_BENCH_SEED"):
        return int(os.environ["ROBOT_BENCH_SEED"])
    path = folder / "robot-bench-seed"
    with RunLock(folder / "robot-bench-seed.lock", 60):
        if not path.exists():
            path.write_text(str(random.SystemRandom().randrange(10**6)), encoding="ascii")
        return int(path.read_text(encoding="ascii"))


@dataclass
class Slot:
    """A worker's emulated slot: the phone on the robot's bed under the camera."""

    seed: int
    endpoints: dict[str, Any]
    control: ControlClient
    folder: Path  # this worker's; the emulator's log is emulator.log in it
    line: str     # the endpoints ``harness emulate`` announced on its stdout
    bench: dict[str, Any] = field(default_factory=dict)
    profile: str = PROFILE

    def uri(self, calibration: Path) -> str:
        """``robot://`` for this worker's robot and camera through ``calibration``."""
        return uri_of(self.endpoints["robot"], self.endpoints["camera"], calibration, self.profile)

    def at_setup(self, timeout: float = 60.0) -> None:
        """Re-flash the phone as a lab does between runs and wait until set-up's first page shows."""
        self.control.call("lab_reset")
        at = deadline_of(timeout)
        while (state := self.control.call("state")["state"])["screen"] != "setup_welcome":
            assert until(at), f"bench seed {self.seed}: the phone shows {state['screen']} {timeout:g}s after a lab reset"

    def recover_robot(self) -> None:
        """Get the robot out of an alarm a test caused (a soft reset, then homing), as the next test expects it."""
        from harness.robot import Box, GrblRobot, Limits
        from harness.serial_port import SerialPort

        glass = self.bench["glass_z"]
        limits = Limits(Box.from_travel(150, 200, 50), touch_z=glass - 0.5, hover_z=glass + 5)
        with GrblRobot(SerialPort(self.endpoints["robot"]), limits, answer_timeout=15.0) as robot:
            robot.recover()

    def touch_mark(self) -> float:
        """When the phone's latest touch began (its clock), or -1: what ``touches_after`` counts from."""
        last = self.control.call("robot_touches", n=1)["touches"]
        return float(last[0]["at"]) if last else -1.0

    def touches_after(self, mark: float) -> list[dict[str, Any]]:
        """The touches the phone felt since ``touch_mark`` gave ``mark`` (its log keeps the latest 100)."""
        return [t for t in self.control.call("robot_touches")["touches"] if t["at"] > mark]

    def screen(self, other_than: str | None = None, timeout: float = 15.0) -> str:
        """The phone's screen, once it is not ``other_than`` (or ``other_than`` at the deadline)."""
        at = deadline_of(timeout)
        while True:
            screen = self.control.call("state")["state"]["screen"]
            if screen != other_than or not until(at):
                return screen
            self.control.call("ping")  # one round trip between looks, no sleep


def emulate_args(seed: int, camera_fps: float = CAMERA_FPS, theme: str | None = None) -> list[str]:
    """``harness emulate``'s arguments (after ``--profile``) for the slot of bench seed ``seed`` (``theme``: the
    profile's own when None)."""
    return ["--camera", "--robot", "--bench-seed", str(seed), "--robot-time-scale", str(ROBOT_TIME_SCALE),
            "--camera-fps", f"{camera_fps:g}", "--animation-ms", "0", "--boot-time", "0.3",
            *(["--theme", theme] if theme else [])]


@contextmanager
def started_slot(seed: int, folder: Path, camera_fps: float = CAMERA_FPS, profile: str = PROFILE,
                 theme: str | None = None) -> Iterator[Slot]:
    """The slot of bench seed ``seed`` (its emulator's log in ``folder``), stopped when the block ends."""
    emulator = EmulatorProcess(profile, emulate_args(seed, camera_fps, theme), log_path=folder / "emulator.log")
    emulator.start()
    line = json.dumps(emulator.endpoints)  # what it announced, as parsed
    try:
        with emulator.control() as control:
            yield Slot(seed, emulator.endpoints, control, folder, line, control.call("bench"), profile)
    finally:
        emulator.stop()


@dataclass(frozen=True)
class CalibrationRun:
    """What ``harness calibrate`` did for this run: its exit status, its stderr, the file it wrote."""

    returncode: int
    stderr: str
    path: Path
    seed: int
    worker: str


def calibrate_command(camera: str, robot: str, output: Path, timeout: float = CALIBRATE_TIMEOUT,
                      profile: str = PROFILE) -> list[str]:
    """``harness calibrate`` of a slot (lumia-930's unless ``profile``), as a lab runs it."""
    return [sys.executable, "-m", "harness", "calibrate", "--camera", camera, "--robot", robot,
            "--profile", profile, "-o", str(output), "--timeout", f"{timeout:g}"]
