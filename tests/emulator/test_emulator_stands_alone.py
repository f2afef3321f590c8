"""The emulator is a device written from the protocol documents: loading all of it loads no driver code.

Checked in a fresh interpreter, as a user's ``harness emulate`` starts: a framing or auth bug in the host
driver must not be the emulator's bug too: the two sides share no code, not even ADB's constants
(``harness/adb_wire.py`` is the host's, ``harness/emulator/adb_words.py`` the device's).
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import harness.emulator

DRIVERS = ("harness.adb", "harness.adb_wire", "harness.transport", "harness.modem", "harness.console", "harness.vision")


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


#: What a handset's process must not carry: the host's vision and array libraries and every driver.
NOT_IN_A_HANDSET = ("cv2", "numpy", *DRIVERS)


def test_a_running_handset_process_loads_no_opencv_numpy_or_driver_code() -> None:
    """``harness emulate`` loads only the emulate command's module, not the flows' and desk's (16 handsets of
    a rack each paid 30 MiB for OpenCV and numpy they never used). Read from the process's own memory map
    and, after it stops, from what it loaded."""
    script = ("import json, sys\nfrom harness.cli import main\n"
              "try:\n    main(['emulate', '--animation-ms', '0', '--adb-insecure'])\n"
              "finally:\n    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[2])
    try:
        assert proc.stdout is not None
        endpoints = json.loads(proc.stdout.readline() or "null")
        assert endpoints and "adb" in endpoints, "harness emulate announced no endpoints"
        mapped = Path(f"/proc/{proc.pid}/maps").read_text()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "/cv2/" not in mapped and "/numpy/" not in mapped, "a handset process has OpenCV or numpy mapped"
    loaded = json.loads(err.strip().splitlines()[-1])
    heavy = [m for m in loaded if m.split(".")[0] in NOT_IN_A_HANDSET or m.startswith(tuple(d + "." for d in DRIVERS))
             or m in DRIVERS]
    assert heavy == [], f"harness emulate loaded {heavy[:10]}"


def test_every_command_is_registered_by_the_provider_the_table_names() -> None:
    """The command line loads a command's module by the table; a command missing from it would vanish."""
    from harness.cli import SUBCOMMAND_PROVIDERS, build_parser

    def commands(parser) -> set[str]:
        action = next(a for a in parser._actions if a.dest == "command")
        return set(action.choices)

    listed = {c for _, _, names in SUBCOMMAND_PROVIDERS for c in names}
    assert commands(build_parser()) == listed
    for name in sorted(listed):
        assert name in commands(build_parser(name)), f"harness {name} is not registered when asked for alone"
