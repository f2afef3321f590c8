"""The rack.toml schema: what a lab may write, checked field by field.

A lab edits this TOML file by hand, so every mistake gets a one-line
``ConfigError`` naming the file and the field (``rack.toml: handset[2].console:
...``; handsets count from 1 in the order of the ``[[handset]]`` tables)::

    [rack]
    name = "rack7"                          # optional; namespaces the leases

    [ports]                                 # optional named serial ports, used as "@relay"
    relay = "usb-serial:A50285BI"

    [[handset]]
    name = "lumia-930-01"
    profile = "lumia-930"                   # a device_profiles/ name
    uri = "adb-usb://930D00000001"          # or adb-tcp://HOST:PORT, emulator://PROFILE
    console = "usb-location:1-1.4:1.0"      # a pyserial URL, a path, usb-location:, usb-serial: or @name
    modem = "rfc2217://rack7:4001?ign_set_control&timeout=3"
    modem_number = "+15550100"
    modem_mode = "auto"                     # optional: auto, pdu or text
    modem_profile = "quectel"               # optional: auto, generic, quectel, huawei, simcom, cinterion
    power = { kind = "lcus", port = "@relay", channel = 1 }   # or { kind = "uhubctl", hub = "1-1", channel = 4 }

    [[handset]]                             # a camera-and-robot slot: a robot table instead of uri
    name = "slot3"
    profile = "lumia-930"
    robot = { port = "/dev/ttyUSB2", camera = "http://rack7:8080/stream.mjpg", calibration = "slot3.toml" }
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.errors import ConfigError
from harness.modem.options import driver_options
from harness.lab.inventory.entries import PORT_FIELDS, POWER_KINDS, HandsetEntry, PowerSwitch
from harness.profiles import OS_VERSIONS, profile_names
from harness.tomlfile import reject_unknown_keys

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_HANDSET_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "profile": str, "uri": str, "console": str, "modem": str, "modem_number": str,
    "modem_mode": str, "modem_profile": str,
    "power": dict, "os_version": str, "mail": str, "control": str, "control_token": str, "tags": list,
    "robot": dict,
}
_REQUIRED = ("name", "profile")
_POWER_KEYS: dict[str, dict[str, type]] = {
    "lcus": {"kind": str, "port": str, "channel": int},
    "uhubctl": {"kind": str, "hub": str, "channel": int},
}
_TOP_KEYS = ("rack", "ports", "handset")
_ROBOT_KEYS = ("port", "camera", "calibration")


@dataclass(frozen=True)
class RackFile:
    """What a valid rack.toml says: the rack's name, its named ports and its handsets in file order."""

    rack: str | None
    ports: dict[str, str]
    handsets: list[HandsetEntry]


def _typename(t: type | tuple[type, ...]) -> str:
    names = {"str": "a string", "int": "an integer", "dict": "a table", "list": "an array"}
    if isinstance(t, tuple):
        return " or ".join(names.get(x.__name__, x.__name__) for x in t)
    return names.get(t.__name__, t.__name__)


