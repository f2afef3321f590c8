"""The PowerSwitch interface: on, off, cycle and state of one numbered channel."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from harness.errors import HarnessError


class PowerSwitchError(HarnessError):
    """The switch could not be driven (port gone, tool failed, bad channel)."""


class PowerSwitch(ABC):
    """A switch with channels numbered from 1; each drives one handset's power."""

    channels: int
    #: False for a switch that sends nothing back (an LCUS board): a command lost on the way goes unnoticed there,
    #: so whoever waits for the handset after "on" sends it again (``harness power on --wait``).
    acknowledges: bool = True

    def _check(self, channel: int) -> None:
        if not 1 <= channel <= self.channels:
            raise PowerSwitchError(f"channel {channel} does not exist (this switch has 1..{self.channels})")

    @abstractmethod
    def on(self, channel: int) -> None: ...

    @abstractmethod
    def off(self, channel: int) -> None: ...

    @abstractmethod
    def state(self, channel: int) -> bool | None:
        """True on, False off, None when the switch cannot tell."""

    def cycle(self, channel: int, off_seconds: float = 2.0) -> None:
        self.off(channel)
        time.sleep(off_seconds)
        self.on(channel)

    def close(self) -> None:
        """Release the port (no-op by default)."""
