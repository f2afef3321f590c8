"""A remote rack host on loopback: a console exported by ser2net over RFC 2217, a handset over ADB/TCP.

This is the path docs/rack.md describes for spreading handsets over several
hosts; here the "rack host" is 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tty
from pathlib import Path
from typing import Iterator

import pytest
import serial

from harness.emulator.process import EmulatorProcess
from harness.lab.inventory import HandsetEntry, Inventory

pytestmark = pytest.mark.skipif(shutil.which("ser2net") is None, reason="ser2net is not installed: scripts/setup or apt-get install ser2net")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture
def exported_pty(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """(pty master fd, rfc2217 URL): a pty exported by ser2net on 127.0.0.1, as a rack host exports a console."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    proc = None
    try:
        for _ in range(5):  # ser2net needs a port number: take a free one, retry if it was snatched
            port = _free_port()
            config = tmp_path / "ser2net.yaml"
            config.write_text("%YAML 1.1\n---\nconnection: &console\n"
                              f"    accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
                              f"    connector: serialdev,{os.ttyname(slave)},115200n81,local\n"
                              "    options:\n      kickolduser: true\n")
            proc = subprocess.Popen(["ser2net", "-n", "-u", "-c", str(config), "-P", str(tmp_path / "ser2net.pid")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if _wait_listening(port, proc):
                break
            proc.kill()
            proc.wait()
            proc = None
        assert proc is not None, "ser2net did not start"
        yield master, f"rfc2217://127.0.0.1:{port}?ign_set_control&timeout=3"
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        os.close(slave)
        os.close(master)


def test_console_over_rfc2217_carries_bytes_both_ways(exported_pty: tuple[int, str]) -> None:
    master, url = exported_pty
    port = serial.serial_for_url(url, timeout=3)
    try:
        os.write(master, b"wp> ")
        assert port.read(4) == b"wp> "
        port.write(b"getprop\r")
        deadline, got = time.monotonic() + 3, b""
        while not got.endswith(b"\r") and time.monotonic() < deadline:
            got += os.read(master, 64)
        assert got == b"getprop\r"
    finally:
        port.close()


def test_harness_devices_sees_a_remote_rack_on_loopback(exported_pty: tuple[int, str], tmp_path: Path) -> None:
    _master, url = exported_pty
    with EmulatorProcess("lumia-930", ["--animation-ms", "0", "--boot-time", "0.1"]) as emu:
        inventory = Inventory(handsets=[
            HandsetEntry("rack8-930", "lumia-930", f"adb-tcp://{emu.endpoints['adb']}", console=url),
        ], rack="loopback")
        path = inventory.dump(tmp_path / "rack.toml")
        out = subprocess.run([sys.executable, "-m", "harness", "devices", "--json", "--inventory", str(path)],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "HARNESS_LEASE_DIR": str(tmp_path / "leases")})
    assert out.returncode == 0, out.stderr
    handset = json.loads(out.stdout)["inventory"]["handsets"][0]
    assert handset["answers"] is True and handset["detail"].startswith("ADB")
    assert handset["ports"] == [{"field": "console", "spec": url, "device": url, "answers": True, "detail": "opens"}]
