"""What is attached right now: ADB phones on USB, serial ports, and whether the inventory answers.

USB enumeration goes through pyusb with the libusb that the ``libusb-package``
wheel ships, so a fresh machine needs no system libusb; any pyusb backend
object can be passed instead (tests pass the emulated one). Serial ports come
from pyserial's ``list_ports``. Probing the inventory asks each handset's URI
scheme whether its handset is there (``harness.handsets.probe_uri``, the scheme
module's ``probe``: the ADB schemes try a CNXN) and opens each serial port,
all in parallel, each within the timeout.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from harness.lab.inventory import HandsetEntry, Inventory, PortNotFound, resolve_port

@dataclass
class UsbPhone:
    """A USB device with an ADB interface."""

    vendor_id: int
    product_id: int
    serial: str | None
    bus: int | None
    address: int | None
    location: str | None  # bus-port.port, as list_ports and uhubctl name it
    interface: int
    manufacturer: str | None = None
    product: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["vendor_id"], d["product_id"] = f"{self.vendor_id:04x}", f"{self.product_id:04x}"
        return d


@dataclass
class SerialPort:
    """A serial port the OS offers, with what USB says about it."""

    device: str
    vendor_id: int | None
    product_id: int | None
    serial_number: str | None
    location: str | None
    description: str | None
    manufacturer: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["vendor_id"] = f"{self.vendor_id:04x}" if self.vendor_id is not None else None
        d["product_id"] = f"{self.product_id:04x}" if self.product_id is not None else None
        return d


@dataclass
class PortStatus:
    """One serial port of a handset: as named, as resolved, and whether it opens now."""

    field: str
    spec: str
    device: str | None
    answers: bool | None  # None: not opened, a run is using it
    detail: str


@dataclass
class HandsetStatus:
    name: str
    profile: str
    uri: str
    answers: bool | None  # None: an emulator:// handset that starts on demand
    detail: str
    leased_by: dict[str, Any] | None = None
    ports: list[PortStatus] = field(default_factory=list)
    power: str | None = None


@dataclass
class Report:
    usb_backend: str | None
    usb_note: str | None
    usb_phones: list[UsbPhone]
    serial_ports: list[SerialPort]
    inventory: str | None = None
    rack: str | None = None
    handsets: list[HandsetStatus] = field(default_factory=list)
    named_ports: list[PortStatus] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "usb": {"backend": self.usb_backend, "note": self.usb_note,
                    "phones": [p.as_dict() for p in self.usb_phones]},
            "serial_ports": [p.as_dict() for p in self.serial_ports],
            "inventory": None if self.inventory is None else {
                "path": self.inventory,
                "rack": self.rack,
                "handsets": [asdict(h) for h in self.handsets],
                "ports": [asdict(p) for p in self.named_ports],
            },
        }


# ---------------------------------------------------------------------- USB
def default_usb_backend() -> tuple[Any, str | None, str | None]:
    """(backend, its name, a note when there is none): the USB transport's libusb (libusb-package's, else the system's)."""
    from harness.transport.usb import NoUsbBackend, libusb_backend

    try:
        backend, name = libusb_backend()
    except NoUsbBackend as exc:
        return None, None, f"{exc}; USB phones are not listed"
    return backend, name, None


def _adb_interface(dev: Any) -> int | None:
    from harness.transport.usb import adb_interface

    intf = adb_interface(dev)
    return None if intf is None else int(intf.bInterfaceNumber)


def _string(dev: Any, index: int) -> str | None:
    import usb.util

    if not index:
        return None
    value = usb.util.get_string(dev, index)
    return None if value is None else str(value)


