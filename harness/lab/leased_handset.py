"""Opening a handset of the rack under its lease: the lab's way in to ``harness.handsets``.

A matching handset is leased (so no other run drives it), an emulated one is
re-flashed to the wanted OS and theme through its control socket, and then it
is reached like any phone by its inventory URI. The lease ends when the
opened handset is closed.
"""

from __future__ import annotations

from typing import Any

from harness.handsets import OpenedHandset, connect_when_up
from harness.lab.inventory import Inventory
from harness.lab.leases import lease_any


def open_inventory_handset(inventory: Inventory, profile: str | None = None, os_version: str | None = None,
                           theme: str | None = None, emulator_options: dict[str, Any] | None = None,
                           wait: bool = True, timeout: float = 600.0) -> OpenedHandset:
    """Lease a matching handset of a rack inventory and open it; emulated ones are re-flashed first."""
    from harness.emulator.control import ControlClient

    emulated = bool(inventory.handsets) and all(e.control for e in inventory.handsets)
    lease = lease_any(inventory, profile=profile, os_version=None if emulated else os_version, wait=wait, timeout=timeout)
    try:
        entry = lease.entry
        endpoints: dict[str, Any] = {k: v for k, v in (("mail", entry.mail), ("control", entry.control),
                                                      ("control_token", entry.control_token),
                                                      ("modem_number", entry.modem_number)) if v}
        for port in ("console", "modem"):
            if getattr(entry, port):  # usb-serial:..., usb-location:..., @name become openable pyserial URLs
                endpoints[port] = inventory.resolve_port(entry, port)
        if entry.power is not None:   # its power channel as --switch names it: a run's timeline shows its switching
            p = entry.power
            where = inventory.resolve_port(entry, "power") if p.kind == "lcus" else p.hub or ""
            endpoints["power"] = f"{p.kind}:{where}#{p.channel}"
        if entry.control:
            with ControlClient.for_endpoints(endpoints) as control:
                control.call("lab_reset", os_version=os_version or inventory.profile_of(entry).os_version)
                control.call("theme", theme=theme or inventory.profile_of(entry).theme)
                options = emulator_options or {}
                control.call("toasts", enabled=str(options.get("toasts", "0")).lower() in ("1", "true", "yes"),
                             **({"interval": float(options["toast_interval"])} if "toast_interval" in options else {}))
                if "animation_ms" in options:
                    control.call("animation", ms=int(options["animation_ms"]))
        handset = connect_when_up(entry.uri)
        return OpenedHandset(entry.uri, handset, inventory.profile_of(entry), endpoints, None, lease)
    except BaseException:
        lease.release()
        raise
