"""Writing an inventory back as TOML that a lab can go on editing by hand.

The standard library reads TOML but does not write it; an inventory needs
only strings, integers, arrays and inline tables, so this small writer
covers them (escaping every control character, so any value reads back as
itself).
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from harness.lab.inventory.entries import HandsetEntry

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
    for key in ("os_version", "console", "modem", "modem_number", "modem_mode", "modem_profile", "mail", "control", "control_token"):
        if getattr(entry, key) is not None:
            table[key] = getattr(entry, key)
    if entry.power is not None:
        p = entry.power
        table["power"] = {"kind": p.kind, **({"port": p.port} if p.kind == "lcus" else {"hub": p.hub}), "channel": p.channel}
    if entry.tags:
        table["tags"] = list(entry.tags)
    return table


def inventory_toml(rack: str | None, ports: Mapping[str, str], handsets: Sequence[HandsetEntry]) -> str:
    """The text of a rack.toml with this rack name, these named ports and these handsets, in order."""
    lines = ["# Rack inventory (harness devices --inventory FILE shows what answers)."]
    if rack:
        lines += ["", "[rack]", f"name = {_toml_str(rack)}"]
    if ports:
        lines += ["", "[ports]"] + [f"{_toml_key(k)} = {_toml_str(v)}" for k, v in ports.items()]
    for entry in handsets:
        lines += ["", "[[handset]]"] + [f"{k} = {_toml_value(v)}" for k, v in entry_table(entry).items()]
    return "\n".join(lines) + "\n"
