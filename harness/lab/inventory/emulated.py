"""The inventory of an emulated rack, from the endpoints ``harness emulate --rack N`` announces."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from harness.lab.inventory.entries import HandsetEntry, PowerSwitch
from harness.lab.inventory.rack import write_inventory


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
    entries, ports = emulated_entries(endpoints)
    return write_inventory(path, entries, ports, rack or f"emulated-{os.getpid()}")
