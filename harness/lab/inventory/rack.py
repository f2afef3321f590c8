"""The rack inventory: which handsets a rack holds and how to reach each one, read from and written to rack.toml."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from harness.errors import ConfigError
from harness.lab.inventory.entries import HandsetEntry
from harness.lab.inventory.ports import PortNotFound, resolve_port
from harness.lab.inventory.schema import RackFile, parse_rack_file
from harness.lab.inventory.toml_writer import inventory_toml
from harness.profiles import PROFILES_DIR, Profile, load_profile
from harness.tomlfile import read_toml


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
        return cls._of(parse_rack_file(read_toml(path), path, profiles_dir), str(path), profiles_dir)

    @classmethod
    def loads(cls, text: str, path: str = "<inventory>", profiles_dir: Path = PROFILES_DIR) -> "Inventory":
        """Validate inventory text (``path`` names it in errors)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, "(toml)", str(exc)) from None
        return cls._of(parse_rack_file(data, path, profiles_dir), path, profiles_dir)

    @classmethod
    def _of(cls, parsed: RackFile, path: str, profiles_dir: Path) -> "Inventory":
        return cls(handsets=parsed.handsets, ports=parsed.ports, rack=parsed.rack, path=path, profiles_dir=profiles_dir)

    # ------------------------------------------------------------------ queries
    def get(self, name: str) -> HandsetEntry:
        """The handset called ``name``; a ConfigError lists the names there are."""
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
        return inventory_toml(self.rack, self.ports, self.handsets)

    def dump(self, path: str | Path) -> Path:
        """Write this inventory as TOML (atomically: a reader never sees half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_toml(), encoding="utf-8")
        tmp.replace(path)
        return path


def write_inventory(path: str | Path, handsets: Sequence[HandsetEntry], ports: Mapping[str, str] | None = None,
                    rack: str | None = None) -> Path:
    """Write an inventory from entries, validating it by loading it back (a writer never leaves a bad file)."""
    inventory = Inventory(handsets=list(handsets), ports=dict(ports or {}), rack=rack, path=str(path))
    Inventory.loads(inventory.to_toml(), str(path))
    return inventory.dump(path)
