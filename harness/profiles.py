"""Device profiles: one TOML file per handset model, validated on load.

A bad profile gets a one-line ``ConfigError`` naming the file and the field,
because a lab edits these by hand and needs to know exactly what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from harness.errors import ConfigError
from harness.phone_body import PhoneBody, parse_body
from harness.resources import PROFILES_DIR  # the shipped profiles, found through the package
from harness.tomlfile import read_toml, reject_unknown_keys


#: Windows Phone lays out 480 view pixels across; these are its scale factors.
SCALE_FACTORS = (1.0, 1.5, 1.6, 2.25)

#: The twenty Windows Phone 8.1 accent colours.
ACCENTS: dict[str, str] = {
    "lime": "#A4C400", "green": "#60A917", "emerald": "#008A00", "teal": "#00ABA9",
    "cyan": "#1BA1E2", "cobalt": "#0050EF", "indigo": "#6A00FF", "violet": "#AA00FF",
    "pink": "#F472D0", "magenta": "#D80073", "crimson": "#A20025", "red": "#E51400",
    "orange": "#FA6800", "amber": "#F0A30A", "yellow": "#E3C800", "brown": "#825A2C",
    "olive": "#6D8764", "steel": "#647687", "mauve": "#76608A", "taupe": "#87794E",
}
THEMES = ("dark", "light")
OS_VERSIONS = ("8.0", "8.1")
PARITIES = ("N", "E", "O", "M", "S")


@dataclass(frozen=True)
class ConsoleSettings:
    """How the handset's debug console is wired (pyserial settings)."""

    baudrate: int = 115200
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    prompt: str = "wp> "


@dataclass(frozen=True)
class Profile:
    """One handset model."""

    name: str
    model: str
    manufacturer: str
    os_version: str
    width: int
    height: int
    scale: float
    usb_vendor_id: int
    usb_product_id: int
    serial_pattern: str
    theme: str
    accent: str
    console: ConsoleSettings
    path: str = ""
    #: The phone's body in mm (``[body]``, optional): what a camera-and-robot slot needs.
    body: PhoneBody | None = None

    @property
    def view_width(self) -> int:
        return round(self.width / self.scale)

    @property
    def view_height(self) -> int:
        return round(self.height / self.scale)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        return hex_rgb(ACCENTS[self.accent])

    def serial_regex(self) -> re.Pattern[str]:
        """The serial pattern as a regex: ``#`` stands for one hex digit."""
        return re.compile("".join("[0-9A-F]" if c == "#" else re.escape(c) for c in self.serial_pattern) + r"\Z")

    def make_serial(self, index: int) -> str:
        """A serial number that fits the pattern, distinct per ``index``."""
        slots = self.serial_pattern.count("#")
        digits = f"{index:0{slots}X}"[-slots:] if slots else ""
        it = iter(digits)
        return "".join(next(it) if c == "#" else c for c in self.serial_pattern)


def hex_rgb(value: str) -> tuple[int, int, int]:
    v = value.lstrip("#")
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


_TOP_KEYS = {"model": str, "manufacturer": str, "os_version": str}
_SECTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "screen": {"width": int, "height": int, "scale": (int, float)},
    "usb": {"vendor_id": int, "product_id": int, "serial_pattern": str},
    "theme": {"default": str, "accent": str},
    "console": {"baudrate": int, "bytesize": int, "parity": str, "stopbits": int, "prompt": str},
}
_OPTIONAL = {("console", "prompt"), ("console", "bytesize"), ("console", "parity"), ("console", "stopbits")}


