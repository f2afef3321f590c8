"""The test coordinator is labgrid's own: ``labgrid-client`` talks to it, and it goes when stopped or orphaned."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from harness.lab.labgrid.coordinator import LocalCoordinator


def _refused(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    except OSError:  # a loaded machine: the connect timed out, neither answer; ask again
        return False
    return False


def test_labgrid_client_creates_and_lists_a_place(lg_coordinator, lg_client) -> None:
    assert lg_coordinator.address.startswith("127.0.0.1:")
    made = lg_client("-p", "coordinator-smoke", "create")
    assert made.returncode == 0, made.stderr
    listed = lg_client("places")
    assert listed.returncode == 0 and "coordinator-smoke" in listed.stdout.split(), listed.stderr


def test_a_coordinator_goes_with_the_process_that_started_it(tmp_path) -> None:
    """kill -9 of the starter: the kernel's parent-death signal stops the coordinator (no listener left)."""
    script = textwrap.dedent(f"""
        import sys, time
        from harness.lab.labgrid.coordinator import LocalCoordinator
        c = LocalCoordinator({str(tmp_path / 'c')!r}).start()
        print(c.address, c.proc.pid, flush=True)
        time.sleep(600)
    """)
    starter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        address, pid = starter.stdout.readline().split()
        assert not _refused(address)
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        deadline = time.monotonic() + 30
        while not _refused(address):
            assert time.monotonic() < deadline, \
                f"coordinator {pid} still listens at {address} 30s after its starter died"
            time.sleep(0.05)
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait(10)


def test_an_export_goes_with_the_process_that_started_it(lg_coordinator, lg_client, tmp_path) -> None:
    """kill -9 of whatever started ``harness lab export``: the export stops, and its exporter with it."""
    inventory = tmp_path / "rack.toml"
    inventory.write_text('[[handset]]\nname = "orphan-01"\nprofile = "lumia-930"\nuri = "adb-tcp://127.0.0.1:9"\n')
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        export = subprocess.Popen([sys.executable, "-m", "harness", "lab", "export", "--inventory", {str(inventory)!r},
                                   "--coordinator", {lg_coordinator.address!r}, "--name", "rack-orphan",
                                   "--janitor-limit", "0"], stdout=subprocess.PIPE, text=True)
        for line in export.stdout:
            if "ready:" in line:
                print(export.pid, flush=True)
                break
        time.sleep(600)
    """)
    starter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        line = starter.stdout.readline()
        assert line.strip().isdigit(), f"the export did not get ready: {line!r}"
        export_pid = int(line)
        exporter = [int(p) for p in Path(f"/proc/{export_pid}/task/{export_pid}/children").read_text().split()]
        assert len(exporter) == 1
        assert "rack-orphan/orphan-01/RemoteAndroidNetFastboot" in lg_client("resources").stdout
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        deadline = time.monotonic() + 60
        while any(_running(pid) for pid in (export_pid, *exporter)):
            assert time.monotonic() < deadline, "the export or its exporter still runs 60s after its starter died"
            time.sleep(0.05)
        deadline = time.monotonic() + 60
        while "rack-orphan" in lg_client("resources").stdout:
            assert time.monotonic() < deadline, "the orphaned export's resources still on the coordinator after 60s"
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait(10)


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is no zombie (a reaped or exiting process counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