def _check(path: str, fld: str, value: Any, expected: type | tuple[type, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, expected):
        raise ConfigError(path, fld, f"expected {_typename(expected)}, got {type(value).__name__} {value!r}")


def _check_uri(path: str, fld: str, uri: str) -> None:
    """The URI as its scheme's module reads it (``harness.handsets``); a rack also names which phone."""
    from harness.handsets import HandsetUriError, parse_uri

    try:
        location = parse_uri(uri).location
    except HandsetUriError as exc:
        raise ConfigError(path, fld, f"{uri!r}: {exc.reason}") from None
    if not location:
        raise ConfigError(path, fld, f"{uri!r}: nothing after {uri.partition('://')[0]}://")


def _check_port_spec(path: str, fld: str, spec: str, ports: Mapping[str, str] | None) -> None:
    if not spec.strip():
        raise ConfigError(path, fld, "empty port name")
    if spec.startswith("@"):
        if ports is None:
            raise ConfigError(path, fld, f"{spec!r}: a [ports] entry may not refer to another one")
        if spec[1:] not in ports:
            raise ConfigError(path, fld, f"{spec!r}: no such entry in [ports] (known: {', '.join(sorted(ports)) or 'none'})")
        return
    kind, sep, value = spec.partition(":")
    if sep and kind in ("usb-location", "usb-serial") and not value:
        raise ConfigError(path, fld, f"{spec!r}: nothing after {kind}:")


def _parse_power(path: str, fld: str, table: dict[str, Any], ports: Mapping[str, str]) -> PowerSwitch:
    kind = table.get("kind")
    if kind is None:
        raise ConfigError(path, f"{fld}.kind", f"missing (one of {', '.join(POWER_KINDS)})")
    _check(path, f"{fld}.kind", kind, str)
    if kind not in _POWER_KEYS:
        raise ConfigError(path, f"{fld}.kind", f"unknown power switch {kind!r} (known: {', '.join(POWER_KINDS)})")
    keys = _POWER_KEYS[kind]
    reject_unknown_keys(path, table, keys, fld, kind=f" for a {kind} switch")
    for key, typ in keys.items():
        if key not in table:
            raise ConfigError(path, f"{fld}.{key}", "missing")
        _check(path, f"{fld}.{key}", table[key], typ)
    if not 1 <= table["channel"] <= 64:
        raise ConfigError(path, f"{fld}.channel", f"must be 1..64, got {table['channel']}")
    if kind == "lcus":
        _check_port_spec(path, f"{fld}.port", table["port"], ports)
    return PowerSwitch(kind=kind, channel=table["channel"], port=table.get("port"), hub=table.get("hub"))


def robot_slot_uri(path: str, fld: str, table: dict[str, Any], profile: str) -> str:
    """The ``robot://`` URI of a slot's ``robot`` table: its robot port, camera and calibration file (a path
    relative to the inventory's folder: a slot's calibration is kept beside the rack's inventory)."""
    from harness.handsets.robot import uri_of

    reject_unknown_keys(path, table, _ROBOT_KEYS, fld)
    for key in _ROBOT_KEYS:
        if key not in table:
            raise ConfigError(path, f"{fld}.{key}", "missing")
        _check(path, f"{fld}.{key}", table[key], str)
    calibration = Path(table["calibration"]).expanduser()
    if not calibration.is_absolute():
        calibration = Path(path).resolve().parent / calibration
    if not calibration.is_file():
        raise ConfigError(path, f"{fld}.calibration", f"no calibration file {calibration} (harness calibrate -o it)")
    return uri_of(table["port"], table["camera"], calibration, profile)


def _parse_handset(path: str, i: int, table: Any, ports: Mapping[str, str], known_profiles: list[str]) -> HandsetEntry:
    where = f"handset[{i}]"
    if not isinstance(table, dict):
        raise ConfigError(path, where, f"expected a table, got {type(table).__name__}")
    reject_unknown_keys(path, table, _HANDSET_KEYS, where)
    for key in _REQUIRED:
        if key not in table:
            raise ConfigError(path, f"{where}.{key}", "missing")
    for key, value in table.items():
        _check(path, f"{where}.{key}", value, _HANDSET_KEYS[key])
    if not _NAME.match(table["name"]):
        raise ConfigError(path, f"{where}.name", f"{table['name']!r}: use letters, digits, '.', '_' and '-'")
    if table["profile"] not in known_profiles:
        raise ConfigError(path, f"{where}.profile", f"unknown profile {table['profile']!r} (known: {', '.join(known_profiles)})")
    if ("uri" in table) == ("robot" in table):
        raise ConfigError(path, f"{where}.uri", "give either uri or a robot table (a camera-and-robot slot)"
                          if "uri" in table else "missing (or a robot table for a camera-and-robot slot)")
    if "robot" in table:
        table = {**table, "uri": robot_slot_uri(path, f"{where}.robot", table["robot"], table["profile"])}
    _check_uri(path, f"{where}.uri", table["uri"])
    for key in PORT_FIELDS:
        if key in table:
            _check_port_spec(path, f"{where}.{key}", table[key], ports)
    if "modem_number" in table and not re.fullmatch(r"\+?[0-9]{3,15}", table["modem_number"]):
        raise ConfigError(path, f"{where}.modem_number", f"{table['modem_number']!r}: expected a phone number like +15550100")
    for key in ("modem_mode", "modem_profile"):
        if key in table:
            try:
                driver_options(**{key.removeprefix("modem_"): table[key]})
            except ValueError as exc:
                raise ConfigError(path, f"{where}.{key}", str(exc).split(": ", 1)[1]) from None
    if "os_version" in table and table["os_version"] not in OS_VERSIONS:
        raise ConfigError(path, f"{where}.os_version", f"must be one of {', '.join(OS_VERSIONS)}, got {table['os_version']!r}")
    tags = table.get("tags", [])
    for j, tag in enumerate(tags):
        _check(path, f"{where}.tags[{j}]", tag, str)
    power = _parse_power(path, f"{where}.power", table["power"], ports) if "power" in table else None
    return HandsetEntry(
        name=table["name"], profile=table["profile"], uri=table["uri"], console=table.get("console"),
        modem=table.get("modem"), modem_number=table.get("modem_number"), power=power,
        modem_mode=table.get("modem_mode"), modem_profile=table.get("modem_profile"),
        os_version=table.get("os_version"), mail=table.get("mail"), control=table.get("control"),
        control_token=table.get("control_token"), tags=tuple(tags),
    )


def parse_rack_file(data: dict[str, Any], path: str | Path, profiles_dir: Path) -> RackFile:
    """Validate decoded TOML; raise ``ConfigError`` naming the first wrong field."""
    path = str(path)
    reject_unknown_keys(path, data, _TOP_KEYS)
    rack = data.get("rack", {})
    _check(path, "rack", rack, dict)
    reject_unknown_keys(path, rack, ("name",), "rack")
    if "name" in rack:
        _check(path, "rack.name", rack["name"], str)
        if not _NAME.match(rack["name"]):
            raise ConfigError(path, "rack.name", f"{rack['name']!r}: use letters, digits, '.', '_' and '-'")
    ports = data.get("ports", {})
    _check(path, "ports", ports, dict)
    for name, spec in ports.items():
        _check(path, f"ports.{name}", spec, str)
        _check_port_spec(path, f"ports.{name}", spec, None)
    if "handset" not in data:
        raise ConfigError(path, "handset", "missing: add at least one [[handset]] table")
    handsets = data["handset"]
    _check(path, "handset", handsets, list)
    known_profiles = profile_names(profiles_dir)
    entries: list[HandsetEntry] = []
    seen_names: dict[str, int] = {}
    seen_uris: dict[str, int] = {}
    for i, table in enumerate(handsets, 1):
        entry = _parse_handset(path, i, table, ports, known_profiles)
        if entry.name in seen_names:
            raise ConfigError(path, f"handset[{i}].name", f"duplicate name {entry.name!r} (also handset[{seen_names[entry.name]}])")
        if not entry.emulated and entry.uri in seen_uris:
            raise ConfigError(path, f"handset[{i}].uri", f"{entry.uri!r} is also handset[{seen_uris[entry.uri]}]")
        seen_names[entry.name] = i
        seen_uris[entry.uri] = i
        entries.append(entry)
    return RackFile(rack=rack.get("name"), ports=dict(ports), handsets=entries)
