"""An ``adb-usb://`` handset exported on a real coordinator: the export serves it as ADB over TCP, the place's
``adb`` resource leads there, and ``harness`` drives the phone through the place only.

The phone is an emulated lumia-920 reached through its emulated USB socket
(``EmulatedUsbBackend``, the pyusb backend the USB tests use), so the export runs
in this process (``RackExport`` with that backend) rather than as ``harness lab
export``, whose process would look on the real bus. The coordinator, the
``labgrid-exporter`` and the ``harness`` commands are the real programs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.adb.auth import load_or_create_key

pytestmark = pytest.mark.slow


def test_an_adb_usb_handset_is_driven_through_its_place(lg_coordinator, lg_client, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.emulator.process import EmulatorProcess
    from harness.emulator.usb_backend import EmulatedUsbBackend
    from harness.lab.inventory import Inventory
    from harness.lab.labgrid.export import RackExport

    key = tmp_path / "adbkey"
    load_or_create_key(key)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the export's working folder
    phone = EmulatorProcess("lumia-920", ["--animation-ms", "0", "--boot-time", "0.3", "--no-user-keys",
                                          "--adb-key", str(key) + ".pub"], log_path=tmp_path / "emulator.log")
    phone.start()
    export = None
    try:
        serial = phone.endpoints["serial"]
        inventory = Inventory.loads(f'[rack]\nname = "usb-rack"\n\n[[handset]]\nname = "lumia-920-usb"\n'
                                    f'profile = "lumia-920"\nuri = "adb-usb://{serial}"\n', str(tmp_path / "r.toml"))
        said: list[str] = []
        export = RackExport(inventory, lg_coordinator.address, "rack-usb", say=said.append,
                            usb_backend=EmulatedUsbBackend([phone.endpoints["usb"]]))
        assert export.start().made == ["lumia-920-usb"]
        served = [line for line in said if line.startswith("adb-usb: lumia-920-usb ")]
        assert served and f"(adb-usb://{serial}) as ADB over TCP at 127.0.0.1:" in served[0], said

        show = lg_client("-p", "lumia-920-usb", "show")
        assert show.returncode == 0, show.stderr
        assert "Matching resource 'adb' (rack-usb/lumia-920-usb/RemoteAndroidNetFastboot/adb)" in show.stdout, \
            show.stdout

        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("LG_", "PYTEST_"))},
               "HARNESS_ADB_KEY": str(key)}
        place = ["--coordinator", lg_coordinator.address, "--place", "lumia-920-usb"]
        for _ in range(2):  # a second client after the first left: the phone is opened afresh
            run = subprocess.run([sys.executable, "-m", "harness", "shell", *place, "getprop", "ro.serialno"],
                                 env=env, capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, run.stderr
            assert run.stdout.strip() == serial  # the USB phone itself answers through the place
        shot = tmp_path / "shot.png"
        run = subprocess.run([sys.executable, "-m", "harness", "screenshot", *place, "-o", str(shot)], env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        from PIL import Image

        assert Image.open(shot).size == (768, 1280)  # lumia-920's screen, whole, over the bridge
        who = lg_client("who")
        assert who.returncode == 0 and "lumia-920-usb" not in who.stdout, who.stdout
    finally:
        if export is not None:
            export.stop()
        phone.stop()