def find_usb_phones(backend: Any = None, name: str | None = None) -> tuple[list[UsbPhone], str | None, str | None]:
    """ADB-capable USB devices: (phones, backend name, note when something could not be read)."""
    import usb.core

    name = name or (type(backend).__name__ if backend is not None else None)
    note = None
    if backend is None:
        backend, name, note = default_usb_backend()
        if backend is None:
            return [], None, note
    try:
        devices = list(usb.core.find(find_all=True, backend=backend))
    except (usb.core.USBError, usb.core.NoBackendError, OSError) as exc:
        return [], name, f"USB enumeration failed: {exc}"
    phones = []
    for dev in devices:
        try:
            intf = _adb_interface(dev)
        except usb.core.USBError as exc:
            note = f"cannot read descriptors of {dev.idVendor:04x}:{dev.idProduct:04x}: {exc}"
            continue
        if intf is None:
            continue
        strings: dict[str, str | None] = {}
        problem = None
        for key, index in (("serial", dev.iSerialNumber), ("manufacturer", dev.iManufacturer), ("product", dev.iProduct)):
            try:
                strings[key] = _string(dev, index)
            except (usb.core.USBError, ValueError, NotImplementedError) as exc:
                strings[key] = None
                problem = f"cannot read strings (permissions? see udev rules): {exc}"
        ports = getattr(dev, "port_numbers", None)
        bus = getattr(dev, "bus", None)
        location = f"{bus}-{'.'.join(map(str, ports))}" if bus is not None and ports else None
        phones.append(UsbPhone(dev.idVendor, dev.idProduct, strings["serial"], bus, getattr(dev, "address", None),
                               location, intf, strings["manufacturer"], strings["product"], problem))
    if not phones and note is None and not devices:
        note = "no USB devices visible"
    return phones, name, note


# ---------------------------------------------------------------------- serial ports
def list_serial_ports(comports: Sequence[Any] | None = None) -> list[SerialPort]:
    """Serial ports with their USB vendor/product id, serial number and location."""
    if comports is None:
        from serial.tools import list_ports

        comports = list_ports.comports()
    return [SerialPort(p.device, p.vid, p.pid, p.serial_number, p.location,
                       None if p.description in (None, "n/a") else p.description, p.manufacturer)
            for p in comports]


def probe_serial(spec: str, named: dict[str, str], fld: str, timeout: float = 2.0,
                 comports: Sequence[Any] | None = None, in_use_by: str | None = None) -> PortStatus:
    """Resolve a port name and check that it opens, disturbing nobody.

    A local device is opened with a bare non-blocking ``open(2)``: pyserial's
    open would flush the tty's input that another reader has not read yet. A
    URL (``rfc2217://``) is opened with pyserial, but never while a run uses
    the port (``in_use_by``): ser2net may drop that run's connection for ours
    (``kickolduser``) and our settings would replace its own.
    """
    try:
        device = resolve_port(spec, named, comports)
    except PortNotFound as exc:
        return PortStatus(fld, spec, None, False, str(exc))
    if in_use_by:
        return PortStatus(fld, spec, device, None, f"in use by {in_use_by}; not opened")
    if "://" not in device:
        try:
            fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            return PortStatus(fld, spec, device, False, f"cannot open: {exc.strerror or exc}")
        os.close(fd)
        return PortStatus(fld, spec, device, True, "opens")
    import serial

    try:
        # rfc2217:// takes its negotiation timeout from the URL (``?timeout=3``) and has no write_timeout
        port = serial.serial_for_url(device, timeout=timeout, do_not_open=True)
        port.open()
        port.close()
    except (serial.SerialException, OSError, ValueError) as exc:
        return PortStatus(fld, spec, device, False, f"cannot open: {exc}")
    except Exception as exc:  # a URL handler's own failure: still one port that does not answer
        return PortStatus(fld, spec, device, False, f"cannot open: {type(exc).__name__}: {exc}")
    return PortStatus(fld, spec, device, True, "opens")


# ---------------------------------------------------------------------- handsets
def probe_handset(inventory: Inventory, entry: HandsetEntry, usb_phones: list[UsbPhone] | None = None,
                  timeout: float = 2.0, comports: Sequence[Any] | None = None,
                  lease_directory: Any = None, usb_backend: Any = None) -> HandsetStatus:
    """Whether a handset and each of its serial ports answer right now, and who leases it."""
    from harness.handsets import ProbeOptions, probe_uri
    from harness.lab.leases import holder_of, lease_key

    holder = holder_of(lease_key(entry, inventory), lease_directory)
    answers, detail = probe_uri(entry.uri, ProbeOptions.within(timeout, usb_phones=usb_phones, usb_backend=usb_backend,
                                                               disturb=holder is None))
    user = f"{entry.name}'s lease holder, {holder.describe()}" if holder else None
    ports = [probe_serial(spec, inventory.ports, fld, timeout, comports, user) for fld, spec in entry.ports().items()]
    return HandsetStatus(entry.name, entry.profile, entry.uri, answers, detail,
                         holder.as_dict() | {"text": holder.describe()} if holder else None, ports,
                         entry.power.describe() if entry.power else None)


