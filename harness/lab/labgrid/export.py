"""``harness lab export``: one rack host's handsets on a labgrid coordinator, for as long as it runs.

It resolves the inventory's ports, serves the local ones through ser2net,
writes the exporter configuration (``export_config``), runs a real
``labgrid-exporter`` on it, makes the places the coordinator lacks, and then
watches its children. labgrid's exporter exits with status 100 when it loses
the coordinator, expecting to be started again: the export starts it again,
and makes again any of its places the coordinator came back without (it saves
its places every 15 s, so ones made shortly before it went are lost). Everything it
started goes when it ends, however it ends: stop() on the way out, and the
kernel's parent-death signal when it is killed; the folder of an export killed
with -9 is removed by the next export on the host (``workdir``).
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from harness.errors import HarnessTimeout
from harness.lab.inventory import Inventory
from harness.lab.labgrid import LabgridError, processes, program
from harness.lab.labgrid.export_config import ExportPlan, plan_export, refuse_remote_hubs
from harness.lab.labgrid.made_places import PlacesMade, ensure_places
from harness.lab.labgrid.ser2net import Ser2net
from harness.lab.labgrid.usb_bridge import UsbBridge
from harness.lab.labgrid.workdir import ExportFolder, remove_stale

#: Seconds the exporter gets to reach the coordinator ("Exporter ready").
READY_TIMEOUT = 60.0
#: labgrid-exporter's exit status when it lost the coordinator and wants to be started again.
EXPORTER_REEXEC = 100
#: Seconds between restarts of an exporter whose coordinator is away (it exits again at once until it is back).
RESTART_DELAY = 2.0


class RackExport:
    """The ser2net, exporter and places of one inventory under one exporter name."""

    def __init__(self, inventory: Inventory, coordinator: str, name: str, hostname: str = "127.0.0.1",
                 say: Callable[[str], None] = print, usb_backend: Any = None) -> None:
        self.inventory = inventory
        self.coordinator = coordinator
        self.name = name
        self.hostname = hostname
        self.say = say
        self.plan: ExportPlan = plan_export(inventory, name)  # first: a plan refused leaves no folder behind
        refuse_remote_hubs(inventory, hostname)
        remove_stale(say)  # the folders of exports killed with -9 on this host
        self.workdir = ExportFolder(name)
        self.folder = self.workdir.path
        self.ser2net = Ser2net(self.plan.local_ports, hostname, self.folder)
        self.bridges = {handset: UsbBridge(serial, hostname, usb_backend, say)
                        for handset, serial in self.plan.usb_handsets.items()}
        self.exporter: subprocess.Popen | None = None
        self.places: PlacesMade | None = None

    def start(self) -> PlacesMade:
        """Serve the ports, start the exporter, make the missing places; what was made and what was found."""
        for note in self.plan.notes:
            self.say(f"note: {note}")
        self.ser2net.start()
        for port in self.plan.local_ports:
            self.say(f"ser2net: {port.path} at rfc2217://{self.hostname}:{self.ser2net.tcp_port[port.path]}")
        for handset, bridge in self.bridges.items():
            bridge.start()
            self.say(f"adb-usb: {handset} (adb-usb://{bridge.serial}) as ADB over TCP at {self.hostname}:{bridge.port}")
        self._write_config()
        self._start_exporter()
        self.places = ensure_places(self.coordinator, self.plan.places)
        for name in self.places.made:
            spec = next(s for s in self.plan.places if s.name == name)
            tags = " ".join(f"{k}={v}" for k, v in spec.tags.items())
            self.say(f"made place {name} (matches {', '.join(spec.matches)}; tags {tags})")
        for name, matches in self.places.existing.items():
            self.say(f"place {name} exists (matches {', '.join(matches) or 'nothing'}); left as it is")
        return self.places

    def _write_config(self) -> None:
        import yaml  # labgrid's own dependency (PyYAML)

        groups = self.plan.groups(self.hostname, self.ser2net.tcp_port,
                                  {handset: bridge.port for handset, bridge in self.bridges.items()})
        (self.folder / "exporter.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))

    @property
    def config_path(self) -> Path:
        return self.folder / "exporter.yaml"

    def _start_exporter(self) -> None:
        self.exporter = processes.start(
            [program("labgrid-exporter"), "--coordinator", self.coordinator, "--name", self.name,
             "--hostname", self.hostname, str(self.config_path)],
            cwd=str(self.folder), log=str(self.folder / "exporter.log"))
        try:
            processes.wait_for_line(self.exporter, r"^Exporter ready", READY_TIMEOUT,
                                    f"labgrid-exporter {self.name} to reach the coordinator at {self.coordinator}")
        except LabgridError:  # it ended first: what it logged (stderr) says why, not what it printed
            code = processes.stop(self.exporter)
            self.exporter = None
            raise LabgridError(f"labgrid-exporter {self.name} ended (status {code}) before it reached the coordinator "
                               f"at {self.coordinator}: {self._exporter_said()}") from None
        except BaseException:
            processes.stop(self.exporter)
            self.exporter = None
            raise
        self._drain()

    def _drain(self) -> None:
        """Keep reading the exporter's stdout (into its log) so it never blocks on a full pipe."""
        assert self.exporter is not None and self.exporter.stdout is not None
        os.set_blocking(self.exporter.stdout.fileno(), False)

    def serve(self) -> int:
        """Watch the children until one fails for good (its status) or the process is told to stop (raises)."""
        while True:
            assert self.exporter is not None and self.exporter.stdout is not None
            out = self.exporter.stdout.fileno()
            ready, _, _ = select.select([out], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(out, 65536)
                except BlockingIOError:
                    chunk = b"x"
                if chunk:
                    with open(self.folder / "exporter.log", "ab") as log:
                        log.write(chunk)
                    continue
            if not self.ser2net.alive():
                raise LabgridError(f"ser2net stopped: {self.ser2net.log()[-300:] or 'it logged nothing'}")
            code = self.exporter.poll()
            if code is None:
                continue
            if code != EXPORTER_REEXEC:
                raise LabgridError(f"labgrid-exporter {self.name} exited with status {code}: {self._exporter_said()}")
            self.say(f"labgrid-exporter lost the coordinator at {self.coordinator}; starting it again")
            self._restart_exporter()
            self._make_lost_places()

    def _make_lost_places(self) -> None:
        """Make again the places a restarted coordinator came back without: it saves them every 15 s, so
        places made (by us or anyone) shortly before it went are gone after it comes back."""
        try:
            again = ensure_places(self.coordinator, self.plan.places)
        except LabgridError as exc:  # gone again: its exporter exits too, and we come back here
            self.say(f"could not check the places after the coordinator came back: {exc}")
            return
        for name in again.made:
            self.say(f"made place {name} again: the coordinator at {self.coordinator} came back without it "
                     "(labgrid saves its places every 15 s)")

    def _restart_exporter(self) -> None:
        """Start the exporter again until it reaches the coordinator (labgrid's exporter wants a supervisor)."""
        while True:
            processes.stop(self.exporter)
            time.sleep(RESTART_DELAY)  # the coordinator is away: do not spin
            try:
                self._start_exporter()
                self.say(f"labgrid-exporter {self.name} is back on {self.coordinator}")
                return
            except (LabgridError, HarnessTimeout):
                continue

    def _exporter_said(self) -> str:
        try:
            lines = (self.folder / "exporter.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        errors = [ln for ln in lines if ln.startswith(("ERROR", "CRITICAL"))]
        return " | ".join((errors or lines)[-3:])[-300:] or "it logged nothing"

    def stop(self) -> None:
        """Stop the exporter (its resources leave the coordinator; the places stay) and ser2net; remove the folder."""
        processes.stop(self.exporter)
        self.exporter = None
        self.ser2net.stop()
        for bridge in self.bridges.values():
            bridge.stop()
        self.workdir.remove()
