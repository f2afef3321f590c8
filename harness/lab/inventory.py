"""The rack inventory: which handsets a rack holds and how to reach each one.

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
    power = { kind = "lcus", port = "@relay", channel = 1 }   # or { kind = "uhubctl", hub = "1-1", channel = 4 }

Serial ports named by USB location or USB serial number survive
re-enumeration (``/dev/ttyUSB3`` today, ``/dev/ttyUSB5`` after a replug);
``resolve_port`` turns them into a device path with pyserial's ``list_ports``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from harness.errors import ConfigError, HarnessError
from harness.tomlfile import reject_unknown_keys
from harness.profiles import OS_VERSIONS, PROFILES_DIR, Profile, load_profile, profile_names

#: Power switches: an LCUS-style serial relay board, or a USB hub port switched by uhubctl.
POWER_KINDS = ("lcus", "uhubctl")
#: Serial-port fields of a handset (each may name a port any way ``resolve_port`` understands).
PORT_FIELDS = ("console", "modem")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_HANDSET_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "profile": str, "uri": str, "console": str, "modem": str, "modem_number": str,
    "power": dict, "os_version": str, "mail": str, "control": str, "control_token": str, "tags": list,
}
_REQUIRED = ("name", "profile", "uri")
_POWER_KEYS: dict[str, dict[str, type]] = {
    "lcus": {"kind": str, "port": str, "channel": int},
    "uhubctl": {"kind": str, "hub": str, "channel": int},
}
_TOP_KEYS = ("rack", "ports", "handset")


class PortNotFound(HarnessError, LookupError):
    """A serial port named by USB location or serial number is not attached (or is ambiguous)."""


@dataclass(frozen=True)
class PowerSwitch:
    """Where a handset's power is switched: a relay board channel or a USB hub port."""

    kind: str
    channel: int
    port: str | None = None  # lcus: the relay board's serial port
    hub: str | None = None   # uhubctl: the hub's USB location (``uhubctl -l HUB -p CHANNEL``)

    def describe(self) -> str:
        where = self.port if self.kind == "lcus" else f"hub {self.hub}"
        return f"{self.kind} {where} channel {self.channel}"


@dataclass(frozen=True)
class HandsetEntry:
    """One handset of the rack, as the inventory file says."""

    name: str
    profile: str
    uri: str
    console: str | None = None
    modem: str | None = None
    modem_number: str | None = None
    power: PowerSwitch | None = None
    os_version: str | None = None  # overrides the profile's
    mail: str | None = None        # a Maildir where e-mailed access codes arrive
    control: str | None = None     # an emulated handset's control socket
    control_token: str | None = None  # the file (mode 0600) holding that socket's token
    tags: tuple[str, ...] = ()

    @property
    def scheme(self) -> str:
        return self.uri.split("://", 1)[0]

    @property
    def emulated(self) -> bool:
        """An ``emulator://`` entry: its handset is started on demand, not a phone on the rack."""
        from harness.handsets import starts_handset

        return starts_handset(self.uri)

    def ports(self) -> dict[str, str]:
        """The serial ports of this handset by field (console, modem, power), as written."""
        out = {f: getattr(self, f) for f in PORT_FIELDS if getattr(self, f)}
        if self.power is not None and self.power.port:
            out["power"] = self.power.port
        return out


