"""What a Microsoft account holds besides its password: mail, contacts, calendar, Store apps, Xbox, feeds.

The account service syncs these to a signed-in phone; the accounts file
(``harness emulate --accounts FILE``) gives them per ``[[account]]``:

    mail = [{ from = "...", subject = "...", body = "..." }]     # in the order they arrived
    contacts = [{ name = "...", phone = "..." }]
    events = [{ title = "...", when = "2026-12-01T09:30" }]
    apps = ["..."]                                                # Store apps the account owns
    gamerscore = 1250
    feeds = [{ network = "twitter", author = "...", text = "..." }]

Each wrong entry is a one-line ``ConfigError`` naming the field, e.g. ``account[2].mail[3].subject``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.tomlfile import reject_unknown_keys

#: The apps the emulated Store offers (an account's own ``apps`` are offered too).
STORE_CATALOGUE = ("facebook", "twitter", "whatsapp", "linkedin", "netflix", "candy crush saga", "shazam",
                   "wikipedia", "6tag", "weather flow")
FEED_NETWORKS = ("twitter", "linkedin")
#: Fields a list entry must hold (all strings) and the one that may be left out.
_ENTRY_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mail": (("from", "subject"), ("body",)),
    "contacts": (("name",), ("phone",)),
    "events": (("title", "when"), ()),
    "feeds": (("network", "author", "text"), ()),
}
#: The per-account keys this module reads (accounts.py reads the rest).
DATA_KEYS = {"mail": list, "contacts": list, "events": list, "apps": list, "gamerscore": int, "feeds": list}
_arrivals = itertools.count(1)


@dataclass(frozen=True)
class Mail:
    """One message in an account's inbox; ``seq`` orders arrivals (newest has the highest)."""

    sender: str
    subject: str
    body: str = ""
    seq: int = 0

    @classmethod
    def arriving(cls, sender: str, subject: str, body: str = "") -> "Mail":
        """A message that arrives now: later than every one before it."""
        return cls(sender, subject, body, next(_arrivals))


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str = ""


@dataclass(frozen=True)
class Event:
    title: str
    when: datetime

    def label(self) -> str:
        """As Calendar's agenda shows it: 'Tue 1 Dec 09:30'."""
        return f"{self.when:%a} {self.when.day} {self.when:%b %H:%M}"


@dataclass(frozen=True)
class Feed:
    """A post in the People hub's What's new (Twitter or LinkedIn)."""

    network: str
    author: str
    text: str


def parse_data(path: str | Path, where: str, table: dict[str, Any]) -> dict[str, Any]:
    """The data keys of one ``[[account]]`` table as ``Account`` fields; one-line errors name the field."""
    out: dict[str, Any] = {}
    for key, kind in DATA_KEYS.items():
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(path, f"{where}.{key}", f"expected {'a list' if kind is list else 'an integer'}, "
                                                      f"got {type(value).__name__}")
        if key == "gamerscore":
            if value < 0:
                raise ConfigError(path, f"{where}.gamerscore", f"{value}: expected 0 or more")
            out[key] = value
        elif key == "apps":
            out[key] = _apps(path, f"{where}.apps", value)
        else:
            out[key] = [_entry(path, f"{where}.{key}[{i}]", key, entry) for i, entry in enumerate(value, 1)]
    return out


def _apps(path: str | Path, where: str, value: list[Any]) -> list[str]:
    apps: list[str] = []
    for i, app in enumerate(value, 1):
        if not isinstance(app, str) or not app.strip():
            raise ConfigError(path, f"{where}[{i}]", f"expected an app's name, got {app!r}")
        if app.strip().lower() in apps:
            raise ConfigError(path, f"{where}[{i}]", f"duplicate app {app!r}")
        apps.append(app.strip().lower())
    return apps


def _entry(path: str | Path, where: str, key: str, entry: Any) -> Any:
    if not isinstance(entry, dict):
        raise ConfigError(path, where, f"expected a table like {{ {', '.join(f'{f} = ...' for f in _ENTRY_FIELDS[key][0])} }}, "
                                       f"got {type(entry).__name__}")
    required, optional = _ENTRY_FIELDS[key]
    reject_unknown_keys(path, entry, required + optional, where)
    for name in required + optional:
        if name in entry and not isinstance(entry[name], str):
            raise ConfigError(path, f"{where}.{name}", f"expected a string, got {type(entry[name]).__name__}")
    for name in required:
        if not entry.get(name, "").strip():
            raise ConfigError(path, f"{where}.{name}", "missing")
    if key == "mail":
        return Mail.arriving(entry["from"], entry["subject"], entry.get("body", ""))
    if key == "contacts":
        return Contact(entry["name"], entry.get("phone", ""))
    if key == "events":
        try:
            when = datetime.fromisoformat(entry["when"])
        except ValueError:
            raise ConfigError(path, f"{where}.when", f"{entry['when']!r}: expected a date and time like "
                                                     "2026-12-01T09:30") from None
        return Event(entry["title"], when)
    if entry["network"] not in FEED_NETWORKS:
        raise ConfigError(path, f"{where}.network", f"{entry['network']!r}: expected one of {', '.join(FEED_NETWORKS)}")
    return Feed(entry["network"], entry["author"], entry["text"])
