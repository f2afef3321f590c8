"""Handsets through labgrid places, against a real labgrid-coordinator and labgrid-exporter on loopback (no mock).

One bench for the module: a coordinator, an emulated handset whose ADB port an
exporter publishes (``NetworkService``), and a place made with ``labgrid-client``.
What a user sees is checked through the ``harness`` command line and
``labgrid-client``: the place is acquired for a command and released after it;
a second run waits, naming the holder, and then gets it; ``--no-wait`` fails at
once; a run killed with -9 is freed by the janitor within its limit; a run
whose coordinator restarts acquires its place again and says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("labgrid")

from lgplace_bench import Bench, wait_for  # noqa: E402

PLACE = "lumia-520-01"
#: the janitor's limit and the runs' heartbeat in these tests (production: 60 s and 10 s)
LIMIT, BEAT = 2.0, 0.4

HOLDER = textwrap.dedent('''
    import sys
    from harness.lab.labgrid.places import HeldPlace

    held = HeldPlace(sys.argv[1], sys.argv[2], command="lgtest holder", timeout=60)
    held.acquire()
    print("held", held.inventory.handsets[0].uri, flush=True)
    sys.stdin.read()          # until the test closes our stdin (or kills us)
    held.check()
    held.release()
    print("released", flush=True)
''')


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bench, dict[str, str]]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
    from faultlab import start_emulated_handset

    from harness.adb.auth import load_or_create_key

    folder = tmp_path_factory.mktemp("lgplaces")
    key = folder / "adbkey"
    load_or_create_key(key)
    env = {"HARNESS_ADB_KEY": str(key), "HARNESS_LG_HEARTBEAT": str(BEAT), "TMPDIR": str(folder)}
    bench = Bench(folder, env)
    handset = None
    try:
        bench.start_coordinator()
        handset = start_emulated_handset(["--profile", "lumia-520", "--animation-ms", "0", "--boot-time", "0.5",
                                          "--adb-key", str(key) + ".pub"], "lgplaces", env=env)
        host, port = handset.endpoints["adb"].rsplit(":", 1)
        bench.start_exporter("rack-a", {PLACE: {"adb": {"cls": "NetworkService", "address": host,
                                                        "port": int(port), "username": ""}}})
        bench.add_place(PLACE, [f"rack-a/{PLACE}/NetworkService/adb"], {"profile": "lumia-520", "os_version": "8.1"})
        yield bench, {**bench.env, "HARNESS_ADB_KEY": str(key)}
    finally:
        if handset is not None:
            handset.stop()
        bench.close()


def harness(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def start_holder(bench: Bench, env: dict[str, str], place: str = PLACE) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, bench.address, place], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    bench.others.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("held adb-tcp://127.0.0.1:"), f"holder: {line!r} {proc.stderr.read() if proc.poll() else ''}"
    return proc


def test_a_desk_command_through_a_place_waits_for_a_holder_and_releases_it(bench: tuple[Bench, dict[str, str]]) -> None:
    lab, env = bench
    place = ["--coordinator", lab.address, "--place", PLACE]

    run = harness(env, "shell", *place, "echo", "through-a-place")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "through-a-place"
    seen = lab.places()[PLACE]
    assert seen["acquired"] is None and "harness_holder" not in seen["tags"], seen  # released, untagged

    # LG_COORDINATOR / LG_PLACE as labgrid users set them
    run = harness({**env, "LG_COORDINATOR": lab.address, "LG_PLACE": PLACE}, "key", "back")
    assert run.returncode == 0, run.stderr

    holder = start_holder(lab, env)
    try:
        assert lab.places()[PLACE]["acquired"], "labgrid-client sees the place acquired by the holder"
        busy = harness(env, "tap", *place, "--no-wait", "1", "1")
        assert busy.returncode == 2
        lines = busy.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"harness tap: place {PLACE} is acquired by "), busy.stderr
        assert f"pid {holder.pid} (lgtest holder)" in lines[0], lines[0]

        waiting = subprocess.Popen([sys.executable, "-m", "harness", "shell", *place, "echo", "second"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert waiting.stderr is not None
        said = waiting.stderr.readline()
        assert said.startswith(f"waiting for place {PLACE}, acquired by ") and f"pid {holder.pid}" in said, said
        assert waiting.poll() is None
        holder.stdin.close()  # type: ignore[union-attr]  # the first run lets go
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, err
        assert out.strip() == "second"
        assert holder.wait(30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
    assert lab.places()[PLACE]["acquired"] is None


def test_a_place_whose_exporter_is_gone_is_refused_with_the_reason(bench: tuple[Bench, dict[str, str]]) -> None:
    lab, env = bench
    config = lab.exporters["rack-a"][1]
    lab.stop_exporter("rack-a")
    try:
        run = harness(env, "shell", "--coordinator", lab.address, "--place", PLACE, "echo", "no")
        assert run.returncode == 2
        line = run.stderr.strip().splitlines()[-1]
        assert line.startswith(f"harness shell: place {PLACE}: ") and "rack-a" in line, run.stderr
    finally:
        import json

        lab.start_exporter("rack-a", json.loads(config.read_text()))
    assert lab.places()[PLACE]["acquired"] is None  # refused, and released again


def test_the_janitor_frees_the_place_of_a_run_killed_with_minus_9(bench: tuple[Bench, dict[str, str]]) -> None:
    import threading

    from harness.lab.labgrid.janitor import run_janitor

    lab, env = bench
    stop, lines = threading.Event(), []
    janitor = threading.Thread(target=run_janitor, args=(lab.address, LIMIT, stop, lines.append, 0.1), daemon=True)
    janitor.start()
    times = []
    try:
        for _ in range(3):
            holder = start_holder(lab, env)
            pid = holder.pid
            os.killpg(pid, signal.SIGKILL)
            holder.wait(10)
            killed = time.monotonic()
            wait_for(lambda: any(f"freed place {PLACE} from " in line and f"pid {pid} " in line for line in lines),
                     LIMIT * 3 + 30, "the janitor to free the killed run's place", lambda: lines)
            times.append(time.monotonic() - killed)
        assert lab.places()[PLACE]["acquired"] is None
        # a live run keeps its place past several limits: its beat goes on while it waits
        holder = start_holder(lab, env)
        deadline = time.monotonic() + LIMIT * 3
        while time.monotonic() < deadline:
            time.sleep(0.2)
            assert not any(f"pid {holder.pid} " in line for line in lines), lines
        holder.stdin.close()  # type: ignore[union-attr]
        out = holder.stdout.read()  # type: ignore[union-attr]
        assert holder.wait(30) == 0 and "released" in out
    finally:
        stop.set()
        janitor.join(15)
    print(f"\nrelease time of a killed run's place (limit {LIMIT:g}s, beat {BEAT:g}s): "
          + ", ".join(f"{t:.2f}s" for t in times))
    assert all(t <= LIMIT + 10 for t in times), times
