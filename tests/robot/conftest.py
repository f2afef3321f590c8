"""One emulated robot slot per xdist worker and one calibration per run, shared by the robot tests.

Starting ``harness emulate --camera --robot`` and calibrating it are what the robot tests cost: a calibration
is a minute or two of CPU. So each worker starts one slot (``slot``) the first time a test asks for it and keeps
it for the session, and the whole run calibrates once (``calibration``): every worker's slot is placed by the
same bench seed, so the one calibration holds for all of them. How, in ``robot_slot.py``.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from robot_slot import (CALIBRATE_TIMEOUT, CALIBRATION_WAIT, CalibrationRun, RunLock, Slot, calibrate_command,
                        run_folder, shared_seed, started_slot)


@pytest.fixture(scope="session")
def robot_seed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> int:
    return shared_seed(run_folder(tmp_path_factory, worker_id))


@pytest.fixture(scope="session")
def slot(tmp_path_factory: pytest.TempPathFactory, robot_seed: int) -> Iterator[Slot]:
    """This worker's slot, started on first use and stopped when the worker ends."""
    folder = tmp_path_factory.mktemp("robot-slot")
    print(f"bench seed {robot_seed} (ROBOT_BENCH_SEED={robot_seed} repeats it)")
    with started_slot(robot_seed, folder) as started:
        yield started


@pytest.fixture(scope="session")
def calibration(slot: Slot, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> CalibrationRun:
    """The run's one ``harness calibrate``: made on this worker's slot by the first worker that asks, read by
    the others (the same seed places their phones alike). A failed one is kept too: every test that needs it
    then fails with its error, and nothing calibrates twice."""
    folder = run_folder(tmp_path_factory, worker_id)
    record = folder / f"robot-calibration-{slot.seed}.json"
    with RunLock(folder / "robot-calibration.lock", CALIBRATION_WAIT):
        if not record.exists():
            path = folder / f"calibration-{slot.seed}.toml"
            slot.control.call("robot_fault", kind="clear")
            slot.control.call("goto", screen="setup_welcome")
            started = time.monotonic()
            done = subprocess.run(calibrate_command(slot.endpoints["camera"], slot.endpoints["robot"], path),
                                  capture_output=True, text=True, timeout=CALIBRATE_TIMEOUT + 60)
            record.write_text(json.dumps({"returncode": done.returncode, "stderr": done.stderr, "path": str(path),
                                          "worker": worker_id, "seconds": round(time.monotonic() - started, 1)}),
                              encoding="utf-8")
        made = json.loads(record.read_text(encoding="utf-8"))
    print(f"calibration of bench seed {slot.seed} by {made['worker']}: exit {made['returncode']}"
          + (f" in {made['seconds']}s" if "seconds" in made else "") + f"\n{made['stderr']}")
    return CalibrationRun(made["returncode"], made["stderr"], Path(made["path"]), slot.seed, made["worker"])
