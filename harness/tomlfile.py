"""Reading the TOML files a lab edits by hand, with one-line errors that name the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from harness.errors import ConfigError


def read_toml(path: str | Path) -> dict[str, Any]:
    """The decoded file, or a ConfigError naming the file and what is wrong (unreadable, not UTF-8, bad TOML)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(file)", f"not UTF-8 at byte {exc.start}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(toml)", str(exc)) from None


def reject_unknown_keys(path: str | Path, table: Mapping[str, Any], known: Iterable[str], where: str = "",
                        kind: str = "") -> None:
    """A ConfigError naming the first key of `table` that is not `known`: a typo in a hand-edited file, caught early."""
    known = list(known)
    for key in table:
        if key not in known:
            raise ConfigError(path, f"{where}.{key}" if where else key,
                              f"unknown key{kind} (known: {', '.join(known)})")
