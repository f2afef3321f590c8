"""This host's journal of power switching: what ``harness power`` did to which switch channel, and when.

A run's timeline shows the power events of its own handset, and a power cycle
is often done from another terminal while a test runs (``harness power cycle
--device lumia-930-01``), by a command the run knows nothing of. Every switch
action of the harness is appended here, one JSON line (time, channel, action,
who), in the host-local folder the leases live in; a run reads, at its end,
the lines of its own handset's channels from its own time span.

A channel is named by ``channel_key``: the switch kind, its resolved port or
hub and the channel, so ``--switch lcus:/dev/ttyUSB0#2`` and an inventory entry
whose power is that relay's channel 2 name the same thing. The journal is
bounded: past ``MAX_BYTES`` it starts again (the previous one kept as ``.1``),
and a reader takes at most its last ``MAX_BYTES``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

from harness.lab.lockfiles import lease_dir

NAME = "power-events.jsonl"
#: The journal starts again past this size; a reader reads no more than this of its end.
MAX_BYTES = 1 << 20


def channel_key(kind: str, where: str, channel: int) -> str:
    """One switch channel's name in the journal (``lcus:/dev/ttyUSB0#2``; the port as resolved, not as aliased)."""
    return f"{kind}:{where}#{int(channel)}"


def channels_of(endpoints: dict[str, Any], channel: tuple[str, str, int] | None = None) -> set[str]:
    """The journal names of a handset's power channels: the inventory's (``channel``: kind, resolved port, number)
    and its endpoints' ``power`` (a switch spec, or the serial port of an emulated relay whose ``power_channels``
    channels all feed this handset)."""
    keys = {channel_key(*channel)} if channel else set()
    power = endpoints.get("power")
    if isinstance(power, str) and power:
        kind, sep, rest = power.partition(":")
        if sep and "#" in rest and kind in ("lcus", "uhubctl"):
            where, _, number = rest.rpartition("#")
            if number.isdigit():
                keys.add(channel_key(kind, where, int(number)))
        else:
            count = endpoints.get("power_channels")
            count = count if isinstance(count, int) and 0 < count <= 64 else 1
            keys.update(channel_key("lcus", power, n) for n in range(1, count + 1))
    return keys


def journal_path(folder: Path | None = None) -> Path:
    return (folder or lease_dir()) / NAME


def note(key: str, action: str, by: str, folder: Path | None = None) -> None:
    """Append one power action (``off``, ``on``) on channel ``key`` done by ``by``; never fails the action itself."""
    path = journal_path(folder)
    line = json.dumps({"t": round(time.time(), 3), "channel": key, "action": action, "by": by}) + "\n"
    try:
        if path.exists() and path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(NAME + ".1"))
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line.encode())   # one write of one short line: whole even with other writers
        finally:
            os.close(fd)
    except OSError:
        pass


def events(keys: Iterable[str], start: float, end: float, folder: Path | None = None) -> list[dict[str, Any]]:
    """The journal's actions on channels ``keys`` from ``start`` to ``end`` (epoch seconds), oldest first."""
    wanted = set(keys)
    found: list[dict[str, Any]] = []
    if not wanted:
        return found
    path = journal_path(folder)
    for name in (path.with_name(NAME + ".1"), path):
        try:
            with open(name, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - MAX_BYTES))
                data = fh.read(MAX_BYTES)
        except OSError:
            continue
        for raw in data.splitlines():
            try:
                entry = json.loads(raw)
                t = float(entry["t"])
            except (ValueError, KeyError, TypeError):
                continue   # a line cut by the bounded read, or not ours
            if entry.get("channel") in wanted and start <= t <= end:
                found.append({"t": t, "channel": str(entry["channel"]), "action": str(entry.get("action", "")),
                              "by": str(entry.get("by", ""))})
    found.sort(key=lambda e: e["t"])
    return found
