"""A pyusb backend (``usb.backend.IBackend``) for emulated handsets, reached over their ``usb`` socket.

``usb.core.find(backend=EmulatedUsbBackend(["127.0.0.1:PORT"]))`` finds the
emulated phone exactly as libusb finds a real one: descriptors and strings
come from the device, bulk transfers go to its ADB interface, and errors are
libusb's (timeout -7, no device -4, busy -6, pipe -9), so the harness's USB
transport runs unchanged on both.
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

import usb.backend
import usb.core

from harness.emulator.usb_gadget import (
    LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_TIMEOUT, OP_ATTACH, OP_BULK_IN, OP_BULK_OUT, OP_CLAIM, OP_CLEAR_HALT,
    OP_DESCRIPTORS, OP_RELEASE, OP_STRING, REPLY, REQUEST, recv_exact,
)

_ERRNO = {-1: 5, -4: 19, -6: 16, -7: 110, -9: 32}
_STRERROR = {-1: "Input/Output Error", -4: "No such device (it may have been disconnected)", -6: "Resource busy",
             -7: "Operation timed out", -9: "Pipe error"}


def _error(code: int) -> usb.core.USBError:
    if code == LIBUSB_ERROR_TIMEOUT:
        return usb.core.USBTimeoutError(_STRERROR[code], code, _ERRNO[code])
    return usb.core.USBError(_STRERROR.get(code, "error"), code, _ERRNO.get(code))


class _Descriptor:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)
        self.extra_descriptors = []


@dataclass
class _Dev:
    address: str
    index: int
    device: _Descriptor
    config: _Descriptor
    interfaces: list[_Descriptor]
    endpoints: list[list[_Descriptor]]


class _Handle:
    """One open device: its own socket to the gadget (a claim belongs to the connection)."""

    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        try:
            self.sock = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            raise _error(LIBUSB_ERROR_NO_DEVICE) from None
        self.sock.settimeout(None)
        self.lock = threading.Lock()
        self.address = address
        self.link = b""
        self.reader: "_Handle | None" = None  # the IN endpoint's own connection

    def in_endpoint(self) -> "_Handle":
        if self.reader is None:
            reader = _Handle(self.address)
            reader.call(OP_ATTACH, 0, len(self.link), 0, self.link)
            self.reader = reader
        return self.reader

    def call(self, op: int, arg: int = 0, length: int = 0, timeout_ms: int = 0, payload: bytes = b"") -> bytes:
        with self.lock:
            try:
                self.sock.sendall(REQUEST.pack(op, arg, length, timeout_ms) + payload)
                if timeout_ms:
                    self.sock.settimeout(timeout_ms / 1000 + 5)
                status, n = REPLY.unpack(recv_exact(self.sock, REPLY.size))
                data = recv_exact(self.sock, n) if n else b""
            except (OSError, EOFError):
                raise _error(LIBUSB_ERROR_NO_DEVICE) from None
            finally:
                self.sock.settimeout(None)
        if status < 0:
            raise _error(status)
        return data


def _parse(address: str, index: int, raw: bytes) -> _Dev:
    d = struct.unpack_from("<BBHBBBBHHHBBBB", raw, 0)
    device = _Descriptor(bLength=d[0], bDescriptorType=d[1], bcdUSB=d[2], bDeviceClass=d[3], bDeviceSubClass=d[4],
                         bDeviceProtocol=d[5], bMaxPacketSize0=d[6], idVendor=d[7], idProduct=d[8], bcdDevice=d[9],
                         iManufacturer=d[10], iProduct=d[11], iSerialNumber=d[12], bNumConfigurations=d[13],
                         address=index + 1, bus=9, port_number=index + 1, port_numbers=(index + 1,), speed=3)
    offset = 18
    c = struct.unpack_from("<BBHBBBBB", raw, offset)
    config = _Descriptor(bLength=c[0], bDescriptorType=c[1], wTotalLength=c[2], bNumInterfaces=c[3],
                         bConfigurationValue=c[4], iConfiguration=c[5], bmAttributes=c[6], bMaxPower=c[7])
    offset += c[0]
    interfaces: list[_Descriptor] = []
    endpoints: list[list[_Descriptor]] = []
    while offset < len(raw):
        length, kind = raw[offset], raw[offset + 1]
        if kind == 4:
            i = struct.unpack_from("<BBBBBBBBB", raw, offset)
            interfaces.append(_Descriptor(bLength=i[0], bDescriptorType=i[1], bInterfaceNumber=i[2], bAlternateSetting=i[3],
                                          bNumEndpoints=i[4], bInterfaceClass=i[5], bInterfaceSubClass=i[6],
                                          bInterfaceProtocol=i[7], iInterface=i[8]))
            endpoints.append([])
        elif kind == 5:
            e = struct.unpack_from("<BBBBHB", raw, offset)
            endpoints[-1].append(_Descriptor(bLength=e[0], bDescriptorType=e[1], bEndpointAddress=e[2], bmAttributes=e[3],
                                             wMaxPacketSize=e[4], bInterval=e[5], bRefresh=0, bSynchAddress=0))
        offset += length
    return _Dev(address, index, device, config, interfaces, endpoints)


@dataclass
class EmulatedUsbBackend(usb.backend.IBackend):
    """The USB bus of emulated handsets: one ``usb`` endpoint per device."""

    addresses: Sequence[str] = field(default_factory=list)

    def enumerate_devices(self) -> list[_Dev]:
        devices = []
        for i, address in enumerate(self.addresses):
            try:
                handle = _Handle(address)
                raw = handle.call(OP_DESCRIPTORS)
                handle.sock.close()
            except usb.core.USBError:
                continue  # unplugged or powered off: not on the bus
            devices.append(_parse(address, i, raw))
        return devices

    def get_device_descriptor(self, dev: _Dev) -> _Descriptor:
        return dev.device

    def get_configuration_descriptor(self, dev: _Dev, config: int) -> _Descriptor:
        if config != 0:
            raise IndexError("configuration index out of range")
        return dev.config

    def get_interface_descriptor(self, dev: _Dev, intf: int, alt: int, config: int) -> _Descriptor:
        if config != 0 or alt != 0 or intf >= len(dev.interfaces):
            raise IndexError("interface index out of range")
        return dev.interfaces[intf]

    def get_endpoint_descriptor(self, dev: _Dev, ep: int, intf: int, alt: int, config: int) -> _Descriptor:
        if config != 0 or alt != 0 or intf >= len(dev.endpoints) or ep >= len(dev.endpoints[intf]):
            raise IndexError("endpoint index out of range")
        return dev.endpoints[intf][ep]

    def open_device(self, dev: _Dev) -> _Handle:
        return _Handle(dev.address)

    def close_device(self, handle: _Handle) -> None:
        for h in (handle.reader, handle):
            if h is not None:
                try:
                    h.sock.close()
                except OSError:
                    pass

    def set_configuration(self, handle: _Handle, config_value: int) -> None:
        return None

    def get_configuration(self, handle: _Handle) -> int:
        return 1

    def set_interface_altsetting(self, handle: _Handle, intf: int, altsetting: int) -> None:
        return None

    def claim_interface(self, handle: _Handle, intf: int) -> None:
        handle.link = handle.call(OP_CLAIM, intf)
        handle.reader = None

    def release_interface(self, handle: _Handle, intf: int) -> None:
        try:
            handle.call(OP_RELEASE, intf)
        except usb.core.USBError:
            pass

    def bulk_write(self, handle: _Handle, ep: int, intf: int, data: Any, timeout: int) -> int:
        payload = bytes(data)
        handle.call(OP_BULK_OUT, ep, len(payload), timeout, payload)
        return len(payload)

    def bulk_read(self, handle: _Handle, ep: int, intf: int, buff: Any, timeout: int) -> int:
        data = handle.in_endpoint().call(OP_BULK_IN, ep & 0x7F, len(buff), timeout or 0)
        buff[:len(data)] = type(buff)("B", data) if hasattr(buff, "typecode") else data
        return len(data)

    def clear_halt(self, handle: _Handle, ep: int) -> None:
        handle.call(OP_CLEAR_HALT, ep)

    def ctrl_transfer(self, handle: _Handle, bmRequestType: int, bRequest: int, wValue: int, wIndex: int,
                      data: Any, timeout: int) -> int:
        if bmRequestType & 0x80 and bRequest == 6 and wValue >> 8 == 3:  # GET_DESCRIPTOR(STRING)
            raw = handle.call(OP_STRING, wValue & 0xFF)
            n = min(len(raw), len(data))
            data[:n] = type(data)("B", raw[:n]) if hasattr(data, "typecode") else raw[:n]
            return n
        raise _error(-9)

    def reset_device(self, handle: _Handle) -> None:
        return None

    def is_kernel_driver_active(self, handle: _Handle, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, handle: _Handle, intf: int) -> None:
        return None

    def attach_kernel_driver(self, handle: _Handle, intf: int) -> None:
        return None
