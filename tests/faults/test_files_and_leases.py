"""Fault matrix: bad files (duplicates, path escapes), artifact collisions and re-runs, leases across pytest and desk.

Each case runs the harness from outside (``harness ...`` or a pytest run in a
subprocess) and checks what a lab would notice: a one-line error naming the
file and field, no file written outside its folder, every run's evidence in a
folder of its own that no later run touches, and a handset that pytest holds
refused (or waited for, naming the holder) by every desk command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faultlab import Canary, FaultLab, assert_one_line_error, start_process, wait_until

REPO = Path(__file__).resolve().parents[2]
#: the password `harness demo` types (alice@outlook.com's in harness/emulator/demo_accounts.toml and the README)
DEMO_PASSWORD = "correct-horse-battery"
LIBRARY = REPO / "fixtures" / "screens"


# --------------------------------------------------------------------------- bad files
@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A copy of the shipped screen library that a case may spoil."""
    folder = tmp_path / "screens"
    shutil.copytree(LIBRARY, folder)
    return folder


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    """A screenshot for `harness match` / `harness screens record`."""
    path = tmp_path / "frame.png"
    Image.new("RGB", (480, 800), (0, 0, 0)).save(path)
    return path


def _files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_definitions_with_one_name_are_refused_naming_both_files(fault: FaultLab, library: Path, frame: Path) -> None:
    original = library / "email_accounts.toml"
    copy = library / "zz_email_accounts_again.toml"
    copy.write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    run = fault.run("match", "--screens", str(library), str(frame), deadline=60)
    assert run.rc == 2, run.describe()
    line = assert_one_line_error(run.stderr, str(copy), "name", "duplicate", "email_accounts", str(original))
    assert line.startswith("harness match:")


def test_duplicate_target_names_are_refused_naming_the_field(fault: FaultLab, library: Path, frame: Path) -> None:
    path = library / "keep_your_life_in_sync.toml"
    text = path.read_text(encoding="utf-8")
    names = [line.split("=", 1)[1].strip().strip('"') for line in text.splitlines() if line.startswith("name = ")]
    targets = names[1:]  # the first `name =` is the screen's
    assert len(targets) >= 2, f"expected a definition with two targets; saw {targets}"
    path.write_text(text.replace(f'name = "{targets[1]}"', f'name = "{targets[0]}"', 1), encoding="utf-8")
    run = fault.run("match", "--screens", str(library), str(frame), deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, str(path), "target[1].name", "duplicate", targets[0])


@pytest.mark.parametrize("name", ["../../escape", "../escape", "ABSOLUTE/escape", "sub/escape", "..", ".hidden"])
def test_screens_record_never_writes_outside_the_library(fault: FaultLab, tmp_path: Path, frame: Path, name: str) -> None:
    library = tmp_path / "lab" / "screens" / "mine"
    library.mkdir(parents=True)
    name = name.replace("ABSOLUTE", str(tmp_path / "elsewhere"))
    before = _files_under(tmp_path)
    run = fault.run("screens", "record", name, "--from-image", str(frame), "--anchor", "10,10,40,40",
                    "--screens", str(library), deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, "name", repr(name), "not a valid name")
    assert _files_under(tmp_path) == before, "screens record wrote a file although it refused the name"


def test_a_crop_file_outside_the_library_is_refused(fault: FaultLab, library: Path, frame: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    shutil.copy(library / "about.anchor0.png", outside)
    path = library / "about.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('image = "about.anchor0.png"', 'image = "../outside.png"'),
                    encoding="utf-8")
    run = fault.run("match", "--screens", str(library), str(frame), deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, str(path), "anchor[0].image", "outside the library")


def test_a_recorded_screen_lands_in_the_library_and_loads(fault: FaultLab, tmp_path: Path, frame: Path) -> None:
    """The refusals above leave the ordinary case alone: a good name is written where it belongs."""
    library = tmp_path / "mine"
    run = fault.run("screens", "record", "my_screen", "--from-image", str(frame), "--anchor", "10,10,40,40",
                    "--target", "ok=60,60,30,30", "--screens", str(library), deadline=60)
    assert run.rc == 0, run.describe()
    assert sorted(p.name for p in library.iterdir()) == ["my_screen.anchor0.png", "my_screen.target-ok.png",
                                                          "my_screen.toml"]