@dataclass
class Inventory:
    """A rack: its handsets, named ports and the file they came from."""

    handsets: list[HandsetEntry] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)
    rack: str | None = None
    path: str = "<inventory>"
    profiles_dir: Path = PROFILES_DIR
    _profiles: dict[str, Profile] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path, profiles_dir: Path = PROFILES_DIR) -> "Inventory":
        """Read and validate an inventory file; ``ConfigError`` on the first mistake."""
        from harness.tomlfile import read_toml

        return parse_inventory(read_toml(path), str(path), profiles_dir)

    @classmethod
    def loads(cls, text: str, path: str = "<inventory>", profiles_dir: Path = PROFILES_DIR) -> "Inventory":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, "(toml)", str(exc)) from None
        return parse_inventory(data, path, profiles_dir)

    # ------------------------------------------------------------------ queries
    def get(self, name: str) -> HandsetEntry:
        for entry in self.handsets:
            if entry.name == name:
                return entry
        raise ConfigError(self.path, "handset", f"no handset named {name!r} (known: {', '.join(self.names()) or 'none'})")

    def names(self) -> list[str]:
        return [h.name for h in self.handsets]

    def profile_of(self, entry: HandsetEntry) -> Profile:
        if entry.profile not in self._profiles:
            self._profiles[entry.profile] = load_profile(entry.profile, self.profiles_dir)
        return self._profiles[entry.profile]

    def os_version_of(self, entry: HandsetEntry) -> str:
        """The handset's OS version: the inventory's word, an emulator URI's option, else its profile's."""
        if entry.os_version:
            return entry.os_version
        if entry.emulated:
            query = dict(parse_qsl(urlsplit(entry.uri).query))
            if query.get("os_version") or query.get("os"):
                return query.get("os_version") or query["os"]
        return self.profile_of(entry).os_version

    def matching(self, profile: str | None = None, os_version: str | None = None,
                 tags: Iterable[str] = ()) -> list[HandsetEntry]:
        """Handsets with this profile, OS version and all these tags, in file order."""
        want_tags = set(tags)
        return [h for h in self.handsets
                if (profile is None or h.profile == profile)
                and (os_version is None or self.os_version_of(h) == os_version)
                and want_tags <= set(h.tags)]

    def resolve_port(self, entry: HandsetEntry, field_name: str,
                     comports: Sequence[Any] | None = None) -> str:
        """The pyserial URL or device path of a handset's console, modem or power port, right now."""
        spec = entry.ports().get(field_name)
        if spec is None:
            raise ConfigError(self.path, f"handset {entry.name}.{field_name}", "not set in the inventory")
        try:
            return resolve_port(spec, self.ports, comports)
        except PortNotFound as exc:
            raise PortNotFound(f"{self.path}: handset {entry.name}: {field_name}: {exc}") from None

    # ------------------------------------------------------------------ writing
    def to_toml(self) -> str:
        return dump_inventory(self)

    def dump(self, path: str | Path) -> Path:
        """Write this inventory as TOML (atomically: a reader never sees half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_toml(), encoding="utf-8")
        tmp.replace(path)
        return path


# ---------------------------------------------------------------------- validation
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
    _check_uri(path, f"{where}.uri", table["uri"])
    for key in PORT_FIELDS:
        if key in table:
            _check_port_spec(path, f"{where}.{key}", table[key], ports)
    if "modem_number" in table and not re.fullmatch(r"\+?[0-9]{3,15}", table["modem_number"]):
        raise ConfigError(path, f"{where}.modem_number", f"{table['modem_number']!r}: expected a phone number like +15550100")
    if "os_version" in table and table["os_version"] not in OS_VERSIONS:
        raise ConfigError(path, f"{where}.os_version", f"must be one of {', '.join(OS_VERSIONS)}, got {table['os_version']!r}")
    tags = table.get("tags", [])
    for j, tag in enumerate(tags):
        _check(path, f"{where}.tags[{j}]", tag, str)
    power = _parse_power(path, f"{where}.power", table["power"], ports) if "power" in table else None
    return HandsetEntry(
        name=table["name"], profile=table["profile"], uri=table["uri"], console=table.get("console"),
        modem=table.get("modem"), modem_number=table.get("modem_number"), power=power,
        os_version=table.get("os_version"), mail=table.get("mail"), control=table.get("control"),
        control_token=table.get("control_token"), tags=tuple(tags),
    )


def parse_inventory(data: dict[str, Any], path: str | Path = "<inventory>", profiles_dir: Path = PROFILES_DIR) -> Inventory:
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
    return Inventory(handsets=entries, ports=dict(ports), rack=rack.get("name"), path=path, profiles_dir=profiles_dir)


# ---------------------------------------------------------------------- port resolution
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


# ---------------------------------------------------------------------- writing
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_str(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters (DEL too) escaped."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def entry_table(entry: HandsetEntry) -> dict[str, Any]:
    """The ``[[handset]]`` table of an entry (only the fields that are set)."""
    table: dict[str, Any] = {"name": entry.name, "profile": entry.profile, "uri": entry.uri}
    for key in ("os_version", "console", "modem", "modem_number", "mail", "control", "control_token"):
        if getattr(entry, key) is not None:
            table[key] = getattr(entry, key)
    if entry.power is not None:
        p = entry.power
        table["power"] = {"kind": p.kind, **({"port": p.port} if p.kind == "lcus" else {"hub": p.hub}), "channel": p.channel}
    if entry.tags:
        table["tags"] = list(entry.tags)
    return table


def dump_inventory(inventory: Inventory) -> str:
    lines = ["# Rack inventory (harness devices --inventory FILE shows what answers)."]
    if inventory.rack:
        lines += ["", "[rack]", f"name = {_toml_str(inventory.rack)}"]
    if inventory.ports:
        lines += ["", "[ports]"] + [f"{_toml_key(k)} = {_toml_str(v)}" for k, v in inventory.ports.items()]
    for entry in inventory.handsets:
        lines += ["", "[[handset]]"] + [f"{k} = {_toml_value(v)}" for k, v in entry_table(entry).items()]
    return "\n".join(lines) + "\n"


def write_inventory(path: str | Path, handsets: Sequence[HandsetEntry], ports: Mapping[str, str] | None = None,
                    rack: str | None = None) -> Path:
    """Write an inventory from entries, validating it by loading it back (a writer never leaves a bad file)."""
    inventory = Inventory(handsets=list(handsets), ports=dict(ports or {}), rack=rack, path=str(path))
    parse_inventory(tomllib.loads(inventory.to_toml()), str(path))
    return inventory.dump(path)


def emulated_entries(endpoints: Mapping[str, Any], prefix: str = "") -> tuple[list[HandsetEntry], dict[str, str]]:
    """Inventory entries for an emulated rack from the endpoints ``harness emulate --rack N`` announces.

    Each handset is reached like a rack phone: ``adb-tcp://`` to its ADB port,
    its console and modem ptys, and channel i of the rack's relay board (the
    rack-level ``power`` pty), else channel 1 of the handset's own board.
    """
    ports: dict[str, str] = {}
    board = endpoints.get("power") or endpoints.get("relay")
    if isinstance(board, str):
        ports["relay"] = board
    entries = []
    counts: dict[str, int] = {}
    for i, h in enumerate(endpoints.get("handsets", []), 1):
        profile = h["profile"]
        counts[profile] = counts.get(profile, 0) + 1
        name = f"{prefix}{profile}-{counts[profile]:02d}"
        uri = f"adb-tcp://{h['adb']}" if h.get("adb") else f"emulator://{profile}"
        if ports:
            power: PowerSwitch | None = PowerSwitch("lcus", i, port="@relay")
        elif isinstance(h.get("power"), str):
            power = PowerSwitch("lcus", 1, port=h["power"])
        else:
            power = None
        entries.append(HandsetEntry(
            name=name, profile=profile, uri=uri, console=h.get("console"), modem=h.get("modem"),
            modem_number=h.get("modem_number"), mail=h.get("mail"), control=h.get("control"),
            control_token=h.get("control_token"),
            power=power, tags=("emulated",),
        ))
    return entries, ports


def write_emulated_inventory(path: str | Path, endpoints: Mapping[str, Any], rack: str | None = None) -> Path:
    """Write the inventory of a running emulated rack (what ``harness emulate --rack N --inventory-out`` does).

    The rack name defaults to one unique to this emulator run, so leases of two
    emulated racks on one host never collide.
    """
    import os

    entries, ports = emulated_entries(endpoints)
    return write_inventory(path, entries, ports, rack or f"emulated-{os.getpid()}")

