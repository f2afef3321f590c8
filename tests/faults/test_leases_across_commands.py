"""Fault matrix: leases across pytest, the desk commands and sign-ins, and a lease folder shared by a lab group.

A handset that one run holds is refused (or waited for, naming the holder) by
every other command.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest
from faultlab import Canary, FaultLab, assert_one_line_error, start_process, wait_until

REPO = Path(__file__).resolve().parents[2]
#: the password `harness demo` types (alice@outlook.com's in harness/emulator/demo_accounts.toml and the README)
DEMO_PASSWORD = "correct-horse-battery"



# --------------------------------------------------------------------------- leases across pytest and the desk
HOLDER = textwrap.dedent('''
    import os, time
    from pathlib import Path

    def test_holds_the_handset(handset):
        Path(os.environ["H4_HOLDING"]).write_text(str(os.getpid()))
        release = Path(os.environ["H4_RELEASE"])
        deadline = time.monotonic() + 180
        while not release.exists():
            assert time.monotonic() < deadline, "the outer test never released the handset"
            time.sleep(0.05)
''')


@pytest.fixture
def one_handset_rack(fault: FaultLab, tmp_path: Path) -> dict:
    """One emulated handset written into an inventory as a rack handset, and a lease dir of this test's own."""
    from harness.adb.auth import load_or_create_key
    from harness.lab.inventory import write_emulated_inventory

    key = tmp_path / "adbkey"
    load_or_create_key(key)
    env = {"HARNESS_ADB_KEY": str(key), "HARNESS_LEASE_DIR": str(tmp_path / "leases"),
           "HARNESS_INVENTORY": str(tmp_path / "rack.toml")}
    handset = fault.emulate("--profile", "lumia-520", "--animation-ms", "0", "--boot-time", "0.5",
                            "--adb-key", str(key) + ".pub", env=env)
    write_emulated_inventory(tmp_path / "rack.toml", {"handsets": [{"profile": "lumia-520", **handset.endpoints}]},
                             rack="h4rack")
    return {"env": env, "name": "lumia-520-01", "inventory": tmp_path / "rack.toml",
            "uri": f"adb-tcp://{handset.endpoints['adb']}", "handset": handset}


def test_a_handset_pytest_holds_is_refused_or_waited_for_by_every_desk_command(fault: FaultLab, tmp_path: Path,
                                                                              one_handset_rack: dict,
                                                                              canary: Canary) -> None:
    env, name = one_handset_rack["env"], one_handset_rack["name"]
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_holder.py").write_text(HOLDER)
    (project / "pytest.ini").write_text("[pytest]\n")
    holding, release = tmp_path / "holding", tmp_path / "release"
    holder = start_process([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--inventory",
                            str(one_handset_rack["inventory"]), "--artifacts", str(tmp_path / "art"), "test_holder.py"],
                           fault.marker, cwd=project,
                           env={**env, "TMPDIR": str(fault.tmp), "H4_HOLDING": str(holding), "H4_RELEASE": str(release)})
    try:
        wait_until(holding.exists, 120, "the pytest run to hold the handset", holder.stdout_so_far)
        pytest_pid = holder.pid  # `python -m pytest` is the process that leased it

        shot = tmp_path / "shot.png"
        runs = []
        for args in (["tap", "10", "10"], ["screenshot", "-o", str(shot)], ["key", "back"], ["shell", "echo", "hi"],
                     ["match"], ["sms"], ["power", "state"],
                     ["signin", "--account", "alice@outlook.com"]):
            run = fault.run(args[0], "--device", name, "--no-wait", *args[1:], deadline=30,
                            env={**env, "HARNESS_PASSWORD": canary.password})
            runs.append(run)
            assert run.rc == 2, run.describe()
            assert_one_line_error(run.stderr, f"harness {args[0]}:", name, "leased by", f"pid {pytest_pid}", "(pytest")
            assert run.elapsed < 15, run.describe()
        assert not shot.exists(), "a refused screenshot was still taken"
        # the handset's URI is the handset: with the inventory at hand it is leased like its name
        run = fault.run("tap", "--handset", one_handset_rack["uri"], "--no-wait", "10", "10", deadline=30, env=env)
        assert run.rc == 2, run.describe()
        assert_one_line_error(run.stderr, "harness tap:", name, "leased by", f"pid {pytest_pid}", "(pytest")

        started = time.monotonic()
        run = fault.run("tap", "--device", name, "--lease-timeout", "1.5", "10", "10", deadline=30, env=env)
        assert run.rc == 2, run.describe()
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 2, run.describe()
        assert lines[0].startswith(f"waiting for {name}, leased by pid {pytest_pid} (pytest"), lines[0]
        assert "timed out after 1.5s" in lines[1] and f"pid {pytest_pid}" in lines[1], lines[1]
        assert 1.5 <= time.monotonic() - started < 20

        run = fault.run("tap", "--device", name, "--timeout", "2", "10", "10", deadline=30, env=env)  # bounds the wait
        assert run.rc == 2 and run.elapsed < 12, run.describe()
        waited = re.search(r"timed out after ([0-9.]+)s waiting for a lease on " + re.escape(name), run.stderr)
        assert waited and 0 < float(waited.group(1)) <= 2 and f"(up to {waited.group(1)}s)" in run.stderr, run.stderr

        # a desk command that waits gets the handset as soon as pytest lets it go
        waiter = fault.start("shell", "--device", name, "echo", "after-pytest", env=env)
        wait_until(lambda: "waiting for" in waiter.stderr_so_far(), 30, "the desk command to say whom it waits for",
                   waiter.stderr_so_far)
        release.write_text("go")
        run = waiter.wait(90)
        assert run.rc == 0 and run.stdout == "after-pytest\n", run.describe()
        assert f"leased by pid {pytest_pid} (pytest" in run.stderr and f"leased {name} after waiting" in run.stderr
        done = holder.wait(120)
        assert done.rc == 0 and "1 passed" in done.stdout, done.describe()
        assert fault.assert_no_canary(canary, tmp_path, runs=[*runs, done]) > 0
    finally:
        release.write_text("go")
        holder.wait(120)