def discover(inventory: Inventory | None = None, usb_backend: Any = None, timeout: float = 2.0,
             comports: Sequence[Any] | None = None, lease_directory: Any = None) -> Report:
    """Everything ``harness devices`` shows."""
    backend_name: str | None = None
    note: str | None = None
    phones: list[UsbPhone] = []
    if usb_backend is None:
        usb_backend, backend_name, note = default_usb_backend()
    if usb_backend is not None:
        phones, backend_name, note = find_usb_phones(usb_backend, backend_name)
    usb_ok = backend_name is not None
    if comports is None:
        from serial.tools import list_ports

        comports = list(list_ports.comports())
    report = Report(backend_name, note, phones, list_serial_ports(comports))
    if inventory is None:
        return report
    report.inventory, report.rack = inventory.path, inventory.rack
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(inventory.handsets) + len(inventory.ports)))) as pool:
        handsets = [pool.submit(probe_handset, inventory, e, phones if usb_ok else None, timeout, comports,
                                lease_directory, usb_backend) for e in inventory.handsets]
        report.handsets = [f.result() for f in handsets]
        leased = {h.name for h in report.handsets if h.leased_by}
        users = {name: [e.name for e in inventory.handsets if e.name in leased and f"@{name}" in e.ports().values()]
                 for name in inventory.ports}
        named = [pool.submit(probe_serial, spec, inventory.ports, f"@{name}", timeout, comports,
                             f"the lease holder of {', '.join(users[name])}" if users[name] else None)
                 for name, spec in inventory.ports.items()]
        report.named_ports = [f.result() for f in named]
    return report


# ---------------------------------------------------------------------- text
def _yes(answers: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[answers]


def format_report(report: Report) -> str:
    """The human-readable form of ``harness devices``."""
    lines = [f"USB phones with an ADB interface ({report.usb_backend or 'no backend'}):"]
    for p in report.usb_phones:
        lines.append(f"  {p.vendor_id:04x}:{p.product_id:04x}  serial {p.serial or '?'}  at {p.location or '?'}"
                     f"  {p.manufacturer or ''} {p.product or ''}".rstrip() + (f"  ({p.note})" if p.note else ""))
    if not report.usb_phones:
        lines.append(f"  none{f' ({report.usb_note})' if report.usb_note else ''}")
    lines.append("Serial ports:")
    for s in report.serial_ports:
        usb = (f"  {s.vendor_id:04x}:{s.product_id:04x}" if s.vendor_id is not None and s.product_id is not None else "")
        extra = "".join(f"  {k} {v}" for k, v in (("serial", s.serial_number), ("location", s.location)) if v)
        lines.append(f"  {s.device}{usb}{extra}{f'  {s.description}' if s.description else ''}")
    if not report.serial_ports:
        lines.append("  none")
    if report.inventory is not None:
        lines.append(f"Inventory {report.inventory}{f' (rack {report.rack})' if report.rack else ''}:")
        for h in report.handsets:
            lease = f"  leased by {h.leased_by['text']}" if h.leased_by else "  free"
            lines.append(f"  {h.name}  {h.profile}  {h.uri}  answers: {_yes(h.answers)} ({h.detail}){lease}")
            for hp in h.ports:
                resolved = f" -> {hp.device}" if hp.device and hp.device != hp.spec else ""
                lines.append(f"    {hp.field}: {hp.spec}{resolved}  answers: {_yes(hp.answers)} ({hp.detail})")
            if h.power:
                lines.append(f"    power switch: {h.power}")
        for np_ in report.named_ports:
            resolved = f" -> {np_.device}" if np_.device and np_.device != np_.spec else ""
            lines.append(f"  port {np_.field}: {np_.spec}{resolved}  answers: {_yes(np_.answers)} ({np_.detail})")
    return "\n".join(lines)
