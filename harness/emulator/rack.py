"""An emulated rack: N emulated handsets (one ``harness emulate`` child each) and a relay board.

The relay board is an emulated LCUS-style board on a pty in this process; each
channel is wired to one handset's power through that handset's control
socket, the way a real relay is wired to a phone's battery line.
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess


def _say(line: str) -> None:
    """The rack's own log (its stderr): what its relay board took and switched."""
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


class RemotePower:
    """A handset's power line, switched through its control socket (what a relay channel drives)."""

    def __init__(self, endpoints: dict[str, Any]) -> None:
        self.endpoints = endpoints
        self.serial = endpoints["serial"]

    def _call(self, **req: Any) -> dict[str, Any]:
        with ControlClient.for_endpoints(self.endpoints, timeout=5) as control:
            return control.call("power", **req)

    def power_on(self) -> None:
        self._call(on=True)

    def power_off(self) -> None:
        self._call(on=False)

    @property
    def powered(self) -> bool:
        with ControlClient.for_endpoints(self.endpoints, timeout=5) as control:
            return bool(control.call("state")["state"]["powered"])


@dataclass
class EmulatedRack:
    """N handsets cycling through ``profiles``; ``start()`` returns the rack's endpoints."""

    count: int
    profiles: list[str]
    child_args: list[str] = field(default_factory=list)
    #: One SIM number per handset (``--modem-number``); empty: every modem the emulator's default.
    modem_numbers: list[str] = field(default_factory=list)
    log_dir: Path | None = None
    children: list[EmulatorProcess] = field(default_factory=list)
    relay: Any = None

    def start(self) -> dict[str, Any]:
        profiles = itertools.cycle(self.profiles)
        handsets = []
        try:
            for i in range(self.count):
                profile = next(profiles)
                # Each emulated handset has its own account service and mobile network (its own
                # little world), so every modem can hold the demo number that the accounts list, unless
                # each is given a SIM number of its own (modem_numbers).
                args = list(self.child_args) + ["--serial-index", str(i)]
                if self.modem_numbers:  # a SIM of its own: an account's codes reach the handset holding its number
                    args += ["--modem-number", self.modem_numbers[i]]
                child = EmulatorProcess(profile, args,
                                        log_path=(self.log_dir / f"handset-{i + 1:02d}.log") if self.log_dir else None)
                handsets.append(child.start())
                self.children.append(child)
            endpoints: dict[str, Any] = {"handsets": handsets}
            try:
                from harness.emulator.relay_device import relay_service
            except ImportError:
                relay_service = None
            if relay_service is not None:
                powers = [RemotePower(h) for h in handsets]
                self.relay = relay_service(powers, {"log": _say})
                endpoints.update(self.relay.start())
            return endpoints
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
        for child in self.children:
            child.terminate()  # all at once: a 16-handset rack stops in the time one handset takes
        for child in self.children:
            child.stop()
        self.children.clear()
