"""``harness lab export`` against labgrid's real coordinator, exporter and client, with Debian's ser2net.

Two rack hosts on loopback (exporters ``rack-a`` and ``rack-b``), an emulated
rack behind each. What is checked is what a labgrid user sees
(``labgrid-client places``, ``resources``, ``show``) and that the published
endpoints really lead to the handsets: ADB at the ``adb`` resource's address,
AT commands through ser2net to the modem (the relay through a place is
``test_lg_place_export.py``'s).
One coordinator, two racks and two exports for the whole module.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import serial

from harness.adb.auth import load_or_create_key

pytestmark = pytest.mark.slow
#: Seconds an export gets to say it is ready (ser2net, the exporter's gRPC start, the places).
READY = 90.0


def _start_rack(tmp: Path, env: dict[str, str], profiles: str, count: int, name: str,
                *more: str) -> tuple[subprocess.Popen, Path]:
    inventory = tmp / f"{name}.toml"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--rack", str(count), "--rack-profiles",
                             profiles, "--animation-ms", "0", "--boot-time", "0.3", "--inventory-out", str(inventory),
                             *more],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout.readline(), f"emulated rack {name} did not start"
    return proc, inventory


class Export:
    """A running ``harness lab export`` and the lines it printed (read by a thread as they come)."""

    def __init__(self, inventory: Path, coordinator: str, name: str, env: dict[str, str], *more: str) -> None:
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-m", "harness", "lab", "export", "--inventory", str(inventory),
                                      "--coordinator", coordinator, "--name", name, *more],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("harness lab export: ready: ", READY)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, start: str, timeout: float) -> str:
        """The first line starting with ``start``, waited for up to ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while True:
            found = [ln for ln in list(self.lines) if ln.startswith(start)]
            if found:
                return found[0]
            assert self._reader.is_alive() or any(ln.startswith(start) for ln in self.lines), \
                f"export {self.name} ended without saying {start!r}: {self.lines}"
            assert time.monotonic() < end, f"export {self.name} did not say {start!r} within {timeout:g}s: {self.lines}"
            time.sleep(0.05)

    def children(self) -> list[int]:
        found = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [int(pid) for pid in found]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(30)


