"""ADB over USB: the same driver through pyusb, on the emulated USB backend (descriptors from the device).

The emulator runs as its own process; the backend reaches it over its ``usb`` socket, as libusb reaches a bus.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
import usb.core
import usb.util

from harness.adb import AdbHandset, DeviceOffline
from harness.adb.auth import load_or_create_key
from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess
from harness.emulator.usb_backend import EmulatedUsbBackend
from harness.errors import HarnessError
from harness.handsets import connect_handset
from harness.transport.usb import UsbPipe, find_adb_devices


@pytest.fixture
def usb_phone(tmp_path, monkeypatch):
    """An emulated lumia-920 in its own process, and the pyusb backend that reaches its USB socket."""
    monkeypatch.setenv("HARNESS_ADB_KEY", str(tmp_path / "adbkey"))
    load_or_create_key(tmp_path / "adbkey")
    proc = EmulatorProcess("lumia-920", ["--animation-ms", "0", "--boot-time", "0.3", "--no-user-keys",
                                         "--adb-key", str(tmp_path / "adbkey.pub")], log_path=tmp_path / "emulator.log")
    proc.start()
    try:
        yield proc.endpoints, EmulatedUsbBackend([proc.endpoints["usb"]])
    finally:
        proc.stop()


def test_pyusb_finds_the_phone_by_its_own_descriptors(usb_phone) -> None:
    endpoints, backend = usb_phone
    dev = usb.core.find(backend=backend, idVendor=0x0421, idProduct=0x0661)
    assert dev is not None and dev.serial_number == endpoints["serial"] and dev.product == "Lumia 920"
    intf = dev[0][(0, 0)]
    assert (intf.bInterfaceClass, intf.bInterfaceSubClass, intf.bInterfaceProtocol) == (0xFF, 0x42, 0x01)
    assert sorted(e.bEndpointAddress for e in intf) == [0x01, 0x81]
    assert [s for _, s in find_adb_devices(backend)] == [endpoints["serial"]]


def test_same_driver_over_usb_shell_screencap_and_ten_megabytes(usb_phone) -> None:
    endpoints, backend = usb_phone
    handset = connect_handset(f"adb-usb://{endpoints['serial']}", usb_backend=backend)
    assert handset.shell("echo over usb") == "over usb\n"
    assert handset.screenshot().shape == (1280, 768, 3)
    data = os.urandom(10 * 1024 * 1024)
    handset.push(data, "/data/local/tmp/usb.bin")
    assert handset.pull("/data/local/tmp/usb.bin") == data
    handset.close()


def test_a_second_claim_is_busy_and_says_who_to_blame(usb_phone) -> None:
    endpoints, backend = usb_phone
    first = UsbPipe.find(endpoints["serial"], backend=backend)
    with pytest.raises(HarnessError, match="claimed by another program"):
        UsbPipe.find(endpoints["serial"], backend=backend)
    first.close()


def test_unplugged_mid_transfer_gives_a_typed_error_within_the_timeout(usb_phone, tmp_path) -> None:
    endpoints, backend = usb_phone
    key = load_or_create_key(tmp_path / "adbkey")
    from harness.adb import AdbConnection

    handset = AdbHandset(lambda: AdbConnection(UsbPipe.find(endpoints["serial"], backend=backend), key,
                                               timeout=3).connect(), "usb", timeout=3, reconnect_timeout=1)
    errors: list[BaseException] = []
    pulled = threading.Event()

    def pull_forever() -> None:
        try:
            while True:
                handset.screenshot()
                pulled.set()
        except BaseException as exc:
            errors.append(exc)
            pulled.set()

    worker = threading.Thread(target=pull_forever)
    worker.start()
    assert pulled.wait(30) and not errors, f"no screenshot came over USB before the unplug: {errors}"
    started = time.monotonic()
    with ControlClient.for_endpoints(endpoints) as control:
        control.call("usb_unplug")
    worker.join(10)
    assert not worker.is_alive() and errors and isinstance(errors[0], DeviceOffline)
    assert time.monotonic() - started < 1 + 3 + 8, "DeviceOffline came later than the 1 s reconnect deadline (+3 s connect, +8 s load)"
    assert find_adb_devices(backend) == []          # gone from the bus
    with ControlClient.for_endpoints(endpoints) as control:
        control.call("usb_plug")
    assert [s for _, s in find_adb_devices(backend)] == [endpoints["serial"]]


def test_without_a_usb_phone_the_default_backend_is_libusb_package_s_and_the_error_one_line(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no backend given: the transport takes the libusb that discovery lists phones with (this machine has no bus)
    from harness.transport.base import TransportClosed
    from harness.transport.usb import libusb_backend

    monkeypatch.setenv("HARNESS_ADB_KEY", str(tmp_path / "adbkey"))
    assert libusb_backend()[1] == "libusb1 (libusb-package)"
    with pytest.raises(TransportClosed) as caught:
        connect_handset("adb-usb://930D0000BEEF", timeout=2)
    assert str(caught.value) == "no USB phone with an ADB interface and serial '930D0000BEEF' (attached: none)"


def test_no_libusb_at_all_is_a_typed_one_line_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as on a machine with neither the libusb-package wheel nor a system libusb
    from harness.transport.usb import NoUsbBackend

    monkeypatch.setenv("HARNESS_ADB_KEY", str(tmp_path / "adbkey"))
    monkeypatch.setitem(sys.modules, "libusb_package", None)
    monkeypatch.setitem(sys.modules, "usb.backend.libusb1", None)
    with pytest.raises(NoUsbBackend) as caught:
        connect_handset("adb-usb://930D0000BEEF", timeout=2)
    assert isinstance(caught.value, HarnessError)
    assert str(caught.value) == "no libusb backend: libusb-package is not installed (pip install libusb-package)"
