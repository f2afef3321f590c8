"""Switching a USB hub port with uhubctl (``uhubctl -l <hub> -p <port> -a on|off``): the phone's own VBUS."""

from __future__ import annotations

import re
import shutil
import subprocess

from harness.power.base import PowerSwitch, PowerSwitchError

_PORT_LINE = re.compile(r"^\s*Port\s+(\d+):\s+([0-9a-fA-F]{4})\s+(.*)$")


def parse_port_state(output: str, port: int) -> bool | None:
    """uhubctl prints 'Port N: 0503 power ...' lines; the last one for our port says whether it has power."""
    state = None
    for line in output.splitlines():
        m = _PORT_LINE.match(line)
        if m and int(m.group(1)) == port:
            flags = m.group(3).split("[")[0].split()
            state = "off" not in flags and ("power" in flags or "enable" in flags)
    return state


class UhubctlSwitch(PowerSwitch):
    """Channel N is port N of one hub location (e.g. ``1-1.4``)."""

    def __init__(self, hub: str, ports: int = 4, binary: str = "uhubctl") -> None:
        self.hub = hub
        self.channels = ports
        self.binary = binary

    def command(self, port: int, action: str | None) -> list[str]:
        cmd = [self.binary, "-l", self.hub, "-p", str(port)]
        return cmd + (["-a", action] if action else [])

    def _run(self, port: int, action: str | None) -> str:
        self._check(port)
        if shutil.which(self.binary) is None:
            raise PowerSwitchError(f"{self.binary} is not installed (apt-get install uhubctl)")
        done = subprocess.run(self.command(port, action), capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise PowerSwitchError(f"{' '.join(self.command(port, action))}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def on(self, channel: int) -> None:
        self._run(channel, "on")

    def off(self, channel: int) -> None:
        self._run(channel, "off")

    def state(self, channel: int) -> bool | None:
        return parse_port_state(self._run(channel, None), channel)
