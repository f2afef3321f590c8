"""The rack inventory (rack.toml): which handsets a rack holds and how to reach each one.

One module per concept: ``entries`` (a handset and its power switch),
``schema`` (the file format, checked field by field), ``ports`` (serial
ports found by USB location or serial number), ``toml_writer`` (writing it
back), ``rack`` (the ``Inventory`` with its queries) and ``emulated`` (the
inventory of an emulated rack). Callers import from here.
"""

from harness.lab.inventory.emulated import emulated_entries, write_emulated_inventory
from harness.lab.inventory.entries import PORT_FIELDS, POWER_KINDS, HandsetEntry, PowerSwitch
from harness.lab.inventory.ports import PortNotFound, resolve_port
from harness.lab.inventory.rack import Inventory, write_inventory

__all__ = [
    "Inventory", "HandsetEntry", "PowerSwitch", "PortNotFound", "resolve_port", "write_inventory",
    "emulated_entries", "write_emulated_inventory", "POWER_KINDS", "PORT_FIELDS",
]