@pytest.fixture(scope="module")
def lab(lg_coordinator, tmp_path_factory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("lab")
    load_or_create_key(tmp / "adbkey")
    # TMPDIR: the folder of an export killed with -9 (its ser2net and exporter configuration) goes with pytest's
    env = {**os.environ, "HARNESS_ADB_KEY": str(tmp / "adbkey"), "HARNESS_LEASE_DIR": str(tmp / "leases"),
           "TMPDIR": str(tmp)}
    racks, exports = [], []
    try:
        # a SIM of its own in each handset (alice's and carol's numbers on file): the modem_number tags differ
        rack_a, inv_a = _start_rack(tmp, env, "lumia-520,lumia-630", 2, "rack-a", "--modem-number",
                                    "+15550100,+15550142")
        racks.append(rack_a)
        rack_b, inv_b = _start_rack(tmp, env, "lumia-930", 1, "rack-b")
        racks.append(rack_b)
        exports.append(Export(inv_a, lg_coordinator.address, "rack-a", env))
        exports.append(Export(inv_b, lg_coordinator.address, "rack-b", env))
        yield {"a": exports[0], "b": exports[1], "inv_a": inv_a, "env": env, "tmp": tmp}
    finally:
        for export in exports:
            export.stop()
        for rack in racks:
            rack.terminate()
            rack.wait(30)


def _show(lg_client, place: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """``labgrid-client -p PLACE show``: its text, and each matching resource's dict by resource name."""
    out = lg_client("-p", place, "show")
    assert out.returncode == 0, out.stderr
    resources = {}
    for name, body in re.findall(r"^Matching resource '(\w+)' \([^)]*\):\n((?:  .*\n?)+)", out.stdout, re.M):
        resources[name] = ast.literal_eval(body.strip())
    return out.stdout, resources


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def _wait(condition, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"expected {what} within {timeout:g}s"
        time.sleep(0.05)


def test_places_and_resources_as_labgrid_client_shows_them(lab, lg_client) -> None:
    assert any(re.fullmatch(r"harness lab export: made place lumia-520-01 \(matches rack-a/lumia-520-01/\*; .*\)", ln)
               for ln in lab["a"].lines), lab["a"].lines
    assert lab["a"].wait_for("harness lab export: ready:", 1).endswith("places made: lumia-520-01, lumia-630-01")
    assert lab["b"].wait_for("harness lab export: ready:", 1).endswith("places made: lumia-930-01")

    places = lg_client("places")
    assert places.returncode == 0, places.stderr
    assert [ln.split()[0] for ln in places.stdout.splitlines()] == ["lumia-520-01", "lumia-630-01", "lumia-930-01"]
    resources = lg_client("resources")
    assert resources.returncode == 0, resources.stderr
    groups = (("rack-a", "lumia-520-01"), ("rack-a", "lumia-630-01"), ("rack-b", "lumia-930-01"))
    kinds = (("adb", "RemoteAndroidNetFastboot"), ("console", "NetworkSerialPort"), ("modem", "NetworkSerialPort"),
             ("power", "NetworkPowerPort"))
    assert resources.stdout.splitlines() == [f"{e}/{g}/{cls}" for e, g in groups for _, cls in kinds]
    verbose = lg_client("-v", "resources")
    assert verbose.returncode == 0, verbose.stderr
    for exporter, group in groups:
        for name, cls in kinds:
            assert f"Resource '{name}' ({exporter}/{group}/{cls}[/{name}]):" in verbose.stdout, verbose.stdout

    text, res = _show(lg_client, "lumia-930-01")
    assert "tags: emulated=yes, modem_number=+15550100, os_version=8.1, profile=lumia-930" in text, text
    assert "    rack-b/lumia-930-01/*" in text
    text_520, _ = _show(lg_client, "lumia-520-01")
    assert "modem_number=+15550100, os_version=8.0, profile=lumia-520" in text_520, text_520
    text_630, _ = _show(lg_client, "lumia-630-01")
    assert "modem_number=+15550142, " in text_630, text_630
    assert set(res) == {"adb", "console", "modem", "power"} and all(r["avail"] for r in res.values())

    # the published endpoints lead to the handset: ADB, the modem through ser2net, the relay channel through ser2net
    adb = res["adb"]["params"]
    assert adb["protocol"] == "tcp"
    handset = f"adb-tcp://{adb['address']}:{adb['port']}"
    env = lab["env"]
    out = subprocess.run([sys.executable, "-m", "harness", "shell", "--handset", handset, "getprop",
                          "ro.product.model"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0 and out.stdout == "Lumia 930\n", out.stderr
    modem = res["modem"]["params"]
    assert modem["protocol"] == "rfc2217"
    with serial.serial_for_url(f"rfc2217://{modem['host']}:{modem['port']}?ign_set_control", timeout=10) as port:
        port.write(b"AT\r")
        got, end = b"", time.monotonic() + 20
        while b"OK" not in got and time.monotonic() < end:
            got += port.read(64)
    assert b"OK" in got, got
    power = res["power"]["params"]
    assert power["model"] == "lcus" and power["index"] == "1"
    assert re.fullmatch(r"rfc2217://127\.0\.0\.1:\d+\?ign_set_control", power["host"]), power
    # switching it through ser2net is test_lg_place_export.py's (harness power --place)


def test_a_killed_export_takes_its_resources_and_ser2net_with_it(lab, lg_client) -> None:
    _, res = _show(lg_client, "lumia-930-01")
    console = res["console"]["params"]
    children = lab["b"].children()
    assert len(children) == 2  # ser2net and labgrid-exporter
    os.kill(lab["b"].proc.pid, signal.SIGKILL)
    lab["b"].proc.wait(30)
    _wait(lambda: not any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in children),
          "the export's ser2net and labgrid-exporter to end with it")
    # killed with -9 it could not remove its working folder: the next export on the host does (next test)
    assert len(list(lab["tmp"].glob("lg-export-rack-b-*"))) == 1, list(lab["tmp"].iterdir())
    assert _refused(console["host"], console["port"])

    def unavailable() -> bool:
        return _show(lg_client, "lumia-930-01")[1] == {}

    _wait(unavailable, "place lumia-930-01 to show no matching resource once its exporter is gone", 60)
    taken = lg_client("-p", "lumia-930-01", "acquire")
    assert taken.returncode != 0
    assert "lumia-930-01" in lg_client("places").stdout  # the place stays, for when the host comes back
    _, other = _show(lg_client, "lumia-520-01")
    assert set(other) == {"adb", "console", "modem", "power"}  # the other host's places are untouched


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (OSError, IndexError):
        return "zombie"


def test_a_stopped_export_started_again_finds_its_places(lab, lg_coordinator, lg_client) -> None:
    assert lab["a"].stop() == 143  # SIGTERM: it stops what it started and says so
    _wait(lambda: _show(lg_client, "lumia-520-01")[1] == {}, "rack-a's resources to leave the coordinator", 60)
    b_folders = list(lab["tmp"].glob("lg-export-rack-b-*"))
    b_killed = lab["b"].proc.poll() is not None  # by the test above (kill -9): its folder was left behind
    stale = b_folders if b_killed else []
    again = Export(lab["inv_a"], lg_coordinator.address, "rack-a", lab["env"], "--janitor-limit", "0")
    lab["a"] = again
    for folder in stale:
        assert not folder.exists()
        assert any(ln.startswith(f"harness lab export: removed {folder}, left by an export (pid ")
                   for ln in again.lines), again.lines
    assert len(list(lab["tmp"].glob("lg-export-rack-a-*"))) == 1  # the new export's, kept while it runs
    if not b_killed:
        assert b_folders and all(folder.exists() for folder in b_folders)  # a live export's folder is kept
    assert "harness lab export: place lumia-520-01 exists (matches rack-a/lumia-520-01/*); left as it is" in again.lines
    assert again.wait_for("harness lab export: ready:", 1).endswith("places made: none")
    _wait(lambda: set(_show(lg_client, "lumia-630-01")[1]) == {"adb", "console", "modem", "power"},
          "rack-a's resources back on its places", 60)


def test_the_export_outlives_a_coordinator_restart(lab, lg_coordinator, lg_client) -> None:
    """labgrid's exporter exits (status 100) when it loses the coordinator; the export starts it again."""
    export = lab["a"]
    lg_coordinator.restart()
    export.wait_for("harness lab export: labgrid-exporter lost the coordinator at ", 60)
    export.wait_for("harness lab export: labgrid-exporter rack-a is back on ", 90)
    assert export.proc.poll() is None
    _wait(lambda: set(_show(lg_client, "lumia-520-01")[1]) == {"adb", "console", "modem", "power"},
          "rack-a's resources on its places (kept by the restarted coordinator) again", 60)
