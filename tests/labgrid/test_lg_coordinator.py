"""The test coordinator is labgrid's own: ``labgrid-client`` talks to it, and it goes when stopped or orphaned."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

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
            assert time.monotonic() < deadline, f"coordinator {pid} still listens at {address} 30s after its starter died"
            time.sleep(0.05)
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait(10)
