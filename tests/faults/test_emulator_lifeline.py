"""The emulator stops on SIGTERM whichever of its threads the kernel hands the signal to.

A process's signal goes to any one of its threads that does not block it; the
kernel picks the main thread first, but another takes it when the main thread
already has a signal pending or is not picked in time (a thread being started
then re-checks pending signals and can take it). Python runs the handler in the
main thread only, and ``harness emulate``'s main thread slept in
``signal.pause()``, which only a signal of its own wakes: an emulator whose
parent died lived on with its SIGTERM taken ("emulator pid 21069 gone after
SIGTERM of harness pytest within 15s; saw S", once in a full run).

The cases force that hand-over: the main thread blocks SIGTERM before it starts
anything, so its later threads block it too, and only one thread started
before that can take it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from faultlab import assert_no_leftover_processes, start_process, wait_until

#: Seconds a stop may take here (the stop itself takes well under 1 s at load 20).
STOP_WITHIN = 10.0

#: Runs the rest of its command line (a module or a .py file, then its arguments) with SIGTERM and SIGINT blocked in the main thread and every thread it
#: starts: one thread started first, which blocks neither, is the only one the kernel can hand them to.
ELSEWHERE = (
    "import runpy, signal, sys, threading\n"
    "up = threading.Event()\n"
    "def takes_signals():\n"
    "    up.set()\n"
    "    threading.Event().wait()\n"
    "threading.Thread(target=takes_signals, name='takes-signals', daemon=True).start()\n"
    "up.wait()\n"
    "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})\n"
    "sys.argv = sys.argv[1:]\n"
    "if sys.argv[0].endswith('.py'):\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "else:\n"
    "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)

QUICK = ("--profile", "lumia-520", "--animation-ms", "0", "--boot-time", "0.3", "--signin-delay", "0.1")


def test_an_emulator_whose_sigterm_another_thread_takes_still_stops_and_cleans_up(fault) -> None:
    proc = start_process([sys.executable, "-c", ELSEWHERE, "harness", "emulate", *QUICK], fault.marker,
                         env=fault.env())
    line = wait_until(lambda: proc.stdout_so_far().partition("\n")[1] and proc.stdout_so_far(), 90,
                      "the endpoints line of harness emulate", proc.stderr_so_far)
    endpoints = json.loads(line.partition("\n")[0])
    assert Path(endpoints["control_token"]).exists() and list(fault.tmp.iterdir())
    os.kill(proc.pid, signal.SIGTERM)
    run = proc.wait(time.monotonic() - proc.started + STOP_WITHIN)  # wait() counts from the start
    assert not run.timed_out, f"expected harness emulate stopped within {STOP_WITHIN:g}s of SIGTERM; {run.describe()}"
    assert run.rc == 0 and "clean-up took over" not in run.stderr, run.describe()
    assert_no_leftover_processes(fault.marker, timeout=5)
    assert not list(fault.tmp.rglob("*")), list(fault.tmp.rglob("*"))


def test_a_lifeline_whose_signal_another_thread_takes_still_ends_the_wait(fault) -> None:
    """The same at the lifeline's own level, with a runtime folder to remove: the wait ends and ``finally`` runs."""
    runtime = fault.tmp / "harness-emulator-elsewhere"
    (runtime / "harness-mail-x").mkdir(parents=True)
    script = fault.tmp.parent / "wait.py"
    script.write_text("import sys\n"
                      "from harness.emulator.lifeline import stop_on_signals, wait_for_stop\n"
                      "with stop_on_signals(runtime_dir=sys.argv[1]):\n"
                      "    try:\n"
                      "        print('up', flush=True)\n"
                      "        wait_for_stop()\n"
                      "    finally:\n"
                      "        print('cleaned up', flush=True)\n")
    proc = start_process([sys.executable, "-c", ELSEWHERE, str(script), str(runtime)], fault.marker, env=fault.env())
    wait_until(lambda: "up" in proc.stdout_so_far(), 30, "the process up", proc.stderr_so_far)
    os.kill(proc.pid, signal.SIGTERM)
    run = proc.wait(time.monotonic() - proc.started + STOP_WITHIN)
    assert not run.timed_out and run.rc == 0 and run.stdout.split() == ["up", "cleaned", "up"], run.describe()
    assert not runtime.exists()
