"""USB byte pipe through pyusb: the ADB interface (class 0xff, subclass 0x42, protocol 0x01) and its bulk endpoints.

The same code runs on libusb (real phones) and on the emulated backend. Unless
a backend is given, it is the libusb that the ``libusb-package`` wheel ships
(else the system's), the same one ``harness devices`` lists phones with; with
neither, opening a USB phone is a one-line ``NoUsbBackend``. A phone already
claimed by another program (the adb server) is a typed error that says so.
"""

from __future__ import annotations

import errno
import time
from typing import Any

import usb.core
import usb.util

from harness.adb_wire import ADB_USB_INTERFACE as ADB_INTERFACE
from harness.deadline import left
from harness.errors import HarnessError
from harness.transport.base import TransportClosed, TransportTimeout


class NoUsbBackend(HarnessError):
    """No libusb to reach USB phones with: neither the ``libusb-package`` wheel's nor the system's."""


def libusb_backend() -> tuple[Any, str]:
    """(pyusb backend, its name): libusb-package's libusb first, then the system's; ``NoUsbBackend`` says why not."""
    try:
        import libusb_package
    except ImportError:
        why = "libusb-package is not installed (pip install libusb-package)"
    else:
        try:
            backend = libusb_package.get_libusb1_backend()
        except Exception as exc:  # a broken wheel: say so, try the system library
            backend, why = None, f"libusb-package failed: {exc}"
        else:
            why = "libusb-package found no usable libusb"
        if backend is not None:
            return backend, "libusb1 (libusb-package)"
    try:
        import usb.backend.libusb1

        backend = usb.backend.libusb1.get_backend()
    except Exception:
        backend = None
    if backend is not None:
        return backend, "libusb1 (system)"
    raise NoUsbBackend(f"no libusb backend: {why}")


def adb_interface(dev: Any) -> Any | None:
    """The device's ADB interface (``ADB_INTERFACE``), else None; unreadable descriptors raise ``usb.core.USBError``."""
    for cfg in dev:
        for intf in cfg:
            if (intf.bInterfaceClass, intf.bInterfaceSubClass, intf.bInterfaceProtocol) == ADB_INTERFACE:
                return intf
    return None


def _readable_adb_interface(dev: Any) -> Any | None:
    try:
        return adb_interface(dev)
    except usb.core.USBError:
        return None


def find_adb_devices(backend: Any = None) -> list[tuple[Any, str]]:
    """(device, serial number) of every attached device with an ADB interface (backend: see ``libusb_backend``)."""
    if backend is None:
        backend, _ = libusb_backend()
    found = []
    for dev in usb.core.find(find_all=True, backend=backend) or []:
        if _readable_adb_interface(dev) is None:
            continue
        try:
            serial = usb.util.get_string(dev, dev.iSerialNumber) or ""
        except (usb.core.USBError, ValueError):
            serial = ""
        found.append((dev, serial))
    return found


def _map(exc: usb.core.USBError, what: str, timeout: float) -> Exception:
    if isinstance(exc, usb.core.USBTimeoutError) or exc.errno == errno.ETIMEDOUT:
        return TransportTimeout(what, "nothing", timeout)
    if exc.errno == errno.EBUSY or exc.backend_error_code == -6:
        return TransportClosed(f"{what}: the ADB interface is claimed by another program (is an adb server running? "
                               "`adb kill-server`)")
    return TransportClosed(f"{what}: {exc} (unplugged or powered off?)")


class UsbPipe:
    """The bulk IN/OUT pair of one phone's ADB interface."""

    def __init__(self, dev: Any, serial: str, timeout: float = 10.0) -> None:
        self.dev = dev
        self.description = f"usb://{serial or f'{dev.idVendor:04x}:{dev.idProduct:04x}'}"
        intf = _readable_adb_interface(dev)
        if intf is None:
            raise TransportClosed(f"{self.description}: no ADB interface")
        self.interface = intf.bInterfaceNumber
        try:
            if dev.is_kernel_driver_active(self.interface):
                dev.detach_kernel_driver(self.interface)
        except (NotImplementedError, usb.core.USBError):
            pass
        try:
            usb.util.claim_interface(dev, self.interface)
        except usb.core.USBError as exc:
            raise _map(exc, f"claiming {self.description}", timeout) from None
        self.ep_out = usb.util.find_descriptor(intf, custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress) == usb.util.ENDPOINT_OUT)
        self.ep_in = usb.util.find_descriptor(intf, custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress) == usb.util.ENDPOINT_IN)
        if self.ep_out is None or self.ep_in is None:
            raise TransportClosed(f"{self.description}: the ADB interface lacks a bulk endpoint pair")
        for ep in (self.ep_out, self.ep_in):
            try:
                dev.clear_halt(ep)  # as the adb host does after claiming
            except usb.core.USBError:
                pass
        self._buf = bytearray()

    @classmethod
    def find(cls, serial: str | None = None, backend: Any = None, timeout: float = 10.0) -> "UsbPipe":
        devices = find_adb_devices(backend)
        for dev, found_serial in devices:
            if serial in (None, "", found_serial):
                return cls(dev, found_serial, timeout)
        seen = ", ".join(s or "?" for _, s in devices) or "none"
        raise TransportClosed(f"no USB phone with an ADB interface and serial {serial!r} (attached: {seen})")

    def write(self, data: bytes, timeout: float) -> None:
        timeout = left(timeout) or 0.0
        ms = max(1, int(timeout * 1000))
        try:
            self.ep_out.write(data, ms)
            if data and len(data) % self.ep_out.wMaxPacketSize == 0:
                self.ep_out.write(b"", ms)  # a zero-length packet ends a transfer of whole packets
        except usb.core.USBError as exc:
            raise _map(exc, f"writing {len(data)} bytes to {self.description}", timeout) from None

    def read_exact(self, n: int, timeout: float | None) -> bytes:
        """``n`` bytes; ``timeout`` (None: none) bounds the whole call, however the device splits its packets."""
        timeout = left(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while len(self._buf) < n:
            size = max(n - len(self._buf), self.ep_in.wMaxPacketSize)
            if deadline is None:
                ms = 0  # pyusb: no timeout
            else:
                ms = int((deadline - time.monotonic()) * 1000)
                if ms <= 0:
                    raise TransportTimeout(f"{n} bytes from {self.description}", f"{len(self._buf)} bytes", timeout or 0)
            try:
                chunk = self.ep_in.read(size, ms)
            except usb.core.USBError as exc:
                raise _map(exc, f"{n} bytes from {self.description}", timeout or 0) from None
            self._buf += bytes(chunk)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def close(self) -> None:
        try:
            usb.util.release_interface(self.dev, self.interface)
        except (usb.core.USBError, ValueError):
            pass
        usb.util.dispose_resources(self.dev)