def _typename(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def _check_type(path: Path, field: str, value: Any, expected: type | tuple[type, ...]) -> None:
    ok = isinstance(value, expected) and not (isinstance(value, bool))
    if not ok:
        raise ConfigError(path, field, f"expected {_typename(expected)}, got {type(value).__name__} {value!r}")


def parse_profile(data: dict[str, Any], path: Path, name: str) -> Profile:
    """Validate a decoded profile; raise ``ConfigError`` on the first mistake."""
    reject_unknown_keys(path, data, sorted(set(_TOP_KEYS) | set(_SECTIONS) | {"body"}))
    for key, typ in _TOP_KEYS.items():
        if key not in data:
            raise ConfigError(path, key, "missing")
        _check_type(path, key, data[key], typ)
    for section, fields in _SECTIONS.items():
        if section not in data:
            raise ConfigError(path, section, "missing section")
        table = data[section]
        if not isinstance(table, dict):
            raise ConfigError(path, section, f"expected a table, got {type(table).__name__}")
        reject_unknown_keys(path, table, fields, section)
        for key, typ in fields.items():
            if key not in table:
                if (section, key) in _OPTIONAL:
                    continue
                raise ConfigError(path, f"{section}.{key}", "missing")
            _check_type(path, f"{section}.{key}", table[key], typ)

    if data["os_version"] not in OS_VERSIONS:
        raise ConfigError(path, "os_version", f"must be one of {', '.join(OS_VERSIONS)}, got {data['os_version']!r}")
    screen = data["screen"]
    width, height, scale = screen["width"], screen["height"], float(screen["scale"])
    if scale not in SCALE_FACTORS:
        raise ConfigError(path, "screen.scale", f"must be one of {', '.join(map(str, SCALE_FACTORS))}, got {scale}")
    if not (240 <= width <= 4096) or not (320 <= height <= 8192):
        raise ConfigError(path, "screen.width", f"impossible resolution {width}x{height}")
    if height <= width:
        raise ConfigError(path, "screen.height", f"impossible resolution {width}x{height}: a phone is portrait (height > width)")
    if round(width / scale) != 480:
        raise ConfigError(path, "screen.scale", f"{width} px at scale {scale} is {width / scale:g} view pixels, not 480")
    aspect = height / width
    if not (1.5 <= aspect <= 1.8):
        raise ConfigError(path, "screen.height", f"impossible resolution {width}x{height}: aspect {aspect:.2f} is not 15:9 or 16:9")
    usb = data["usb"]
    for key in ("vendor_id", "product_id"):
        if not 0 <= usb[key] <= 0xFFFF:
            raise ConfigError(path, f"usb.{key}", f"must be 0x0000..0xFFFF, got {usb[key]:#x}")
    pattern = usb["serial_pattern"]
    if not pattern or not re.fullmatch(r"[A-Za-z0-9#_-]+", pattern):
        raise ConfigError(path, "usb.serial_pattern", f"use letters, digits, '-', '_' and '#' (one hex digit), got {pattern!r}")
    theme = data["theme"]
    if theme["default"] not in THEMES:
        raise ConfigError(path, "theme.default", f"must be dark or light, got {theme['default']!r}")
    if theme["accent"] not in ACCENTS:
        raise ConfigError(path, "theme.accent", f"unknown accent colour {theme['accent']!r} (known: {', '.join(ACCENTS)})")
    console_table = data["console"]
    console = ConsoleSettings(**console_table)
    if console.baudrate <= 0:
        raise ConfigError(path, "console.baudrate", f"must be positive, got {console.baudrate}")
    if console.bytesize not in (5, 6, 7, 8):
        raise ConfigError(path, "console.bytesize", f"must be 5..8, got {console.bytesize}")
    if console.parity not in PARITIES:
        raise ConfigError(path, "console.parity", f"must be one of {''.join(PARITIES)}, got {console.parity!r}")
    if console.stopbits not in (1, 2):
        raise ConfigError(path, "console.stopbits", f"must be 1 or 2, got {console.stopbits}")
    return Profile(
        name=name, model=data["model"], manufacturer=data["manufacturer"], os_version=data["os_version"],
        width=width, height=height, scale=scale, usb_vendor_id=usb["vendor_id"], usb_product_id=usb["product_id"],
        serial_pattern=pattern, theme=theme["default"], accent=theme["accent"], console=console, path=str(path),
        body=parse_body(path, data["body"], width, height) if "body" in data else None,
    )


def load_profile_file(path: str | Path) -> Profile:
    """Load and validate one profile file."""
    path = Path(path)
    data = read_toml(path)
    return parse_profile(data, path, path.stem)


def profile_names(directory: Path = PROFILES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_profile(name_or_path: str, directory: Path = PROFILES_DIR) -> Profile:
    """Load a shipped profile by name (``lumia-930``) or any profile by path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return load_profile_file(candidate)
    path = directory / f"{name_or_path}.toml"
    if not path.exists():
        raise ConfigError(path, "(name)", f"no profile {name_or_path!r} (known: {', '.join(profile_names(directory))})")
    return load_profile_file(path)


def load_all(directory: Path = PROFILES_DIR) -> list[Profile]:
    return [load_profile_file(p) for p in sorted(directory.glob("*.toml"))]
