"""The emulator is a device written from the protocol documents: loading all of it loads no driver code.

Checked in a fresh interpreter, as a user's ``harness emulate`` starts: a framing or auth bug in the host
driver must not be the emulator's bug too (the two sides share only ``harness/adb_wire.py``'s constants).
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import harness.emulator

DRIVERS = ("harness.adb", "harness.transport", "harness.modem", "harness.console", "harness.vision")


def test_loading_every_emulator_module_loads_no_driver_module() -> None:
    names = sorted(f"harness.emulator.{m.name}" for m in pkgutil.iter_modules(harness.emulator.__path__))
    assert "harness.emulator.adb_device" in names and "harness.emulator.trust" in names
    script = ("import importlib, json, sys\n"
              f"for name in {names!r}: importlib.import_module(name)\n"
              "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout)
    drivers = [m for m in loaded if m.startswith(tuple(d + "." for d in DRIVERS)) or m in DRIVERS]
    assert drivers == [], f"the emulator loads driver modules: {drivers}"