def test_a_desk_command_holds_the_lease_against_pytest_and_another_signin(fault: FaultLab, tmp_path: Path,
                                                                           one_handset_rack: dict) -> None:
    """`harness signin --device` takes the lease: a second sign-in is told who has it, pytest waits for it."""
    env, name = {**one_handset_rack["env"], "HARNESS_PASSWORD": DEMO_PASSWORD}, one_handset_rack["name"]
    first = fault.start("signin", "--device", name, "--account", "alice@outlook.com", "--artifacts",
                        str(tmp_path / "art"), env=env)
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_holder.py").write_text(HOLDER)
    (project / "pytest.ini").write_text("[pytest]\n")
    holding, release = tmp_path / "holding", tmp_path / "release"
    release.write_text("at once")
    tests, frozen = None, False
    try:
        wait_until(lambda: "signing in" in first.stdout_so_far() or first.exited(), 60,
                   "the first sign-in to start", first.stderr_so_far)
        assert not first.exited(), first.wait(0).describe()
        # the handset freezes (SIGSTOP) under the sign-in until pytest has asked for it: with the phone's instant
        # pages the sign-in was over and its lease gone before pytest had started (a trial run at load 8). A phone that
        # stops answering for a few seconds is within the sign-in's deadlines.
        os.kill(one_handset_rack["handset"].pid, signal.SIGSTOP)
        frozen = True
        second = fault.run("signin", "--device", name, "--account", "alice@outlook.com", "--no-wait",
                           "--artifacts", str(tmp_path / "art2"), deadline=30, env=env)
        assert second.rc == 2, second.describe()
        assert_one_line_error(second.stderr, "harness signin:", name, f"leased by pid {first.pid}", "harness signin")
        assert not any((tmp_path / "art2").iterdir()), "a refused sign-in left a run folder behind"
        # pytest given the handset's URI and the inventory waits for the sign-in to let it go
        tests = start_process([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--inventory",
                               str(one_handset_rack["inventory"]), "--handset", one_handset_rack["uri"],
                               "--artifacts", str(tmp_path / "art3"), "test_holder.py"], fault.marker, cwd=project,
                              env={**env, "TMPDIR": str(fault.tmp), "H4_HOLDING": str(holding),
                                   "H4_RELEASE": str(release)})
        wait_until(lambda: f"leased by pid {first.pid} (harness signin" in tests.stderr_so_far() + tests.stdout_so_far()
                   or tests.exited(), 60, "pytest to say it waits for the sign-in", tests.stderr_so_far)
        assert not holding.exists(), "pytest drove the handset while a sign-in held it"
        os.kill(one_handset_rack["handset"].pid, signal.SIGCONT)
        frozen = False
        done = first.wait(120)
        assert done.rc == 0, done.describe()
        ran = tests.wait(120)
        assert ran.rc == 0 and "1 passed" in ran.stdout and holding.exists(), ran.describe()
        assert fault.assert_no_canary([DEMO_PASSWORD], tmp_path, runs=[done, second, ran]) > 0
    finally:
        if frozen:
            os.kill(one_handset_rack["handset"].pid, signal.SIGCONT)
        first.wait(120)
        if tests is not None:
            tests.wait(120)


def _can_switch_users() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


