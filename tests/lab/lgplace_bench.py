"""A labgrid bench on loopback for the place tests: a real ``labgrid-coordinator``, real ``labgrid-exporter``s with
hand-written resource files, places made with ``labgrid-client``, and emulated handsets behind them.

Everything listens on 127.0.0.1 with OS-picked ports and runs in a temporary folder; ``close()`` stops it all.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

BIN = Path(sys.executable).parent


def wait_for(predicate: Callable[[], Any], timeout: float, expected: str, seen: Callable[[], object] | None = None,
             interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it gives something true; AssertionError naming what was expected and seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {expected} within {timeout:g}s; saw {(seen() if seen else value)!r}"[:3000])
        time.sleep(interval)


class Bench:
    """One coordinator (restartable on its port), its exporters and places, in ``folder``."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LG_"))}, **(env or {})}
        self.coordinator: subprocess.Popen[str] | None = None
        self.address = ""
        self.exporters: dict[str, tuple[subprocess.Popen[str], Path]] = {}
        self.others: list[subprocess.Popen[Any]] = []
        (folder / "coordinator").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ processes
    def start_coordinator(self, port: int = 0) -> str:
        log = open(self.folder / "coordinator.log", "a")
        self.coordinator = subprocess.Popen([str(BIN / "labgrid-coordinator"), "-l", f"127.0.0.1:{port}"],
                                            cwd=self.folder / "coordinator", env=self.env, stdout=subprocess.PIPE,
                                            stderr=log, text=True, start_new_session=True)
        assert self.coordinator.stdout is not None
        line = self.coordinator.stdout.readline()  # "listening on 127.0.0.1:PORT" (or EOF if it died)
        found = re.search(r"listening on (\S+:\d+)", line)
        assert found, f"labgrid-coordinator did not say where it listens: {line!r}; " \
                      f"log: {(self.folder / 'coordinator.log').read_text()[-2000:]}"
        self.address = found.group(1)
        return self.address

    def stop_coordinator(self) -> None:
        if self.coordinator is not None:
            _stop(self.coordinator)
            self.coordinator = None

    def start_exporter(self, name: str, resources: dict[str, Any]) -> None:
        config = self.folder / f"exporter-{name}.yaml"
        config.write_text(json.dumps(resources))  # YAML is a superset of JSON
        log = open(self.folder / f"exporter-{name}.log", "a")
        proc = subprocess.Popen([str(BIN / "labgrid-exporter"), "-c", self.address, "-n", name, "--hostname",
                                 "127.0.0.1", str(config)], cwd=self.folder, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.exporters[name] = (proc, config)
        wait_for(lambda: f"{name}/" in self.client("resources").stdout, 60, f"exporter {name}'s resources",
                 lambda: (self.folder / f"exporter-{name}.log").read_text()[-1500:], interval=0.5)

    def stop_exporter(self, name: str) -> None:
        proc, _ = self.exporters.pop(name)
        _stop(proc)

    def restart_exporter(self, name: str) -> None:
        """Start an exporter again with its resources (as systemd does after it exits when its coordinator goes)."""
        proc, config = self.exporters.pop(name)
        _stop(proc)
        self.start_exporter(name, json.loads(config.read_text()))

    def client(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        run = subprocess.run([str(BIN / "labgrid-client"), "-x", self.address, *args], env=self.env,
                             capture_output=True, text=True, timeout=60)
        assert not check or run.returncode == 0, f"labgrid-client {' '.join(args)}: {run.stderr}"
        return run

    def add_place(self, name: str, patterns: list[str], tags: dict[str, str]) -> None:
        """A place as a labgrid user makes one: create, add-match, set-tags."""
        self.client("-p", name, "create", check=True)
        self.client("-p", name, "add-match", *patterns, check=True)
        self.client("-p", name, "set-tags", *(f"{k}={v}" for k, v in tags.items()), check=True)

    def places(self) -> dict[str, Any]:
        """``labgrid-client places -v`` read back: {place: {"acquired": ..., "tags": {...}}} (the client's view)."""
        out = self.client("-v", "places", check=True).stdout
        places: dict[str, Any] = {}
        current: dict[str, Any] = {}
        for line in out.splitlines():
            if m := re.match(r"Place '(.+)':", line):
                current = places[m.group(1)] = {"acquired": None, "tags": {}}
            elif m := re.match(r"\s+acquired: (.+)", line):
                current["acquired"] = None if m.group(1).strip() in ("None", "") else m.group(1).strip()
            elif m := re.match(r"\s+tags: (.+)", line):
                current["tags"] = dict(p.split("=", 1) for p in m.group(1).split(", ") if "=" in p)
        return places

    def close(self) -> None:
        for proc in self.others:
            _stop(proc)
        for name in list(self.exporters):
            self.stop_exporter(name)
        self.stop_coordinator()


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()
