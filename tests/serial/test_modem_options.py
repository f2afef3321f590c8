"""The modem settings a person gives: CLI choices, inventory fields, and the one-line errors for bad ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.lab.inventory import Inventory
from harness.modem.options import driver_options

RACK = '[[handset]]\nname = "bench-1"\nprofile = "lumia-520"\nuri = "adb-tcp://127.0.0.1:9"\nmodem = "/dev/null"\n'


def test_auto_leaves_the_choice_to_the_driver_and_a_name_picks_it() -> None:
    assert driver_options("auto", "auto") == {"mode": None, "vendor": None}
    assert driver_options("text", "huawei") == {"mode": "text", "vendor": "huawei"}
    with pytest.raises(ValueError, match="expected one of auto, pdu, text"):
        driver_options("binary", None)


def test_the_inventory_carries_the_modem_mode_and_profile() -> None:
    inv = Inventory.loads(RACK + 'modem_mode = "pdu"\nmodem_profile = "cinterion"\n')
    entry = inv.get("bench-1")
    assert (entry.modem_mode, entry.modem_profile) == ("pdu", "cinterion")
    with pytest.raises(ConfigError) as info:
        Inventory.loads(RACK + 'modem_mode = "binary"\n')
    assert "handset[1].modem_mode" in str(info.value) and "pdu" in str(info.value)


def test_a_bad_modem_setting_in_the_inventory_is_a_one_line_error_naming_the_field(tmp_path: Path) -> None:
    rack = tmp_path / "rack.toml"
    rack.write_text(RACK + 'modem_profile = "nokia"\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "harness", "sms", "--device", "bench-1", "--inventory", str(rack)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "handset[1].modem_profile" in out.stderr and "quectel" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_pytest_modem_fixture_takes_the_mode_and_profile_given(tmp_path: Path) -> None:
    """``--modem-mode``/``--modem-profile`` (or the ini's modem_mode/modem_profile) reach the ``modem`` fixture."""
    test_file = tmp_path / "test_modem_settings.py"
    test_file.write_text("def test_settings(modem):\n"
                         "    assert (modem.mode, modem.profile.name) == ('text', 'huawei')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    run = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(test_file),
           f"--artifacts={tmp_path / 'artifacts'}", "--emulator-option=animation_ms=0", "--modem-mode", "text"]
    out = subprocess.run(run + ["--modem-profile", "huawei"], capture_output=True, text=True, timeout=180,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    out = subprocess.run(run + ["--modem-profile", "nokia"], capture_output=True, text=True, timeout=180,
                         env=env, cwd=tmp_path)
    assert out.returncode != 0 and "modem profile 'nokia': expected one of auto, generic" in out.stdout + out.stderr
