"""Fault matrix: artifact collisions, re-runs and interrupted runs.

Every run's evidence lands in a folder of its own that no later run touches,
and a client stopped mid-run says what it kept.
"""

from __future__ import annotations

import json
import signal
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from faultlab import FaultLab, files_under, start_process, wait_until
from PIL import Image

#: the password `harness demo` types (alice@outlook.com's in harness/emulator/demo_accounts.toml and the README)
DEMO_PASSWORD = "correct-horse-battery"



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
    kept = files_under(artifacts)

    _pytest(fault, project, artifacts)  # the same run again
    assert files_under(artifacts).items() >= kept.items(), "a re-run changed a file of the first run"
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
    before = files_under(artifacts)
    env = {"HARNESS_PASSWORD": "not-used"}
    procs = [fault.start("signin", "--handset", broken, "--account", "a@example.com", "--artifacts", str(artifacts),
                         env=env) for _ in range(3)]
    runs = [p.wait(60) for p in procs]
    assert all(r.rc not in (0, None) for r in runs), [r.describe() for r in runs]
    after = files_under(artifacts)
    assert {k: v for k, v in after.items() if k.endswith("steps.jsonl")} == before, "a run wrote into an earlier run's folder"
    new = [f for f in _run_folders(artifacts) if not (f / "steps.jsonl").exists()]
    assert sum(len(list(f.iterdir())) for f in new) == len(after) - len(before), "a run wrote into an earlier run's folder"
    assert len(new) == 3 and all(f.name.startswith("signin-") for f in new), [f.name for f in new]
    assert all("not-a-number" in (f / "emulator.log").read_text() for f in new)



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
