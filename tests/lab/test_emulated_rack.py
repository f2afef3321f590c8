"""An emulated rack end to end: `harness emulate --rack`, its inventory, the desk CLI, and pytest leasing handsets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import termios
import textwrap
import time

import pytest

from harness.adb.auth import load_or_create_key
from powered_handset import wait_refused


@pytest.fixture(scope="module")
def rack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rack")
    load_or_create_key(tmp / "adbkey")
    env = {**os.environ, "HARNESS_ADB_KEY": str(tmp / "adbkey"), "HARNESS_LEASE_DIR": str(tmp / "leases")}
    inventory = tmp / "rack.toml"
    # as docs/rack.md says, with no --adb-key: the rack trusts the keys of the user who started it ($HARNESS_ADB_KEY)
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--rack", "2", "--rack-profiles",
                             "lumia-520,lumia-630", "--animation-ms", "0", "--boot-time", "0.5", "--signin-delay", "0.2",
                             "--inventory-out", str(inventory)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    yield {"endpoints": json.loads(line), "inventory": inventory, "env": env, "tmp": tmp}
    proc.terminate()
    proc.wait(15)




def _harness(rack, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout,
                          env={**rack["env"], "HARNESS_INVENTORY": str(rack["inventory"])})


def test_inventory_describes_the_rack_and_the_desk_cli_drives_it(rack) -> None:
    endpoints = rack["endpoints"]
    assert [h["profile"] for h in endpoints["handsets"]] == ["lumia-520", "lumia-630"] and endpoints["power"]
    text = rack["inventory"].read_text()
    assert 'name = "lumia-520-01"' in text and 'name = "lumia-630-01"' in text
    out = _harness(rack, "shell", "--device", "lumia-630-01", "getprop", "ro.product.model")
    assert out.returncode == 0 and out.stdout == "Lumia 630\n"
    shot = rack["tmp"] / "shot.png"
    out = _harness(rack, "screenshot", "--device", "lumia-520-01", "-o", str(shot))
    assert out.returncode == 0 and shot.exists() and "(480x800)" in out.stdout
    out = _harness(rack, "power", "off", "--device", "lumia-520-01")
    assert out.returncode == 0 and "channel 1: off" in out.stdout
    wait_refused(endpoints["handsets"][0]["adb"], 20)
    out = _harness(rack, "shell", "--device", "lumia-520-01", "echo", "hi")
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1].startswith("harness shell:")
    assert "Connection refused" in out.stderr and "harness devices" in out.stderr
    out = _harness(rack, "power", "on", "--device", "lumia-520-01", "--wait", "30")
    assert out.returncode == 0 and "answers after" in out.stderr, out.stderr

    with socket.socket() as closed:  # a port nobody listens on: a handset that never comes up
        closed.bind(("127.0.0.1", 0))
        nowhere = f"adb-tcp://127.0.0.1:{closed.getsockname()[1]}"
    out = _harness(rack, "power", "on", "--switch", f"lcus:{rack['endpoints']['power']}#2", "--handset", nowhere,
                   "--wait", "1")
    assert out.returncode == 2 and f"{nowhere} did not answer within 1s of power on" in out.stderr, out.stderr
    assert _harness(rack, "shell", "--device", "lumia-520-01", "echo", "back").stdout == "back\n"
    out = _harness(rack, "tap", "--device", "nokia-3310-01", "1", "1")
    assert out.returncode == 2 and "nokia-3310-01" in out.stderr


def test_harness_power_on_a_rack_handset_is_journaled_for_the_runs_that_lease_it(rack, monkeypatch) -> None:
    """What `harness power --device` switched (the test above) is in the host's power journal under the channel
    that a run leasing that handset (the pytest plugin's rack path) looks for."""
    from harness.lab import power_journal
    from harness.lab.inventory import Inventory
    from harness.lab.leased_handset import open_inventory_handset

    monkeypatch.setenv("HARNESS_LEASE_DIR", rack["env"]["HARNESS_LEASE_DIR"])
    monkeypatch.setenv("HARNESS_ADB_KEY", rack["env"]["HARNESS_ADB_KEY"])
    opened = open_inventory_handset(Inventory.load(rack["inventory"]), profile="lumia-520")
    try:
        channels = power_journal.channels_of(opened.endpoints)
    finally:
        opened.close()
    assert channels == {f"lcus:{rack['endpoints']['power']}#1"}, (channels, opened.endpoints)
    seen = power_journal.events(channels, 0, time.time())
    assert [e["action"] for e in seen][:2] == ["off", "on"], seen
    assert all(e["by"].startswith(f"harness power {e['action']} (pid ") for e in seen), seen


def test_desk_sms_masks_access_codes_unless_asked_and_deletes_what_it_listed(rack) -> None:
    """An access code on the rack's modem is masked by `harness sms`; --show-codes shows it, --delete removes it."""
    from harness.emulator.control import ControlClient
    from harness.lab.inventory import Inventory

    entry = Inventory.load(rack["inventory"]).get("lumia-520-01")
    with ControlClient(entry.control, entry.control_token, timeout=5) as control:  # the network stores it on the SIM before it answers
        assert control.call("sms_send", to=entry.modem_number, sender="+15550199",
                            body="Use 731904 as your Microsoft account security code")["delivered"]
    out = _harness(rack, "sms", "--device", "lumia-520-01")
    assert out.returncode == 0 and "731904" not in out.stdout + out.stderr and "Use •••••• as" in out.stdout
    out = _harness(rack, "sms", "--device", "lumia-520-01", "--show-codes", "--delete")
    assert out.returncode == 0 and "Use 731904 as" in out.stdout
    out = _harness(rack, "sms", "--device", "lumia-520-01")
    assert out.returncode == 0 and "security code" not in out.stdout, out.stdout


def test_pytest_workers_lease_different_handsets_of_the_rack(rack, tmp_path) -> None:
    test_file = tmp_path / "test_on_rack.py"
    test_file.write_text(textwrap.dedent("""
        import time
        import pytest
        from harness.flows import sign_in_during_setup

        @pytest.mark.account("no_two_step")
        @pytest.mark.parametrize("n", range(4))
        def test_sign_in(flow, account, handset, n, record_property):
            record_property("serial", handset.info.serial)
            assert sign_in_during_setup(flow, account).final_screen == "start"

        @pytest.mark.profile("lumia-930")
        def test_needs_a_profile_the_rack_lacks(handset):
            pass
    """))
    junit = tmp_path / "junit.xml"
    env = {k: v for k, v in rack["env"].items() if not k.startswith("PYTEST_XDIST")}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2", str(test_file),
                          f"--inventory={rack['inventory']}", f"--junitxml={junit}", f"--artifacts={tmp_path / 'art'}", "-rs"],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "4 passed, 1 skipped" in out.stdout and "no handset in" in out.stdout and "lumia-930" in out.stdout
    serials = set(re.findall(r'name="serial" value="([0-9A-F]+)"', junit.read_text()))
    assert serials == {h["serial"] for h in rack["endpoints"]["handsets"]}


def test_desk_console_is_an_interactive_terminal_on_the_handsets_console(rack) -> None:
    """`harness console --device NAME` on a terminal: what is typed reaches the console, its answer shows, Ctrl-] quits."""
    import pty
    import select

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "console", "--device", "lumia-630-01"],
                            stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
                            env={**rack["env"], "HARNESS_INVENTORY": str(rack["inventory"])})
    os.close(terminal)
    seen = b""

    def read_until(needle: bytes, timeout: float = 20) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while needle not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"expected {needle!r} on the terminal, saw {seen[-500:]!r}"
            if select.select([controller], [], [], left)[0]:
                try:
                    seen += os.read(controller, 4096)
                except OSError:  # the terminal closed: the program ended
                    break

    try:
        read_until(b"Ctrl-] quits")
        # the console reads keys once it has put the terminal in raw mode (after its threads started)
        deadline = time.monotonic() + 20
        while termios.tcgetattr(controller)[3] & (termios.ICANON | termios.ECHO):
            assert time.monotonic() < deadline, "the console never put the terminal in raw mode"
            time.sleep(0.01)
        os.write(controller, b"getprop ro.product.model\r")
        read_until(b"Lumia 630")
        os.write(controller, b"\x1d")
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
