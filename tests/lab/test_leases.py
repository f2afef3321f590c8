"""Leases: exclusive across processes, freed by death (SIGKILL), waiting with a message, failing fast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.errors import HarnessTimeout
from harness.lab.inventory import HandsetEntry, Inventory
from harness.lab.leases import (
    Holder, LeaseBusy, LeaseTimeout, NoMatchingHandset, acquire, holder_of, lease, lease_any, lease_dir, lease_key,
    lease_table, lock_path,
)

RACK = Inventory(handsets=[
    HandsetEntry("lumia-930-01", "lumia-930", "adb-usb://930D00000001"),
    HandsetEntry("lumia-930-02", "lumia-930", "adb-usb://930D00000002"),
    HandsetEntry("lumia-520-01", "lumia-520", "adb-tcp://127.0.0.1:5555"),
], rack="testrack", path="rack.toml")

CHILD = textwrap.dedent("""
    import sys, time
    from harness.lab.inventory import Inventory
    from harness.lab.leases import lease_any
    inv = Inventory.load(sys.argv[1])
    got = lease_any(inv, profile=sys.argv[2] or None, wait=True, timeout=float(sys.argv[3]), command="child")
    print("LEASED", got.name, flush=True)
    time.sleep(float(sys.argv[4]))
    got.release()
    print("RELEASED", got.name, flush=True)
