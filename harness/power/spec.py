"""One channel of a power switch named in one string (``lcus:PORT#CHANNEL``, ``uhubctl:HUB#PORT``), opened.

The desk's ``--switch`` and the rack inventory's ``power`` tables name a channel
the same two ways; this is the one place that turns either into a switch.
"""

from __future__ import annotations

from harness.power.base import PowerSwitch, PowerSwitchError

KINDS = ("lcus", "uhubctl")


def parse_switch_spec(spec: str) -> tuple[str, str, int]:
    """``lcus:PORT#CHANNEL`` or ``uhubctl:HUB#PORT`` as (kind, where, channel); PowerSwitchError otherwise."""
    kind, _, rest = spec.partition(":")
    where, _, channel = rest.rpartition("#")
    if kind not in KINDS or not where or not channel.isdigit():
        raise PowerSwitchError(f"{spec!r}: expected lcus:PORT#CHANNEL or uhubctl:HUB#PORT")
    return kind, where, int(channel)


def open_switch(kind: str, where: str, channel: int) -> PowerSwitch:
    """The switch that drives ``channel``: a relay board on serial port ``where``, or the USB hub at ``where``."""
    from harness.power.lcus import LcusRelay
    from harness.power.uhubctl import UhubctlSwitch

    if kind == "lcus":
        return LcusRelay(where, channels=max(channel, 1))
    if kind == "uhubctl":
        return UhubctlSwitch(where, ports=max(channel, 1))
    raise PowerSwitchError(f"unknown power switch kind {kind!r} (expected {' or '.join(KINDS)})")
