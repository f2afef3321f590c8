"""The emulated modem's ports as a USB modem's are: stable names that go away on a restart and come back.

A USB modem that restarts drops off the bus and enumerates again: its
ttyUSB/ttyACM nodes vanish and come back (often under other numbers), and
labs reach it through udev's stable names (/dev/serial/by-id/...). Here each
port is a pty behind a symlink in a folder of its own; ``unplug`` removes
the names first (a closed pty's number is soon another program's), then
closes the ptys, so a reader sees its port fail; ``plug`` makes new ptys and
points the same names at them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Callable

from harness.emulator.pty_port import PtyPort

#: How long a present reader gets to read what was written before the port goes away.
DRAIN_SECONDS = 0.5


class UsbPorts:
    """Named ports (``usbmodem``, ``usbat``...) behind stable symlinks; ``ports`` are the current ptys."""

    def __init__(self, label: str, names: list[str], readers: list[Callable[[bytes], None]]) -> None:
        self.label = label
        self.names = names
        self.readers = readers
        self._dir = tempfile.mkdtemp(prefix="harness-modem-")
        self.paths = [os.path.join(self._dir, name) for name in names]
        self.ports: list[PtyPort] = []
        self.plugged = False

    def plug(self) -> list[str]:
        """New ports (a pty each), started, with the stable names pointed at them."""
        if self.plugged:
            return self.paths
        self.ports = [PtyPort(self.label + ("" if i == 0 else f" {name}"), reader)
                      for i, (name, reader) in enumerate(zip(self.names, self.readers))]
        for port, path in zip(self.ports, self.paths):
            port.start()
            tmp = path + ".new"
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(port.path, tmp)
            os.replace(tmp, path)
        self.plugged = True
        return self.paths

    def unplug(self) -> None:
        """The names go, then the ptys close (what is written to them meanwhile is lost, as on a dead bus)."""
        if not self.plugged:
            return
        for path in self.paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        self.plugged = False
        for port in self.ports:
            port.stop(drain=DRAIN_SECONDS)

    def stop(self) -> None:
        self.unplug()
        shutil.rmtree(self._dir, ignore_errors=True)
