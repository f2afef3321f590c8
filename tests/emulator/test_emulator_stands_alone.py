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
#: All of the harness a handset's process may load besides the emulator: errors, and the device descriptions a phone
#: and its host both read (profiles, the body's spec sheet, packaged files, TOML); never a driver, vision or a flow
#: (the robot's and camera's drivers came after DRIVERS was written: a list of what is forbidden goes stale).
SHARED = ("harness", "harness.errors", "harness.profiles", "harness.phone_body", "harness.resources",
          "harness.tomlfile")


def _not_the_devices(loaded: list[str]) -> list[str]:
    """The harness modules in ``loaded`` that are neither the emulator's nor SHARED (the CLI that starts it aside)."""
    own = ("harness.emulator", "harness.cli", "harness.__main__")
    return [m for m in loaded if m.split(".")[0] == "harness" and m not in SHARED
            and not any(m == o or m.startswith(o + ".") for o in own)]


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
    assert _not_the_devices(loaded) == [], f"the emulator loads host modules: {_not_the_devices(loaded)}"


#: What a handset's process must not carry: the host's vision and array libraries and every driver.
NOT_IN_A_HANDSET = ("cv2", "numpy", *DRIVERS)


def _emulate(*args: str) -> tuple[subprocess.Popen, dict | None]:
    """``harness emulate --animation-ms 0 --adb-insecure ARGS`` in a process that prints, as it exits, every module
    it loaded (as JSON on stderr's last line); with the endpoints it announced (None: none)."""
    script = ("import json, sys\nfrom harness.cli import main\n"
              f"try:\n    main(['emulate', '--animation-ms', '0', '--adb-insecure', *{list(args)!r}])\n"
              "finally:\n    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[2])
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline() or "null")


def test_a_running_handset_process_loads_no_opencv_numpy_or_driver_code() -> None:
    """``harness emulate`` loads only the emulate command's module, not the flows' and desk's (16 handsets of
    a rack each paid 30 MiB for OpenCV and numpy they never used). Read from the process's own memory map
    and, after it stops, from what it loaded."""
    proc, endpoints = _emulate()
    try:
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
    assert _not_the_devices(loaded) == [], f"harness emulate loaded {_not_the_devices(loaded)[:10]}"


def test_a_handset_with_its_camera_and_robot_serving_loads_no_host_code() -> None:
    """With ``--camera --robot`` and both in use (a camera frame read over HTTP, a GRBL status asked on the robot's
    pty, so the code each loads when first used has run), the process holds the emulator and SHARED only: the
    camera draws with OpenCV, but none of the harness's camera, robot or vision code."""
    import os
    import select
    import time
    import urllib.request

    proc, endpoints = _emulate("--camera", "--robot", "--bench-seed", "5")
    try:
        assert endpoints and "camera" in endpoints and "robot" in endpoints, "no camera or robot announced"
        with urllib.request.urlopen(endpoints["camera"], timeout=20) as stream:
            assert b"\xff\xd8" in stream.read(200_000), "no JPEG frame from the camera"
        fd = os.open(endpoints["robot"], os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"?")
            answer, end = b"", time.monotonic() + 20
            while b">" not in answer and time.monotonic() < end:
                if select.select([fd], [], [], max(0.0, end - time.monotonic()))[0]:
                    answer += os.read(fd, 4096)
            assert b"<" in answer and b">" in answer, f"no status report from the robot: {answer[-200:]!r}"
        finally:
            os.close(fd)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    loaded = json.loads(err.strip().splitlines()[-1])
    assert _not_the_devices(loaded) == [], f"harness emulate --camera --robot loaded {_not_the_devices(loaded)[:10]}"


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
