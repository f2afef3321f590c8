"""A handset's endpoints read from the resources of its labgrid place, as a one-handset inventory.

What ``harness lab export`` publishes for a handset, and what this module reads
back (by resource name: the place's match ``rename`` or the resource's own name):

| name | labgrid class | becomes |
| --- | --- | --- |
| ``adb`` | ``AndroidNetFastboot`` as the export publishes it (labgrid has no ADB class; any class with ``address``/``host`` and ``port``) | ``adb-tcp://ADDRESS:PORT`` |
| ``console``, ``modem`` | ``NetworkSerialPort`` (``host``, ``port``, ``speed``, ``protocol``) | ``rfc2217://HOST:PORT?ign_set_control`` (``raw``: ``socket://``) |
| ``power`` | ``NetworkSerialPort`` of an LCUS relay (channel: ``index`` or the place tag ``power_channel``), or ``NetworkPowerPort``/``NetworkUSBPowerPort`` (``model``/``path``, ``index``) | the inventory's ``power`` |

The place's tags give ``profile``, ``os_version``, ``modem_number``, ``modem_mode``, ``modem_profile``.
The result is an ``Inventory`` holding one ``HandsetEntry`` named like the place, so every command
that drives an inventory handset drives a place's handset the same way.
"""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from harness.lab.inventory import Inventory
from harness.lab.inventory.entries import HandsetEntry, PowerSwitch

SERIAL_NAMES = ("console", "modem")


class PlaceUnusable(HarnessError):
    """The place's resources do not give a handset (missing, or their exporter is gone)."""

    def __init__(self, name: str, problem: str) -> None:
        self.name, self.problem = name, problem
        super().__init__(f"place {name}: {problem}")


def matched_resources(place: Any, resources: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """{name: (exporter/group/cls/resource path, ResourceEntry)} of every resource the place matches."""
    found: dict[str, tuple[str, Any]] = {}
    for exporter, groups in sorted(resources.items()):
        for group, entries in sorted(groups.items()):
            for rname, res in sorted(entries.items()):
                if not res.data or "cls" not in res.data:
                    continue  # deleted
                match = place.getmatch((exporter, group, res.cls, rname))
                if match is not None:
                    found[match.rename or rname] = (f"{exporter}/{group}/{res.cls}/{rname}", res)
    return found


def _serial_url(res: Any) -> str:
    params = res.params
    host, port = params.get("host"), params.get("port")
    if params.get("protocol", "rfc2217") == "raw":
        return f"socket://{host}:{port}"
    return f"rfc2217://{host}:{port}?ign_set_control"


def _power(name: str, place: Any, res: Any) -> PowerSwitch:
    params = res.params
    channel = params.get("index", place.tags.get("power_channel"))
    try:
        channel = int(channel)
    except (TypeError, ValueError):
        raise PlaceUnusable(name, f"power resource {res.cls} gives no channel (index or tag power_channel)") from None
    if res.cls == "NetworkSerialPort" or params.get("model") == "lcus":
        return PowerSwitch("lcus", channel, port=_serial_url(res) if res.cls == "NetworkSerialPort" else params["host"])
    hub = str(params.get("path") or params.get("host") or "")
    host, sep, location = hub.rpartition(":")
    if sep and host:  # HOSTNAME:HUB as harness lab export publishes it: uhubctl runs on that host only
        from harness.lab.labgrid.export_config import is_loopback

        if not is_loopback(host):
            raise PlaceUnusable(name, f"power is uhubctl hub {location} on {host}, which only that host can switch")
        hub = location
    return PowerSwitch("uhubctl", channel, hub=hub)


def place_inventory(address: str, place: Any, resources: dict[str, Any]) -> Inventory:
    """A one-handset inventory of ``place`` (a labgrid ``Place``) from the resources it matches.

    PlaceUnusable when the ADB resource is missing, a needed resource is unavailable (its exporter is
    gone), or the place has no ``profile`` tag.
    """
    name = place.name
    found = matched_resources(place, resources)
    gone = sorted(path for path, res in found.values() if not res.avail)
    gone += sorted(str(m) for m in place.matches
                   if not any(m.ismatch(tuple(path.split("/"))) for path, _ in found.values()))
    if gone:
        raise PlaceUnusable(name, f"resources unavailable (is their exporter running?): {', '.join(gone)}")
    adb = found.get("adb") or _only_of(found, "NetworkService")
    if adb is None:
        have = ", ".join(sorted(path for path, _ in found.values())) or "none"
        raise PlaceUnusable(name, f"no ADB resource (a NetworkService named adb) among its resources ({have})")
    params = adb[1].params
    host, port = params.get("address") or params.get("host"), params.get("port")
    if not host or not port:
        raise PlaceUnusable(name, f"{adb[0]}: no address and port")
    tags = dict(place.tags)
    profile = tags.get("profile")
    if not profile:
        raise PlaceUnusable(name, "no profile tag (labgrid-client -p PLACE set-tags profile=NAME)")
    serial = {k: _serial_url(found[k][1]) for k in SERIAL_NAMES if k in found}
    power = _power(name, place, found["power"][1]) if "power" in found else None
    entry = HandsetEntry(name=name, profile=profile, uri=f"adb-tcp://{host}:{port}", power=power,
                         modem_number=tags.get("modem_number") or None, os_version=tags.get("os_version") or None,
                         modem_mode=tags.get("modem_mode") or None, modem_profile=tags.get("modem_profile") or None,
                         **serial)
    return Inventory(handsets=[entry], path=f"labgrid {address} place {name}")


def _only_of(found: dict[str, tuple[str, Any]], cls: str) -> tuple[str, Any] | None:
    of = [v for v in found.values() if v[1].cls == cls]
    return of[0] if len(of) == 1 else None
