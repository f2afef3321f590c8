"""The labgrid exporter configuration of a rack inventory, and the place each handset gets.

One resource group per handset, named like its inventory entry:

* ``adb``: ``AndroidNetFastboot`` (``address``, ``port``, ``protocol: tcp``): the
  handset's own for ``adb-tcp://``; for ``adb-usb://`` the export's ADB-over-TCP
  service of that phone (``usb_bridge``) at the published address. labgrid
  26.0.1 has no ADB class; this is its only resource for an Android device
  reached at an IP address and TCP port, with nothing that means something else
  (``NetworkService`` is an SSH login and requires a user name). labgrid's own
  fastboot driver would speak the wrong protocol to it; the harness reads only
  the address and port (docs/rack.md).
* ``console``, ``modem``: ``NetworkSerialPort`` over RFC 2217. A local port
  (``/dev/...``, a pty, ``usb-location:``/``usb-serial:``) is served by the
  export's ser2net; an ``rfc2217://`` or ``socket://`` port already on the
  network is published as it is (``protocol`` ``rfc2217`` or ``raw``).
* ``power``: ``NetworkPowerPort`` (``model`` lcus or uhubctl, ``host`` where the
  switch is reached, ``index`` the channel). For a relay board that is its RFC
  2217 URL; for uhubctl, ``HOSTNAME:HUB``, and only for an export to this host
  alone (``--hostname`` a loopback address): ``refuse_remote_hubs``.

The place has one match, ``EXPORTER/GROUP/*``, and the tags ``profile``,
``os_version``, ``modem_number`` (when known) and ``<tag>=yes`` per inventory tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from harness.lab.inventory import HandsetEntry, Inventory
from harness.lab.labgrid import LabgridError
from harness.lab.labgrid.ser2net import LocalPort

#: labgrid's tag keys (``labgrid.remote.common.TAG_KEY``): a lower-case letter, then letters, digits, ``_``.
_TAG_KEY = re.compile(r"[a-z][a-z0-9_]+\Z")
#: Relay boards speak 9600 baud (harness.power); consoles the profile's speed; modems 115200.
RELAY_SPEED = 9600
MODEM_SPEED = 115200


@dataclass
class PlaceSpec:
    """A place the export makes when the coordinator has none by that name."""

    name: str
    matches: list[str]
    tags: dict[str, str]
    comment: str


@dataclass
class ExportPlan:
    """What one ``harness lab export`` publishes: ser2net's ports, the exporter's groups, the places, and notes."""

    local_ports: list[LocalPort] = field(default_factory=list)
    #: ``adb-usb://`` handsets (name -> USB serial) the export serves as ADB over TCP (``usb_bridge``).
    usb_handsets: dict[str, str] = field(default_factory=dict)
    places: list[PlaceSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _inventory: Inventory | None = None
    _ports: dict[str, dict[str, str]] = field(default_factory=dict)  # handset -> field -> resolved port

    def groups(self, hostname: str, served: Mapping[str, int],
               bridged: Mapping[str, int] | None = None) -> dict[str, Any]:
        """The exporter configuration (YAML-ready), given where ser2net serves each local port and where the
        export serves each ``adb-usb://`` handset as ADB over TCP (``bridged``: handset name -> port)."""
        assert self._inventory is not None
        refuse_remote_hubs(self._inventory, hostname)
        out: dict[str, Any] = {}
        for entry in self._inventory.handsets:
            group: dict[str, Any] = {"location": f"{self._inventory.rack or 'rack'} on {hostname}"}
            adb = _adb_resource(entry)
            if entry.name in (bridged or {}):
                adb = {"cls": "AndroidNetFastboot", "address": hostname, "port": bridged[entry.name],  # type: ignore
                       "protocol": "tcp"}
            if adb:
                group["adb"] = adb
            for name, port in self._ports[entry.name].items():
                url = _network_url(port, hostname, served)
                if name == "power":
                    assert entry.power is not None
                    # a pyserial URL, ready to open: ser2net on a pty (an emulated relay) answers no modem-control
                    # option, and a relay board needs none
                    if url.startswith("rfc2217://") and "?" not in url:
                        url += "?ign_set_control"
                    group["power"] = {"cls": "NetworkPowerPort", "model": "lcus", "host": url,
                                      "index": str(entry.power.channel)}
                else:
                    group[name] = _serial_resource(url, self._speed(entry, name))
            if entry.power is not None and entry.power.kind == "uhubctl":
                group["power"] = {"cls": "NetworkPowerPort", "model": "uhubctl",
                                  "host": f"{hostname}:{entry.power.hub}",
                                  "index": str(entry.power.channel)}
            out[entry.name] = group
        return out

    def _speed(self, entry: HandsetEntry, name: str) -> int:
        assert self._inventory is not None
        return self._inventory.profile_of(entry).console.baudrate if name == "console" else MODEM_SPEED


