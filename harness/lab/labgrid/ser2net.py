"""Debian's ``ser2net`` serving a rack host's local serial ports over RFC 2217, as labgrid's ``NetworkSerialPort``.

One ser2net process serves every local port of the export (console and modem
ptys or ``/dev/tty*``, a relay board), each on its own TCP port at the
published address. ser2net takes a port number, not 0, so free ports are
taken from the OS and handed over; the ports are checked to be listening (in
the kernel's socket table, without opening the devices) and, should one have
been taken meanwhile, ser2net is started again on fresh ones.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from harness.lab.labgrid import LabgridError, processes, program

#: Seconds ser2net gets to listen on every port of one attempt, and attempts with fresh ports.
LISTEN_TIMEOUT = 20.0
ATTEMPTS = 4


@dataclass(frozen=True)
class LocalPort:
    """A serial device of this host to serve: its path, speed, and whether several places share it (a relay)."""

    path: str
    speed: int = 115200
    shared: bool = False


def _free_port(address: str) -> int:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _listening_ports() -> set[int]:
    """TCP ports in LISTEN state on this host (``/proc/net/tcp`` and ``tcp6``), read without touching any device."""
    found: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # 0A: TCP_LISTEN
                found.add(int(fields[1].rsplit(":", 1)[1], 16))
    return found


def ser2net_yaml(ports: Mapping[LocalPort, int], address: str) -> str:
    """ser2net 4's YAML: one RFC 2217 connection per port at ``address``; a shared port takes several clients."""
    out = ["%YAML 1.1", "---"]
    for i, (port, tcp) in enumerate(ports.items()):
        out += [f"connection: &port{i}",
                f"    accepter: telnet(rfc2217),tcp,{address},{tcp}",
                f"    connector: serialdev,{port.path},{port.speed}n81,local",
                "    options:",
                # a console or modem: a new client (a run that took over the place) replaces a stale one
                *(["      max-connections: 4"] if port.shared else ["      kickolduser: true"])]
    return "\n".join(out) + "\n"


class Ser2net:
    """One ser2net for ``ports`` at ``address``; ``tcp_port[path]`` says where each is served once started."""

    def __init__(self, ports: list[LocalPort], address: str, folder: Path) -> None:
        self.ports = ports
        self.address = address
        self.folder = folder
        self.proc: subprocess.Popen | None = None
        self.tcp_port: dict[str, int] = {}

    def start(self) -> "Ser2net":
        """Start it and wait until every port listens; ``LabgridError`` quoting its log if it never does."""
        if not self.ports:
            return self
        binary = program("ser2net")
        for _ in range(ATTEMPTS):
            chosen = {p: _free_port(self.address) for p in self.ports}
            config = self.folder / "ser2net.yaml"
            config.write_text(ser2net_yaml(chosen, self.address))
            self.proc = processes.start([binary, "-n", "-d", "-u", "-c", str(config), "-P",
                                         str(self.folder / "ser2net.pid")], log=str(self.folder / "ser2net.log"))
            if self._wait_listening(set(chosen.values())):
                self.tcp_port = {p.path: tcp for p, tcp in chosen.items()}
                return self
            processes.stop(self.proc)
            self.proc = None
        raise LabgridError(f"ser2net did not serve {', '.join(p.path for p in self.ports)} at {self.address} "
                           f"after {ATTEMPTS} tries: {self.log()[-300:] or 'it logged nothing'}")

    def _wait_listening(self, wanted: set[int]) -> bool:
        """True once all ``wanted`` ports listen; False if ser2net exits or a port stays unbound past the deadline."""
        assert self.proc is not None
        end = time.monotonic() + LISTEN_TIMEOUT
        delay = 0.01
        while not wanted <= _listening_ports():
            if self.proc.poll() is not None or time.monotonic() > end:
                return False
            time.sleep(delay)  # polling the kernel's table: ser2net says nothing when it is ready
            delay = min(0.2, delay * 2)
        return True

    def log(self) -> str:
        try:
            return (self.folder / "ser2net.log").read_text(errors="replace").strip()
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None

    def stop(self) -> None:
        processes.stop(self.proc)
        self.proc = None


