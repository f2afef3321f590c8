"""Finding a serial port by what survives re-enumeration: its USB location or serial number.

``/dev/ttyUSB3`` today is ``/dev/ttyUSB5`` after a replug; ``usb-location:``
and ``usb-serial:`` names are looked up among pyserial's ``list_ports`` each
time a port is opened.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness.errors import HarnessError


class PortNotFound(HarnessError, LookupError):
    """A serial port named by USB location or serial number is not attached (or is ambiguous)."""


def _comports() -> list[Any]:
    from serial.tools import list_ports

    return list(list_ports.comports())


def _describe(port: Any) -> str:
    return f"{port.device} (location {port.location or '-'}, serial {port.serial_number or '-'})"


def resolve_port(spec: str, named: Mapping[str, str] | None = None, comports: Sequence[Any] | None = None) -> str:
    """Turn a port name into something ``serial.serial_for_url`` opens.

    ``@name`` is looked up in the inventory's [ports]; ``usb-location:1-1.4:1.0``
    and ``usb-serial:A50285BI`` are found among the attached ports (``comports``,
    default pyserial's ``list_ports.comports()``); a location without the
    ``:config.interface`` suffix matches when only one interface has it. Anything
    else (``/dev/ttyACM0``, ``rfc2217://...``, ``socket://...``) is returned as is.
    """
    if spec.startswith("@"):
        if named is None or spec[1:] not in named:
            raise PortNotFound(f"{spec!r}: no such entry in [ports]")
        return resolve_port(named[spec[1:]], None, comports)
    kind, sep, value = spec.partition(":")
    if not sep or kind not in ("usb-location", "usb-serial"):
        return spec
    ports = _comports() if comports is None else list(comports)
    if kind == "usb-location":
        found = [p for p in ports if p.location == value]
        if not found:
            found = [p for p in ports if p.location and p.location.split(":", 1)[0] == value]
    else:
        found = [p for p in ports if p.serial_number == value]
    if len(found) == 1:
        return str(found[0].device)
    usb_ports = [p for p in ports if p.location or p.serial_number]
    if not found:
        attached = ", ".join(_describe(p) for p in usb_ports) or "no USB serial ports attached"
        raise PortNotFound(f"{spec}: not attached (seen: {attached})")
    raise PortNotFound(f"{spec}: ambiguous, {len(found)} ports match ({', '.join(_describe(p) for p in found)}); "
                       "name it by usb-location:")