#: `harness ARGS` run with the umask most users have, which alone would make lock files read-only for the group.
UMASK_022_HARNESS = ("import os, runpy, sys; os.umask(0o022); sys.argv[0] = 'harness'; "
                     "runpy.run_module('harness', run_name='__main__', alter_sys=True)")

LEASE_AS = textwrap.dedent('''
    import os, sys, time
    os.umask(0o022)
    from pathlib import Path
    from harness.lab.inventory import Inventory
    from harness.lab.leases import lease
    got = lease(Inventory.load(sys.argv[1]), sys.argv[2], wait=True, timeout=30, command="lab-user-a")
    Path(sys.argv[3]).write_text("held")
    deadline = time.monotonic() + 120
    while not Path(sys.argv[4]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    got.release()
''')


@pytest.mark.skipif(not _can_switch_users(), reason="needs root and setpriv (util-linux) to act as two lab users")
def test_a_lease_folder_shared_by_a_lab_group_works_for_every_member(fault: FaultLab) -> None:
    """Two users of one group, each with umask 022, share a setgid lease folder: each sees and waits for the other."""
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="h4-shared-leases-"))  # pytest's tmp_path is private to root
    try:
        _shared_lease_folder(fault, shared)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _shared_lease_folder(fault: FaultLab, shared: Path) -> None:
    from harness.lab.inventory import HandsetEntry, Inventory

    lab_gid, user_a, user_b = 47000, 47001, 47002
    os.chmod(shared, 0o755)
    lab = shared / "lab"  # the lab's folder: setgid, group lab; the lease folder inside is made by the first user
    lab.mkdir()
    os.chown(lab, 0, lab_gid)
    os.chmod(lab, 0o2770)
    leases = lab / "leases"
    inventory = shared / "rack.toml"
    Inventory(handsets=[HandsetEntry("lumia-930-01", "lumia-930", "adb-tcp://127.0.0.1:9"),
                        HandsetEntry("lumia-930-02", "lumia-930", "adb-tcp://127.0.0.1:10")], rack="grp",
              path=str(inventory)).dump(inventory)
    signals = shared / "signals"
    signals.mkdir(mode=0o777)
    os.chmod(signals, 0o777)
    (shared / "lease_as.py").write_text(LEASE_AS)

    def as_user(uid: int, argv: list[str]) -> list[str]:
        return ["setpriv", f"--reuid={uid}", f"--regid={uid}", f"--groups={lab_gid}", "--", *argv]

    env = {"HARNESS_LEASE_DIR": str(leases), "HOME": str(signals), "PYTHONPATH": str(REPO)}
    held, release = signals / "held", signals / "release"
    a = start_process(as_user(user_a, [sys.executable, str(shared / "lease_as.py"), str(inventory), "lumia-930-01",
                                       str(held), str(release)]), fault.marker, env=env)
    try:
        wait_until(lambda: held.exists() or a.exited(), 60, "user A to lease the handset", a.stderr_so_far)
        assert held.exists(), a.wait(0).describe()
        folder = leases.stat()
        assert folder.st_gid == lab_gid and folder.st_mode & 0o2070 == 0o2070, f"lease folder mode {folder.st_mode:o}"
        lock = next(leases.glob("*.lock"))
        st = lock.stat()
        assert st.st_gid == lab_gid and st.st_mode & 0o060 == 0o060, f"lock file group {st.st_gid} mode {st.st_mode:o}"

        b = start_process(as_user(user_b, [sys.executable, "-c", UMASK_022_HARNESS, "tap", "--device", "lumia-930-01",
                                           "--inventory", str(inventory), "--no-wait", "1", "1"]), fault.marker, env=env)
        run = b.wait(30)
        assert run.rc == 2, run.describe()
        assert_one_line_error(run.stderr, "lumia-930-01", f"leased by pid {a.pid}", "lab-user-a")
        # user B leases a handset nobody has leased yet: B makes its lock file in the folder A made
        run = start_process(as_user(user_b, [sys.executable, "-c", UMASK_022_HARNESS, "tap", "--device", "lumia-930-02",
                                             "--inventory", str(inventory), "--no-wait", "1", "1"]),
                            fault.marker, env=env).wait(30)
        assert run.rc == 2 and "lock file" not in run.stderr and "127.0.0.1:10" in run.stderr, run.describe()
    finally:
        release.write_text("go")
        a.wait(60)
    b = start_process(as_user(user_b, [sys.executable, "-c", LEASE_AS.replace("lab-user-a", "lab-user-b"), str(inventory),
                                       "lumia-930-01", str(signals / "b-held"), str(release)]), fault.marker, env=env)
    run = b.wait(60)
    assert run.rc == 0 and (signals / "b-held").exists(), run.describe()