def plan_export(inventory: Inventory, exporter: str) -> ExportPlan:
    """Resolve the inventory's ports now and decide what to serve, publish and which places to offer."""
    plan = ExportPlan(_inventory=inventory)
    local: dict[str, LocalPort] = {}
    for entry in inventory.handsets:
        if entry.emulated:
            raise LabgridError(f"{inventory.path}: handset {entry.name}: {entry.uri} starts a handset on demand, "
                               "nothing stays to export; export the inventory a running emulated rack writes "
                               "(docs/rack.md)")
        if entry.scheme == "adb-usb":
            plan.usb_handsets[entry.name] = urlsplit(entry.uri).netloc  # served as ADB over TCP by the export
        elif _adb_resource(entry) is None:
            plan.notes.append(f"{entry.name}: {entry.uri} is neither ADB over TCP nor over USB; exported without an "
                              "adb resource")
        resolved: dict[str, str] = {}
        for name in entry.ports():
            port = inventory.resolve_port(entry, name)
            resolved[name] = port
            if "://" in port and name != "power":
                _serial_resource(port, 0)  # one it cannot publish is refused now, before anything starts
            if "://" not in port:
                speed = RELAY_SPEED if name == "power" else plan._speed(entry, name)
                shared = sum(port == p for h in inventory.handsets for p in _raw_ports(inventory, h)) > 1
                local.setdefault(port, LocalPort(port, speed, shared))
        plan._ports[entry.name] = resolved
        plan.places.append(PlaceSpec(entry.name, [f"{exporter}/{entry.name}/*"], place_tags(inventory, entry),
                                     f"handset-harness: {entry.profile} on {exporter}"))
    plan.local_ports = list(local.values())
    return plan


def is_loopback(hostname: str) -> bool:
    """True for an address only this host reaches (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_remote_hubs(inventory: Inventory, hostname: str) -> None:
    """LabgridError when a handset's power is a uhubctl hub and the export is for other hosts (``hostname``).

    uhubctl switches a hub of the host it runs on. labgrid reaches a USB hub of another host only by running
    uhubctl there over ssh (its ``NetworkUSBPowerPort``), which the harness does not do, so such a channel
    would be published and then fail on every other host: refused here, before anything starts.
    """
    if is_loopback(hostname):
        return
    for entry in inventory.handsets:
        if entry.power is not None and entry.power.kind == "uhubctl":
            raise LabgridError(f"{inventory.path}: handset {entry.name}: power is uhubctl hub {entry.power.hub} "
                               f"channel {entry.power.channel}, which only this host can switch, and the export as host "
                               f"{hostname} offers it to others; wire its power to a relay board (kind lcus, "
                               "served by ser2net), leave power out of its entry, or export as host 127.0.0.1 "
                               "for this host alone")


def _raw_ports(inventory: Inventory, entry: HandsetEntry) -> list[str]:
    """A handset's ports as written, with ``@name`` looked up (to see which devices several handsets share)."""
    return [inventory.ports.get(p[1:], p) if p.startswith("@") else p for p in entry.ports().values()]


def place_tags(inventory: Inventory, entry: HandsetEntry) -> dict[str, str]:
    """The tags reservations filter on: profile, OS version, modem number, and the inventory's own tags."""
    tags = {"profile": entry.profile, "os_version": inventory.os_version_of(entry)}
    if entry.modem_number:
        tags["modem_number"] = entry.modem_number
    for tag in entry.tags:
        if _TAG_KEY.match(tag) and tag not in tags:
            tags[tag] = "yes"
    return tags


def _adb_resource(entry: HandsetEntry) -> dict[str, Any] | None:
    if entry.scheme != "adb-tcp":
        return None
    where = urlsplit(entry.uri)
    if where.hostname is None:
        return None
    return {"cls": "AndroidNetFastboot", "address": where.hostname, "port": where.port or 5555, "protocol": "tcp"}


def _network_url(port: str, hostname: str, served: Mapping[str, int]) -> str:
    """Where a port is reached from another host: ser2net's RFC 2217 port for a local one, else its own URL."""
    if "://" in port:
        return port
    return f"rfc2217://{hostname}:{served[port]}"


def _serial_resource(url: str, speed: int) -> dict[str, Any]:
    where = urlsplit(url)
    if where.scheme not in ("rfc2217", "socket") or where.hostname is None or where.port is None:
        raise LabgridError(f"{url}: a serial port on the network must be rfc2217://HOST:PORT or socket://HOST:PORT")
    return {"cls": "NetworkSerialPort", "host": where.hostname, "port": where.port, "speed": speed,
            "protocol": "rfc2217" if where.scheme == "rfc2217" else "raw"}
