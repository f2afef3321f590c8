"""What ``harness lab export`` would publish for a real rack's inventory (no processes: the plan and the YAML).

Expected values are written out by hand from the inventory below and labgrid's
resource classes; the emulated racks are ``test_lg_export.py``'s, end to end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import yaml

from harness.lab.inventory import Inventory
from harness.lab.labgrid import LabgridError
from harness.lab.labgrid.export_config import plan_export
from harness.lab.labgrid.ser2net import LocalPort, ser2net_yaml

REAL_RACK = """
[rack]
name = "lab-b"

[ports]
relay = "/dev/ttyUSB7"

[[handset]]
name = "lumia-930-07"
profile = "lumia-930"
uri = "adb-tcp://10.0.7.31:5555"
console = "/dev/ttyUSB4"
modem = "rfc2217://rackc:4002?ign_set_control&timeout=3"
modem_number = "+15550107"
power = { kind = "lcus", port = "@relay", channel = 3 }
tags = ["nightly", "Not-A-Key"]

[[handset]]
name = "lumia-520-02"
profile = "lumia-520"
uri = "adb-usb://520D00000002"
console = "socket://rackc:5001"
os_version = "8.1"
power = { kind = "uhubctl", hub = "1-1", channel = 4 }

[[handset]]
name = "lumia-630-02"
profile = "lumia-630"
uri = "adb-tcp://10.0.7.32:5557"
power = { kind = "lcus", port = "@relay", channel = 4 }
"""


def test_a_real_rack_is_planned_as_labgrid_resources_and_places() -> None:
    # a uhubctl hub is switched on its own host only: exported to other hosts it is refused, naming the handset
    with pytest.raises(LabgridError, match=r"^rack\.toml: handset lumia-520-02: power is uhubctl hub 1-1 channel 4, "
                                           r"which only this host can switch, and the export as host 10\.0\.7\.2 offers"):
        plan_export(Inventory.loads(REAL_RACK, "rack.toml"), "rackb").groups("10.0.7.2", {}, {})
    loopback = plan_export(Inventory.loads(REAL_RACK, "rack.toml"), "rackb").groups(
        "127.0.0.1", {"/dev/ttyUSB4": 4101, "/dev/ttyUSB7": 4107}, {"lumia-520-02": 4120})
    assert loopback["lumia-520-02"]["power"] == {"cls": "NetworkPowerPort", "model": "uhubctl",
                                                 "host": "127.0.0.1:1-1", "index": "4"}

    rack = REAL_RACK.replace('power = { kind = "uhubctl", hub = "1-1", channel = 4 }\n', "")
    plan = plan_export(Inventory.loads(rack, "rack.toml"), "rackb")
    # local devices go to ser2net (the relay once, shared by two handsets); network ports are published as they are
    assert plan.local_ports == [LocalPort("/dev/ttyUSB4", 115200, False), LocalPort("/dev/ttyUSB7", 9600, True)]
    # the USB phone is served as ADB over TCP by the export itself (at the published address)
    assert plan.notes == [] and plan.usb_handsets == {"lumia-520-02": "520D00000002"}
    groups = plan.groups("10.0.7.2", {"/dev/ttyUSB4": 4101, "/dev/ttyUSB7": 4107}, {"lumia-520-02": 4120})
    assert groups["lumia-930-07"] == {
        "location": "lab-b on 10.0.7.2",
        "adb": {"cls": "AndroidNetFastboot", "address": "10.0.7.31", "port": 5555, "protocol": "tcp"},
        "console": {"cls": "NetworkSerialPort", "host": "10.0.7.2", "port": 4101, "speed": 115200,
                    "protocol": "rfc2217"},
        "modem": {"cls": "NetworkSerialPort", "host": "rackc", "port": 4002, "speed": 115200, "protocol": "rfc2217"},
        "power": {"cls": "NetworkPowerPort", "model": "lcus", "host": "rfc2217://10.0.7.2:4107?ign_set_control",
                  "index": "3"},
    }
    assert groups["lumia-520-02"] == {
        "location": "lab-b on 10.0.7.2",
        "adb": {"cls": "AndroidNetFastboot", "address": "10.0.7.2", "port": 4120, "protocol": "tcp"},
        "console": {"cls": "NetworkSerialPort", "host": "rackc", "port": 5001, "speed": 115200, "protocol": "raw"},
    }
    assert groups["lumia-630-02"]["adb"] == {"cls": "AndroidNetFastboot", "address": "10.0.7.32", "port": 5557,
                                             "protocol": "tcp"}
    assert "console" not in groups["lumia-630-02"] and "modem" not in groups["lumia-630-02"]
    assert groups["lumia-630-02"]["power"]["index"] == "4"
    # labgrid's exporter reads this YAML: every resource a mapping with its class, the location a string
    assert yaml.safe_load(yaml.safe_dump(groups)) == groups

    places = {p.name: p for p in plan.places}
    assert list(places) == ["lumia-930-07", "lumia-520-02", "lumia-630-02"]
    assert places["lumia-930-07"].matches == ["rackb/lumia-930-07/*"]
    assert places["lumia-930-07"].tags == {"profile": "lumia-930", "os_version": "8.1", "modem_number": "+15550107",
                                           "nightly": "yes"}  # 'Not-A-Key' is no labgrid tag key: left out
    assert places["lumia-520-02"].tags == {"profile": "lumia-520", "os_version": "8.1"}  # the inventory's OS wins
    assert places["lumia-630-02"].comment == "handset-harness: lumia-630 on rackb"


def test_ser2net_serves_each_port_at_the_address_given() -> None:
    text = ser2net_yaml({LocalPort("/dev/ttyUSB4", 115200): 4101, LocalPort("/dev/ttyUSB7", 9600, True): 4107},
                        "10.0.7.2")
    assert "accepter: telnet(rfc2217),tcp,10.0.7.2,4101" in text
    assert "connector: serialdev,/dev/ttyUSB7,9600n81,local" in text
    # a console takes one client (a new one replaces a stale one); a shared relay several
    first, second = text.split("connection: ")[1:]
    assert "kickolduser: true" in first and "max-connections" not in first
    assert "max-connections: 4" in second and "kickolduser" not in second


def test_what_cannot_be_exported_is_one_line(tmp_path) -> None:
    with pytest.raises(LabgridError, match=r"^rack\.toml: handset e1: emulator://lumia-930 starts a handset on "
                                           r"demand, nothing stays to export"):
        plan_export(Inventory.loads('[[handset]]\nname = "e1"\nprofile = "lumia-930"\nuri = "emulator://lumia-930"\n',
                                    "rack.toml"), "rackb")
    (tmp_path / "tmp").mkdir()
    bad = tmp_path / "rack.toml"
    bad.write_text('[[handset]]\nname = "x1"\nprofile = "lumia-930"\nuri = "adb-tcp://10.0.0.9:5555"\n'
                   'console = "ftp://rackc/1"\n')
    out = subprocess.run([sys.executable, "-m", "harness", "lab", "export", "--inventory", str(bad),
                          "--coordinator", "127.0.0.1:1", "--name", "rackb"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "harness lab: ftp://rackc/1: a serial port on the network must be rfc2217://HOST:PORT or socket://HOST:PORT"]

    # a uhubctl channel exported to other hosts: refused before anything starts
    bad.write_text('[[handset]]\nname = "x1"\nprofile = "lumia-930"\nuri = "adb-tcp://10.0.0.9:5555"\n'
                   'power = { kind = "uhubctl", hub = "2-1", channel = 3 }\n')
    out = subprocess.run([sys.executable, "-m", "harness", "lab", "export", "--inventory", str(bad),
                          "--coordinator", "127.0.0.1:1", "--name", "rackb", "--hostname", "10.0.0.2"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    assert out.returncode == 2, out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"harness lab: {bad}: handset x1: power is uhubctl hub 2-1 channel 3, which only this "
                           "host can switch, and the export as host 10.0.0.2 offers it to others; "), line

    # a coordinator nobody answers at: labgrid's exporter gives up, and the export says why in one line
    bad.write_text('[[handset]]\nname = "x1"\nprofile = "lumia-930"\nuri = "adb-tcp://10.0.0.9:5555"\n')
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"127.0.0.1:{closed.getsockname()[1]}"
    out = subprocess.run([sys.executable, "-m", "harness", "lab", "export", "--inventory", str(bad),
                          "--coordinator", nobody, "--name", "rackb", "--janitor-limit", "0"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    assert out.returncode == 2, out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"harness lab: labgrid-exporter rackb ended (status 100) before it reached the "
                           f"coordinator at {nobody}: ERROR:"), line
    assert "Connection refused" in line, line
    assert list((tmp_path / "tmp").iterdir()) == []  # the export's folder went with it, also when planning refused


def test_a_uhubctl_channel_read_from_a_place_is_switched_only_on_its_own_host() -> None:
    from labgrid.remote.common import Place, ResourceEntry, ResourceMatch

    from harness.lab.inventory.entries import PowerSwitch
    from harness.lab.labgrid.endpoints import PlaceUnusable, place_inventory

    def place_with_hub(host: str) -> tuple[Place, dict]:
        place = Place("p1", tags={"profile": "lumia-520"}, matches=[ResourceMatch("rackb", "p1", "*")])
        group = {"adb": ResourceEntry({"cls": "AndroidNetFastboot", "avail": True,
                                       "params": {"address": "127.0.0.1", "port": 5555}}),
                 "power": ResourceEntry({"cls": "NetworkPowerPort", "avail": True,
                                         "params": {"model": "uhubctl", "host": host, "index": "4"}})}
        return place, {"rackb": {"p1": group}}

    entry = place_inventory("c:1", *place_with_hub("127.0.0.1:1-1.3")).handsets[0]
    assert entry.power == PowerSwitch("uhubctl", 4, hub="1-1.3")  # the hub's location, not HOST:HUB
    with pytest.raises(PlaceUnusable, match=r"^place p1: power is uhubctl hub 1-1\.3 on 10\.0\.7\.2, which only "
                                            r"that host can switch$"):
        place_inventory("c:1", *place_with_hub("10.0.7.2:1-1.3"))