def test_screens_record_never_makes_a_second_definition_of_a_name(fault: FaultLab, library: Path, frame: Path) -> None:
    """Recording a name the library has is refused (the shipped file kept byte for byte) unless --replace, and
    --replace never makes a second file of a name another file defines."""
    before = _files_under(library)
    record = ("screens", "record", "email_accounts", "--from-image", str(frame), "--anchor", "10,10,40,40",
              "--screens", str(library))
    run = fault.run(*record, deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, str(library / "email_accounts.toml"), "already in the library", "--replace")
    assert _files_under(library) == before

    (library / "email_accounts.toml").rename(library / "accounts_list.toml")  # the name now lives in another file
    before = _files_under(library)
    run = fault.run(*record, "--replace", deadline=60)
    assert run.rc == 2, run.describe()
    assert_one_line_error(run.stderr, "name", "already defined in", str(library / "accounts_list.toml"))
    assert _files_under(library) == before

    (library / "accounts_list.toml").rename(library / "email_accounts.toml")
    run = fault.run(*record, "--replace", deadline=60)
    assert run.rc == 0 and (library / "email_accounts.toml").read_bytes() != before["accounts_list.toml"], run.describe()


# --------------------------------------------------------------------------- artifact collisions and re-runs
CASES = 11
PARAMETRISED = textwrap.dedent('''
    import numpy as np
    import pytest

    # eleven ids that share their first 80 characters, as a profile/theme/accent/OS matrix does
    IDS = ["lumia-930-dark-cobalt-os-8.1-two-step-by-text-to-the-number-on-file-variant-%02d" % i for i in range(11)]


    @pytest.mark.parametrize("case", IDS)
    def test_sign_in_during_setup_with_two_step_verification_on_every_handset_of_the_matrix(artifacts, case):
        shade = IDS.index(case) * 20
        artifacts.record("step", case=case, n=1)
        artifacts.save_screenshot(np.full((16, 8, 3), shade, np.uint8), "start")
        artifacts.save_screenshot(np.full((16, 8, 3), shade + 1, np.uint8), "next")
        artifacts.record("step", case=case, n=2)
        artifacts.append_text("console.log", case + "\\n")
''')


def _pytest(fault: FaultLab, folder: Path, artifacts: Path) -> None:
    run = start_process([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                         "--artifacts", str(artifacts), "test_matrix.py"], fault.marker, cwd=folder,
                        env={"TMPDIR": str(fault.tmp)}).wait(120)
    assert run.rc == 0 and f"{CASES} passed" in run.stdout, run.describe()


def _run_folders(artifacts: Path) -> list[Path]:
    return sorted(p for p in artifacts.iterdir() if p.is_dir())


def _check_folder(folder: Path) -> str:
    """Each folder holds exactly one case's evidence; returns that case."""
    steps = [json.loads(line) for line in (folder / "steps.jsonl").read_text().splitlines()]
    cases = {s["case"] for s in steps}
    assert len(cases) == 1 and [s["n"] for s in steps] == [1, 2], f"{folder.name}: steps of several runs: {steps}"
    case = cases.pop()
    shade = int(case[-2:]) * 20
    shots = sorted(folder.glob("*.png"))
    assert [p.name for p in shots] == ["001-start.png", "002-next.png"], f"{folder.name}: {[p.name for p in shots]}"
    assert int(np.asarray(Image.open(shots[0]))[0, 0, 0]) == shade, f"{folder.name}: 001 is another case's screenshot"
    assert int(np.asarray(Image.open(shots[1]))[0, 0, 0]) == shade + 1
    assert (folder / "console.log").read_text() == case + "\n"
    return case


