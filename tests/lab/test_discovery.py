"""Discovery: what this machine has attached, probes over real sockets and ptys, `harness devices --json`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import tty
import types
from pathlib import Path
from typing import Iterator

import pytest

from harness.adb.auth import load_or_create_key
from harness.emulator.process import EmulatorProcess
from harness.handsets import SCHEMES, Probed
from harness.handsets.adb_probe import probe_adb_tcp
from harness.lab.discovery import discover, find_usb_phones, format_report, probe_serial
from harness.lab.inventory import HandsetEntry, Inventory, PowerSwitch
from harness.lab.leases import lease


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """An emulator started by "us": it trusts our key ($HARNESS_ADB_KEY) by default, the probes sign with it."""
    key = tmp_path_factory.mktemp("ours") / "adbkey"
    load_or_create_key(key)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HARNESS_ADB_KEY", str(key))
        with EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.1"]) as proc:
            yield proc.endpoints


_MASTERS: dict[str, int] = {}


def _master_of(path: str) -> int:
    return _MASTERS[path]


@pytest.fixture
def pty_path() -> Iterator[str]:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    _MASTERS[path] = master
    try:
        yield path
    finally:
        _MASTERS.pop(path, None)
        os.close(slave)
        os.close(master)


class OneShotServer:
    """A loopback TCP server that answers each connection with fixed bytes (or silence), then closes."""

    def __init__(self, reply: bytes | None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(3)
            if self.reply is not None:
                conn.sendall(self.reply)
            try:
                conn.recv(4096)
                conn.recv(4096)   # silence: hold until the prober gives up
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


def test_discover_this_machine_shape() -> None:
    from serial.tools import list_ports

    report = discover()
    data = report.as_dict()
    assert set(data) == {"usb", "serial_ports", "inventory"} and data["inventory"] is None
    assert set(data["usb"]) == {"backend", "note", "phones"}
    # libusb comes from the libusb-package wheel; this machine has no USB bus, which the note says
    assert data["usb"]["backend"] == "libusb1 (libusb-package)"
    if not data["usb"]["phones"]:
        assert data["usb"]["note"]
    assert [p["device"] for p in data["serial_ports"]] == [p.device for p in list_ports.comports()]
    for p in data["serial_ports"]:
        assert set(p) == {"device", "vendor_id", "product_id", "serial_number", "location", "description", "manufacturer"}
    text = format_report(report)
    assert text.startswith("USB phones with an ADB interface (libusb1 (libusb-package)):")
    assert "Serial ports:" in text


def test_find_usb_phones_with_no_devices() -> None:
    phones, backend, note = find_usb_phones()
    assert phones == [] and backend and note == "no USB devices visible"


def test_probe_adb_tcp_against_an_emulated_handset(emulator: dict) -> None:
    host, _, port = emulator["adb"].rpartition(":")
    answers, detail = probe_adb_tcp(host, int(port), timeout=5)
    assert answers, detail
    assert detail == "ADB device (Lumia 520), trusts our key"


def test_probe_adb_tcp_tells_apart_refused_silent_and_foreign() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    free_port = probe.getsockname()[1]
    probe.close()
    answers, detail = probe_adb_tcp("127.0.0.1", free_port, timeout=1)
    assert not answers and "no TCP connection" in detail

    silent = OneShotServer(None)
    try:
        answers, detail = probe_adb_tcp("127.0.0.1", silent.port, timeout=0.5)
        assert not answers and "sent no ADB CNXN within 0.5s" in detail
    finally:
        silent.close()

    http = OneShotServer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    try:
        answers, detail = probe_adb_tcp("127.0.0.1", http.port, timeout=2)
        assert not answers and "is not ADB" in detail, detail
    finally:
        http.close()


def test_probe_serial(pty_path: str) -> None:
    assert probe_serial(pty_path, {}, "console").answers
    status = probe_serial("/dev/does-not-exist", {}, "console")
    assert not status.answers and status.detail.startswith("cannot open")
    status = probe_serial("usb-serial:NOPE", {}, "modem")
    assert not status.answers and status.device is None and "not attached" in status.detail
    status = probe_serial("@relay", {"relay": pty_path}, "power")
    assert status.answers and status.device == pty_path


def _devices_json(path: Path, lease_dir: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "harness", "devices", "--json", "--inventory", str(path),
                          "--timeout", "5"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "HARNESS_LEASE_DIR": str(lease_dir)})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_harness_devices_json_with_an_inventory(emulator: dict, pty_path: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_LEASE_DIR", str(tmp_path / "leases"))
    inventory = Inventory(handsets=[
        HandsetEntry("emu-520", "lumia-520", f"adb-tcp://{emulator['adb']}", console=pty_path,
                     modem="usb-serial:NOPE", power=PowerSwitch("lcus", 2, port="@relay")),
        HandsetEntry("gone", "lumia-930", "adb-usb://930D00000042"),
        HandsetEntry("on-demand", "lumia-1320", "emulator://lumia-1320"),
    ], ports={"relay": pty_path}, rack="devtest")
    path = inventory.dump(tmp_path / "rack.toml")

    data = _devices_json(path, tmp_path / "leases")
    assert data["inventory"]["path"] == str(path)
    assert data["inventory"]["rack"] == "devtest"
    handsets = {h["name"]: h for h in data["inventory"]["handsets"]}
    emu = handsets["emu-520"]
    assert emu["answers"] is True and emu["detail"].startswith("ADB")
    assert emu["leased_by"] is None
    ports = {p["field"]: p for p in emu["ports"]}
    assert ports["console"]["answers"] is True and ports["console"]["device"] == pty_path
    assert ports["modem"]["answers"] is False and "usb-serial:NOPE: not attached" in ports["modem"]["detail"]
    assert ports["power"]["device"] == pty_path and emu["power"] == "lcus @relay channel 2"
    assert handsets["gone"]["answers"] is False and "930D00000042" in handsets["gone"]["detail"]
    assert handsets["on-demand"]["answers"] is None
    assert data["inventory"]["ports"] == [{"field": "@relay", "spec": pty_path, "device": pty_path,
                                           "answers": True, "detail": "opens"}]

    # while a run holds the lease, its serial ports (and the relay it shares) are left alone
    held = lease(Inventory.load(path), "emu-520", wait=False, command="pytest")
    try:
        data = _devices_json(path, tmp_path / "leases")
    finally:
        held.release()
    emu = data["inventory"]["handsets"][0]
    assert emu["leased_by"]["pid"] == os.getpid() and emu["leased_by"]["command"] == "pytest"
    assert emu["answers"] is True          # a new ADB/TCP connection does not disturb the holder's
    ports = {p["field"]: p for p in emu["ports"]}
    assert ports["console"]["answers"] is None
    assert ports["console"]["detail"].startswith(f"in use by emu-520's lease holder, pid {os.getpid()} (pytest")
    assert ports["modem"]["answers"] is False      # unresolvable is still reported
    relay = data["inventory"]["ports"][0]
    assert relay["answers"] is None and relay["detail"] == "in use by the lease holder of emu-520; not opened"


def test_probing_a_port_keeps_its_unread_input(pty_path: str) -> None:
    # bytes the device sent that the port's reader has not read yet must survive a probe
    import serial

    reader = serial.Serial(pty_path, timeout=2)
    try:
        master = _master_of(pty_path)
        os.write(master, b"+CMTI: \"SM\",3\r\n")
        deadline = time.monotonic() + 10
        while reader.in_waiting < 15:  # the bytes are in the port's input queue, unread
            assert time.monotonic() < deadline, f"expected 15 bytes waiting on {pty_path}; saw {reader.in_waiting}"
            time.sleep(0.01)
        assert probe_serial(pty_path, {}, "modem").answers
        assert reader.read(15) == b'+CMTI: "SM",3\r\n'
    finally:
        reader.close()


def test_harness_devices_text_and_bad_inventory(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "harness", "devices"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Serial ports:" in out.stdout
    bad = tmp_path / "rack.toml"
    bad.write_text('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "serial://x"\n')
    out = subprocess.run([sys.executable, "-m", "harness", "devices", "--inventory", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"harness devices: {bad}: handset[1].uri: 'serial://x': scheme must be "
                                               "emulator://PROFILE, adb-tcp://HOST:PORT, adb-usb://SERIAL or "
                                               "robot://PORT?camera=URL&calibration=FILE&profile=NAME"]


def test_without_any_libusb_discovery_says_so_and_still_lists_serial_ports(monkeypatch: pytest.MonkeyPatch,
                                                                           pty_path: str) -> None:
    # as on a machine with neither the libusb-package wheel nor a system libusb
    monkeypatch.setitem(sys.modules, "libusb_package", None)
    monkeypatch.setitem(sys.modules, "usb.backend.libusb1", None)
    inventory = Inventory(handsets=[HandsetEntry("usb-phone", "lumia-930", "adb-usb://930D00000001", console=pty_path)])
    report = discover(inventory)
    assert report.usb_backend is None and report.usb_phones == []
    assert report.usb_note == ("no libusb backend: libusb-package is not installed (pip install libusb-package); "
                               "USB phones are not listed")
    status = report.handsets[0]
    assert status.answers is False and status.detail == "USB not enumerated (no libusb backend)"
    assert status.ports[0].answers
    assert "none (no libusb backend" in format_report(report)


def test_usb_phones_through_the_emulated_usb_backend(emulator: dict, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.emulator.usb_backend import EmulatedUsbBackend
    from harness.profiles import load_profile

    monkeypatch.setenv("HARNESS_LEASE_DIR", str(tmp_path / "leases"))
    backend = EmulatedUsbBackend([emulator["usb"]])
    profile = load_profile("lumia-520")
    phones, name, note = find_usb_phones(backend)
    assert name == "EmulatedUsbBackend" and note is None
    assert len(phones) == 1
    phone = phones[0]
    assert (phone.serial, phone.vendor_id, phone.product_id) == (emulator["serial"], profile.usb_vendor_id, profile.usb_product_id)
    assert phone.manufacturer == profile.manufacturer and phone.location

    inventory = Inventory(handsets=[HandsetEntry("usb-520", "lumia-520", f"adb-usb://{emulator['serial']}"),
                                    HandsetEntry("unplugged", "lumia-930", "adb-usb://930D0000FFFF")], rack="usbtest")
    report = discover(inventory, usb_backend=backend)
    assert report.as_dict()["usb"]["phones"][0]["serial"] == emulator["serial"]
    attached, unplugged = report.handsets
    assert attached.answers is True
    assert attached.detail == (f"attached on USB at {phone.location} ({profile.usb_vendor_id:04x}:{profile.usb_product_id:04x}): "
                               "ADB device (Lumia 520), trusts our key")
    assert unplugged.answers is False and unplugged.detail == "no USB phone with serial 930D0000FFFF attached"

    # a leased phone is only looked for on the bus: a CNXN would reset its holder's ADB session
    with lease(inventory, "usb-520", wait=False):
        leased = discover(inventory, usb_backend=backend).handsets[0]
    assert leased.answers is True and leased.detail.endswith(f"({profile.usb_vendor_id:04x}:{profile.usb_product_id:04x})")
    assert leased.leased_by is not None


def test_each_handset_is_probed_by_its_own_scheme_and_one_failing_probe_spoils_no_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A scheme the lab adds (as the camera-and-robot one will come): one module and one line in the registry.
    # Discovery must ask it, with the deadline, and report its failure for its own handset only.
    asked: list[tuple[str, float, bool]] = []

    def probe(address: str, options) -> Probed:
        asked.append((address, options.deadline - time.monotonic(), options.disturb))
        if address == "broken":
            raise OSError("camera /dev/video9 vanished")
        return Probed(True, f"camera {address} sees a lit screen")

    def never_opened(address: str, options) -> None:
        raise AssertionError("discovery opens no handset")

    scheme = types.SimpleNamespace(USAGE="cam://NAME", STARTS_HANDSET=False, parse=lambda uri: uri.location,
                                   open=never_opened, probe=probe)
    monkeypatch.setitem(sys.modules, "lab_cam_scheme", scheme)
    monkeypatch.setitem(SCHEMES, "cam", "lab_cam_scheme")
    monkeypatch.setenv("HARNESS_LEASE_DIR", str(tmp_path / "leases"))
    closed = socket.create_server(("127.0.0.1", 0))
    free_port = closed.getsockname()[1]
    closed.close()
    bad_profile = tmp_path / "no-model.toml"
    bad_profile.write_text("model = 3\n")
    inventory = Inventory(handsets=[
        HandsetEntry("cam-ok", "lumia-930", "cam://desk1"),
        HandsetEntry("cam-broken", "lumia-930", "cam://broken"),
        HandsetEntry("tcp-off", "lumia-930", f"adb-tcp://127.0.0.1:{free_port}"),
        HandsetEntry("emu", "lumia-1320", "emulator://lumia-1320"),
        HandsetEntry("emu-bad", "lumia-930", f"emulator://{bad_profile}"),
    ])
    report = discover(inventory, timeout=4.0, comports=[])
    got = {h.name: (h.answers, h.detail) for h in report.handsets}
    assert got["cam-ok"] == (True, "camera desk1 sees a lit screen")
    assert got["cam-broken"] == (False, "cam:// probe failed: OSError: camera /dev/video9 vanished")
    assert got["tcp-off"][0] is False and got["tcp-off"][1].startswith("no TCP connection")
    assert got["emu"] == (None, "emulated Lumia 1320: started on demand")
    assert got["emu-bad"][0] is False and "profile cannot be loaded" in got["emu-bad"][1]
    assert "model: expected str" in got["emu-bad"][1]
    assert sorted(a for a, _, _ in asked) == ["broken", "desk1"]
    assert all(0 < left <= 4.0 and disturb for _, left, disturb in asked), asked