""")


@pytest.fixture
def leases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "leases"
    monkeypatch.setenv("HARNESS_LEASE_DIR", str(directory))
    for var in ("HARNESS_RUN_ID", "PYTEST_XDIST_TESTRUNUID", "PYTEST_XDIST_WORKER"):  # messages without a run id
        monkeypatch.delenv(var, raising=False)
    return directory


@pytest.fixture
def rack_file(tmp_path: Path) -> Path:
    path = tmp_path / "rack.toml"
    RACK.dump(path)
    return path


def spawn(rack_file: Path, profile: str = "", timeout: float = 10, hold: float = 30, env_dir: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "HARNESS_LEASE_DIR": str(env_dir)} if env_dir else None
    return subprocess.Popen([sys.executable, "-c", CHILD, str(rack_file), profile, str(timeout), str(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_line(proc: subprocess.Popen[str], prefix: str, timeout: float = 20) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line.split()[1]
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError(f"no {prefix} line from the child")


def test_lease_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_LEASE_DIR", str(tmp_path / "x"))
    assert lease_dir() == tmp_path / "x" and (tmp_path / "x").is_dir()
    monkeypatch.delenv("HARNESS_LEASE_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert lease_dir() == tmp_path / "run" / "handset-harness" / "leases"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert lease_dir() == Path(f"/tmp/handset-harness-leases-{os.getuid()}")


def test_fail_fast_names_the_holder_and_release_frees(leases: Path) -> None:
    first = lease(RACK, "lumia-930-01", wait=False, run_id="run-a", command="pytest")
    assert first.held and holder_of(lease_key("lumia-930-01", RACK)).pid == os.getpid()
    with pytest.raises(LeaseBusy) as info:
        lease(RACK, "lumia-930-01", wait=False)
    assert info.value.holder is not None and info.value.holder.run_id == "run-a"
    assert str(info.value).startswith(f"lumia-930-01 is leased by pid {os.getpid()} (pytest, run run-a) since ")
    first.release()
    assert holder_of(lease_key("lumia-930-01", RACK)) is None
    with lease(RACK, "lumia-930-01", wait=False) as again:
        assert again.held
    assert not again.held


def test_wait_with_timeout_says_whom_it_waits_for(leases: Path) -> None:
    held = lease(RACK, "lumia-520-01", wait=False, command="pytest")
    notices: list[str] = []
    started = time.monotonic()
    with pytest.raises(LeaseTimeout) as info:
        lease(RACK, "lumia-520-01", wait=True, timeout=0.6, notice=notices.append)
    assert 0.55 <= time.monotonic() - started < 5
    assert isinstance(info.value, HarnessTimeout)
    assert "a lease on lumia-520-01" in str(info.value) and f"pid {os.getpid()} (pytest)" in str(info.value)
    assert len(notices) == 1
    assert notices[0].startswith(f"waiting for lumia-520-01, leased by pid {os.getpid()} (pytest) since ")
    held.release()


def test_two_processes_compete_for_one_handset(leases: Path, rack_file: Path) -> None:
    first = spawn(rack_file, "lumia-520", timeout=10, hold=3.0)
    second = None
    try:
        assert wait_line(first, "LEASED") == "lumia-520-01"
        second = spawn(rack_file, "lumia-520", timeout=15, hold=0)
        # the second waits, visibly, until the first lets go
        assert second.stderr is not None
        message = second.stderr.readline()
        assert message.startswith(f"waiting for a handset with profile lumia-520: all leased (lumia-520-01 by pid {first.pid} (child)")
        assert wait_line(first, "RELEASED") == "lumia-520-01"
        t_released = time.monotonic()
        assert wait_line(second, "LEASED") == "lumia-520-01"
        assert time.monotonic() - t_released < 10, "the waiting process took the released handset only after 10 s"
    finally:
        for p in (first, second):
            if p is not None:
                p.kill()
                p.wait()


def test_sigkilled_holder_frees_its_lease(leases: Path, rack_file: Path) -> None:
    child = spawn(rack_file, "lumia-520", hold=60)
    try:
        assert wait_line(child, "LEASED") == "lumia-520-01"
        with pytest.raises(LeaseBusy, match=f"pid {child.pid}"):
            lease(RACK, "lumia-520-01", wait=False)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        child.kill()
        child.wait()
    # the lock file (and the dead holder's note in it) is still there, and does not block
    path = lock_path(lease_key("lumia-520-01", RACK))
    assert path.exists() and str(child.pid) in path.read_text()
    assert holder_of(lease_key("lumia-520-01", RACK)) is None
    with lease(RACK, "lumia-520-01", wait=False) as got:
        assert Holder.from_json(path.read_text()).pid == os.getpid()
        assert got.held


def test_a_handset_that_fails_to_open_is_not_kept_leased(leases: Path, tmp_path: Path) -> None:
    """The rack handset's emulator is gone (its control socket refuses): opening it fails, and the next
    test or command may lease it at once instead of waiting behind a lease nobody uses."""
    import socket

    from harness.lab.leased_handset import open_inventory_handset

    token = tmp_path / "control.token"
    token.write_text("t" * 32)
    token.chmod(0o600)
    with socket.socket() as reserved:  # bound, not listening: connections to it are refused
        reserved.bind(("127.0.0.1", 0))
        control = "127.0.0.1:%d" % reserved.getsockname()[1]
        rack = Inventory(handsets=[HandsetEntry("lumia-520-01", "lumia-520", "adb-tcp://127.0.0.1:5555",
                                                control=control, control_token=str(token))], rack="r", path="r.toml")
        with pytest.raises(ConnectionError) as failure:
            open_inventory_handset(rack, "lumia-520", wait=False)
    # the error is still referenced (pytest keeps it for the report), so nothing may rely on garbage collection
    assert failure.value.__traceback__ is not None
    assert holder_of(lease_key(rack.handsets[0], rack)) is None
    lease_any(rack, "lumia-520", wait=False).release()


def test_lease_any_gives_each_taker_a_different_handset(leases: Path, rack_file: Path) -> None:
    children = [spawn(rack_file, "lumia-930", hold=30) for _ in range(2)]
    try:
        names = sorted(wait_line(c, "LEASED") for c in children)
        assert names == ["lumia-930-01", "lumia-930-02"]
        with pytest.raises(LeaseBusy, match="every handset with profile lumia-930 is leased"):
            lease_any(RACK, profile="lumia-930", wait=False)
        table = lease_table(RACK)
        assert table["lumia-520-01"] is None
        assert {table[n].pid for n in names} == {c.pid for c in children}
        other = lease_any(RACK, wait=False)       # any profile: the one left
        assert other.name == "lumia-520-01"
        other.release()
    finally:
        for c in children:
            c.kill()
            c.wait()


def test_lease_any_without_a_match_says_why(leases: Path) -> None:
    with pytest.raises(NoMatchingHandset, match=r"no handset in rack\.toml has profile lumia-1320 \(it has: "
                                                r"lumia-520 \(OS 8\.0\), lumia-930 \(OS 8\.1\)\)"):
        lease_any(RACK, profile="lumia-1320")
    with pytest.raises(NoMatchingHandset, match="has profile lumia-930 and OS 8.0"):
        lease_any(RACK, profile="lumia-930", os_version="8.0")
    got = lease_any(RACK, os_version="8.0", wait=False)
    assert got.name == "lumia-520-01"
    got.release()


def test_racks_with_different_names_do_not_share_leases(leases: Path) -> None:
    other = Inventory(handsets=list(RACK.handsets), rack="other", path="other.toml")
    a = lease(RACK, "lumia-930-01", wait=False)
    b = lease(other, "lumia-930-01", wait=False)
    assert a.path != b.path
    a.release()
    b.release()


def test_plain_key_acquire(leases: Path) -> None:
    with acquire("adb-tcp://127.0.0.1:5555", wait=False) as got:
        assert got.path.parent == leases and got.path.name == "adb-tcp___127.0.0.1_5555.lock"
        with pytest.raises(LeaseBusy, match="adb-tcp://127.0.0.1:5555 is leased by"):
            acquire("adb-tcp://127.0.0.1:5555", wait=False)


def test_unusable_lease_dir_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.lab.leases import LeaseError

    monkeypatch.setenv("HARNESS_LEASE_DIR", "/proc/self/no-such-dir/leases")
    with pytest.raises(LeaseError, match=r"cannot create the lease directory /proc/self/no-such-dir/leases: .*HARNESS_LEASE_DIR"):
        lease(RACK, "lumia-930-01", wait=False)


def test_run_id_comes_from_the_environment(leases: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.lab.leases import default_run_id

    assert default_run_id() is None
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "0123456789abcdef0123")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert default_run_id() == "0123456789ab/gw3"
    with lease(RACK, "lumia-930-01", wait=False) as held:
        assert held.holder.run_id == "0123456789ab/gw3"
        assert "run 0123456789ab/gw3" in holder_of(lease_key("lumia-930-01", RACK)).describe()
    monkeypatch.setenv("HARNESS_RUN_ID", "nightly-42")
    assert default_run_id() == "nightly-42"