def test_parametrised_tests_with_long_ids_get_a_folder_each_and_a_rerun_touches_none(fault: FaultLab, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_matrix.py").write_text(PARAMETRISED)
    (project / "pytest.ini").write_text("[pytest]\n")  # one rootdir, so both runs name their tests alike
    artifacts = tmp_path / "artifacts"

    _pytest(fault, project, artifacts)
    first = _run_folders(artifacts)
    assert len(first) == CASES, [p.name for p in first]
    cases = sorted(_check_folder(f) for f in first)
    assert cases == [f"lumia-930-dark-cobalt-os-8.1-two-step-by-text-to-the-number-on-file-variant-{i:02d}"
                     for i in range(CASES)]
    for folder in first:  # readable: a folder says which case it holds
        assert f"variant-{_check_folder(folder)[-2:]}" in folder.name, folder.name
        assert len(folder.name) <= 120, folder.name
    kept = _files_under(artifacts)

    _pytest(fault, project, artifacts)  # the same run again
    assert _files_under(artifacts).items() >= kept.items(), "a re-run changed a file of the first run"
    second = [f for f in _run_folders(artifacts) if f not in first]
    assert len(second) == CASES, [p.name for p in second]
    assert sorted(_check_folder(f) for f in second) == cases


def test_cli_runs_never_reuse_an_earlier_runs_folder_even_in_the_same_second(fault: FaultLab, tmp_path: Path) -> None:
    """Sign-ins started together (one rack, several handsets) or just after an earlier run each get a new folder."""
    # an emulated handset that refuses its options: each run ends fast, its emulator.log kept in its folder
    broken = "emulator://lumia-520?boot_time=not-a-number"
    artifacts = tmp_path / "artifacts"
    now = time.time()
    for t in range(-2, 120):  # an earlier run's folder for every second these runs could start in
        old = artifacts / time.strftime("signin-%Y%m%d-%H%M%S", time.localtime(now + t))
        old.mkdir(parents=True)
        (old / "steps.jsonl").write_text('{"old": true}\n')
    before = _files_under(artifacts)
    env = {"HARNESS_PASSWORD": "not-used"}
    procs = [fault.start("signin", "--handset", broken, "--account", "a@example.com", "--artifacts", str(artifacts),
                         env=env) for _ in range(3)]
    runs = [p.wait(60) for p in procs]
    assert all(r.rc not in (0, None) for r in runs), [r.describe() for r in runs]
    after = _files_under(artifacts)
    assert {k: v for k, v in after.items() if k.endswith("steps.jsonl")} == before, "a run wrote into an earlier run's folder"
    new = [f for f in _run_folders(artifacts) if not (f / "steps.jsonl").exists()]
    assert sum(len(list(f.iterdir())) for f in new) == len(after) - len(before), "a run wrote into an earlier run's folder"
    assert len(new) == 3 and all(f.name.startswith("signin-") for f in new), [f.name for f in new]
    assert all("not-a-number" in (f / "emulator.log").read_text() for f in new)


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
            "uri": f"adb-tcp://{handset.endpoints['adb']}"}


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
    tests = None
    try:
        wait_until(lambda: "signing in" in first.stdout_so_far() or first.exited(), 60,
                   "the first sign-in to start", first.stderr_so_far)
        assert not first.exited(), first.wait(0).describe()
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
        done = first.wait(120)
        assert done.rc == 0, done.describe()
        ran = tests.wait(120)
        assert ran.rc == 0 and "1 passed" in ran.stdout and holding.exists(), ran.describe()
        assert fault.assert_no_canary([DEMO_PASSWORD], tmp_path, runs=[done, second, ran]) > 0
    finally:
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


# --------------------------------------------------------------------------- a client stopped mid-run keeps its evidence
@pytest.mark.parametrize("command, sig, how, rc", [
    ("demo", signal.SIGTERM, "SIGTERM", 143), ("demo", signal.SIGINT, "Ctrl-C", 130),
    ("signin", signal.SIGTERM, "SIGTERM", 143),
])
def test_an_interrupted_run_says_what_it_kept(fault: FaultLab, tmp_path: Path, command: str, sig: int, how: str,
                                               rc: int) -> None:
    artifacts = tmp_path / "art"
    args = ["--profile", "lumia-520"] if command == "demo" else ["--handset", "emulator://lumia-520", "--account",
                                                                  "alice@outlook.com"]
    proc = fault.start(command, *args, "--artifacts", str(artifacts), cwd=tmp_path,
                       env={"HARNESS_PASSWORD": DEMO_PASSWORD})
    wait_until(lambda: "[ 2]" in proc.stdout_so_far() or proc.exited(), 120, "the demo's second step",
               proc.stderr_so_far)
    assert not proc.exited(), proc.wait(0).describe()
    proc.proc.send_signal(sig)
    run = proc.wait(30)
    assert run.rc == rc and not run.timed_out, run.describe()
    last = run.stderr.strip().splitlines()[-1]
    assert "Traceback" not in run.stderr, run.describe()
    (folder,) = _run_folders(artifacts)
    shots = sorted(folder.glob("*.png"))
    assert len(shots) >= 2 and all(Image.open(p).size == (480, 800) for p in shots), [p.name for p in shots]
    assert last.startswith(f"harness {command}: interrupted by {how}; kept {folder} ({len(shots)} screenshots, "), last
    for name in ("steps.jsonl", "emulator.log"):
        assert name in last and (folder / name).stat().st_size > 0, last
    assert len((folder / "steps.jsonl").read_text().splitlines()) >= 2
    assert fault.assert_no_canary([DEMO_PASSWORD], tmp_path, runs=[run]) >= len(shots) + 2
    fault.assert_no_leftovers()
