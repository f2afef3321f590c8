"""A real ``labgrid-coordinator`` on 127.0.0.1 with an OS-picked port, in a temporary working folder.

The tests (and anyone wanting a throw-away lab on one machine) start one with
``LocalCoordinator``; the coordinator keeps its ``places.yaml`` and
``resources.yaml`` in that folder, which ``stop`` removes. It dies with the
thread that started it, so a killed test run leaves no coordinator behind.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.lab.labgrid import processes, program

#: Seconds a coordinator gets to say it listens (it imports gRPC first: about a second on an idle machine).
START_TIMEOUT = 60.0


class LocalCoordinator:
    """``labgrid-coordinator --listen 127.0.0.1:0`` in its own folder; ``address`` is ``127.0.0.1:PORT``."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="lg-coordinator-"))
        self.proc: subprocess.Popen | None = None
        self.address = ""

    def start(self, timeout: float = START_TIMEOUT) -> "LocalCoordinator":
        """Start it and wait until it listens; ``LabgridError``/``HarnessTimeout`` with what it said if not."""
        return self._launch("127.0.0.1:0", timeout)

    def restart(self, timeout: float = START_TIMEOUT, keep_places: bool = True) -> "LocalCoordinator":
        """Stop it and start it again on the same port in the same folder (its places kept), as a lab's
        coordinator restarts: clients and exporters lose their connection and must come back.

        ``keep_places=False`` starts it without its saved places, as after a restart that came before its
        next save (labgrid's coordinator writes ``places.yaml`` every 15 s, not on the way out)."""
        processes.stop(self.proc)
        self.proc = None
        if not keep_places:
            (self.folder / "places.yaml").unlink(missing_ok=True)
        return self._launch(self.address, timeout)

    def _launch(self, listen: str, timeout: float) -> "LocalCoordinator":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = processes.start([program("labgrid-coordinator"), "--listen", listen],
                                    cwd=str(self.folder), log=str(self.folder / "coordinator.log"))
        try:
            found = processes.wait_for_line(self.proc, r"listening on (127\.0\.0\.1:\d+)", timeout,
                                            "labgrid-coordinator to say 'listening on 127.0.0.1:PORT'")
        except BaseException:
            self.stop()
            raise
        self.address = found.group(1)
        return self

    def log(self) -> str:
        """What the coordinator logged so far (its stderr), for a failing test to quote."""
        try:
            return (self.folder / "coordinator.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> int | None:
        """Stop it (SIGTERM, then SIGKILL) and remove the folder it was given by us; its exit status."""
        code = processes.stop(self.proc)
        self.proc = None
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        return code

    def __enter__(self) -> "LocalCoordinator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

