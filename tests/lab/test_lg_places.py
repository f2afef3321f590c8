"""Handsets through labgrid places, against a real labgrid-coordinator and labgrid-exporter on loopback (no mock).

One bench for the module: a coordinator, four emulated handsets whose ADB ports
two exporters publish (``NetworkService``, a class other than the export's, so
the resource is found by its name), and a place for each made with ``labgrid-client``.
What a user sees is checked through the ``harness`` command line and
``labgrid-client``: the place is acquired for a command and released after it;
a second run waits, naming the holder, and then gets it; ``--no-wait`` fails at
once; a place whose exporter is gone is refused naming what it lacks; pytest
workers reserve places by tags across both exporters; a run whose coordinator
restarts acquires its place again and says so. (The janitor beside a real
export: tests/labgrid/test_lg_place_export.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("labgrid")

from lgplace_bench import Bench, wait_for  # noqa: E402

PLACE, OTHER = "lumia-520-01", "lumia-520-02"
#: every place and the exporter ("rack host") whose handset it matches: two handsets behind each of two exporters
RACKS = {"rack-a": [PLACE, "lumia-520-03"], "rack-b": [OTHER, "lumia-520-04"]}
ALL = sorted(p for places in RACKS.values() for p in places)
#: the runs' heartbeat in these tests (production: 10 s)
BEAT = 0.4

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
    handsets = []
    try:
        bench.start_coordinator()
        for rack, places in RACKS.items():  # two "rack hosts", two handsets behind each
            groups = {}
            for place in places:
                handset = start_emulated_handset(["--profile", "lumia-520", "--os-version", "8.1", "--animation-ms",
                                                  "0", "--boot-time", "0.5", "--adb-key", str(key) + ".pub"],
                                                 "lgplaces", env=env)
                handsets.append(handset)
                host, port = handset.endpoints["adb"].rsplit(":", 1)
                groups[place] = {"adb": {"cls": "NetworkService", "address": host, "port": int(port), "username": ""}}
            bench.start_exporter(rack, groups)
            for place in places:
                bench.add_place(place, [f"{rack}/{place}/NetworkService/adb"], {"profile": "lumia-520",
                                                                                "os_version": "8.1"})
        yield bench, {**bench.env, "HARNESS_ADB_KEY": str(key)}
    finally:
        for handset in handsets:
            handset.stop()
        bench.close()


def harness(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def start_holder(bench: Bench, env: dict[str, str], place: str = PLACE, stderr: Path | None = None) \
        -> subprocess.Popen[str]:
    err = open(stderr, "w") if stderr else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, bench.address, place], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    bench.others.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("held adb-tcp://127.0.0.1:"), f"holder: {line!r}"
    return proc


def test_a_desk_command_through_a_place_waits_for_a_holder_and_releases_it(bench: tuple[Bench, dict[str, str]]) -> None:
    lab, env = bench
    place = ["--coordinator", lab.address, "--place", PLACE]

    run = harness(env, "shell", *place, "echo", "through-a-place")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "through-a-place"
    seen = lab.places()[PLACE]
    assert seen["acquired"] is None and "harness_holder" not in seen["tags"], seen  # released, untagged

    unknown = harness(env, "tap", "--coordinator", lab.address, "--place", "nope", "1", "1")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"harness tap: labgrid coordinator {lab.address}: no place 'nope' (it has: " \
                                     f"{', '.join(ALL)})", unknown.stderr

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


INNER = textwrap.dedent('''
    import json, os, time
    from pathlib import Path

    import pytest


    @pytest.mark.profile("lumia-520")
    @pytest.mark.os_version("8.1")
    @pytest.mark.parametrize("n", [1, 2, 3, 4])
    def test_on_a_reserved_place(device, n):
        out = Path(os.environ["LGP_OUT"])
        said = device.handset.shell_result("echo on-a-place").stdout.decode().strip()
        (out / f"{n}.json").write_text(json.dumps({"worker": os.environ.get("PYTEST_XDIST_WORKER"),
                                                  "place": device.endpoints["place"], "uri": device.uri,
                                                  "said": said}))
        deadline = time.monotonic() + 180  # the four tests hold their places at once
        while len(list(out.glob("*.json"))) < 4:
            assert time.monotonic() < deadline, "another worker never got a place"
            time.sleep(0.05)


    @pytest.mark.profile("lumia-930")
    def test_on_a_profile_no_place_has(device):
        raise AssertionError("no place has lumia-930: this test must be skipped")
''')


def test_pytest_n_4_reserves_a_place_per_worker_by_tags_across_two_exporters(bench: tuple[Bench, dict[str, str]],
                                                                          tmp_path: Path) -> None:
    import json

    lab, env = bench
    (tmp_path / "test_inner.py").write_text(INNER)
    out = tmp_path / "out"
    out.mkdir()
    # xdist's load scheduling hands fewer than 2 tests per worker out round-robin: the four place tests go to
    # four different workers, which the inner tests' barrier needs
    run = subprocess.run([sys.executable, "-m", "pytest", "-n", "4", "--dist", "load", "-p", "no:cacheprovider", "-rs",
                          "--lg-coordinator", lab.address, "--artifacts", str(tmp_path / "art"), "test_inner.py"],
                         cwd=tmp_path, env={**env, "LGP_OUT": str(out)}, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "4 passed, 1 skipped" in run.stdout, run.stdout[-2000:]
    skipped = [ln for ln in run.stdout.splitlines() if ln.startswith("SKIPPED")]
    assert len(skipped) == 1 and "no place at " in skipped[0] and "has profile=lumia-930" in skipped[0], \
        run.stdout[-2000:]  # skipped with the reason
    got = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    # four workers at once, each on a place of its own, two behind each exporter, each its own handset
    assert sorted(g["place"] for g in got) == ALL, got
    assert len({g["worker"] for g in got}) == 4 and len({g["uri"] for g in got}) == 4, got
    assert all(g["said"] == "on-a-place" for g in got), got
    places = lab.places()
    assert all(places[p]["acquired"] is None for p in ALL), places  # given back
    assert lab.client("reservations", check=True).stdout.strip() == ""  # and the reservations cancelled


def test_a_run_whose_coordinator_restarts_acquires_its_place_again_and_says_so(bench: tuple[Bench, dict[str, str]],
                                                                               tmp_path: Path) -> None:
    lab, env = bench
    saved = lab.folder / "coordinator" / "places.yaml"  # the coordinator saves its places every 15 s
    wait_for(lambda: saved.exists() and PLACE in saved.read_text(), 60, "the coordinator to save its places")
    said = tmp_path / "holder.err"
    holder = start_holder(lab, env, stderr=said)
    try:
        port = int(lab.address.rsplit(":", 1)[1])
        lab.stop_coordinator()
        lab.start_coordinator(port)  # the same address: a restart, as systemd does it
        for rack in list(lab.exporters):
            lab.restart_exporter(rack)  # labgrid-exporter exits when its coordinator goes; systemd restarts it
        wait_for(lambda: f"came back; place {PLACE} acquired again" in said.read_text(), 90,
                 "the run to say it acquired its place again", said.read_text)
        seen = lab.places()[PLACE]
        assert seen["acquired"] and f"pid {holder.pid} (lgtest holder)" in seen["tags"].get("harness_holder", ""), seen

        # restarted before it saved its places (it writes places.yaml every 15 s): it comes back without them, the
        # run waits, and gets its place again once it is made again (with the calls harness lab export makes)
        lab.stop_coordinator()
        saved.unlink()
        lab.start_coordinator(port)
        for rack in list(lab.exporters):
            lab.restart_exporter(rack)
        wait_for(lambda: f"place {PLACE} is not at the coordinator {lab.address} now; waiting up to " in
                 said.read_text(), 90, "the run to say it waits for its place to be made again", said.read_text)
        from harness.lab.labgrid.export_config import PlaceSpec
        from harness.lab.labgrid.made_places import ensure_places

        made = ensure_places(lab.address, [PlaceSpec(place, [f"{rack}/{place}/NetworkService/adb"],
                                                     {"profile": "lumia-520", "os_version": "8.1"}, "")
                                           for rack, places in RACKS.items() for place in places])
        assert sorted(made.made) == ALL
        wait_for(lambda: said.read_text().count(f"came back; place {PLACE} acquired again") == 2, 90,
                 "the run to acquire its place made again", said.read_text)
        assert f"pid {holder.pid} (lgtest holder)" in lab.places()[PLACE]["tags"].get("harness_holder", "")
        holder.stdin.close()  # type: ignore[union-attr]
        assert holder.wait(60) == 0, said.read_text()  # check() found nothing lost; released
        assert lab.places()[PLACE]["acquired"] is None
    finally:
        if holder.poll() is None:
            holder.kill()


@pytest.mark.parametrize("args, line", [
    (["--place", "p1"], "harness tap: --place needs --coordinator HOST:PORT (or $LG_COORDINATOR)"),
    (["--place", "p1", "--coordinator", "127.0.0.1:5", "--handset", "adb-tcp://127.0.0.1:5555"],
     "harness tap: give one of --handset URI, --device NAME and --place NAME"),
    (["--place", "p1", "--coordinator", "REFUSED"],
     "harness tap: labgrid coordinator REFUSED: no answer while connecting (Could not connect to coordinator)"),
])
def test_a_place_wrongly_named_or_unreachable_is_one_line(args: list[str], line: str) -> None:
    import socket

    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LG_", "HARNESS_INVENTORY"))}
        run = harness(env, "tap", *[a.replace("REFUSED", address) for a in args], "1", "1", timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip() == line.replace("REFUSED", address), run.stderr


def test_a_holder_beats_on_each_place_it_holds_in_turn(bench: tuple[Bench, dict[str, str]]) -> None:
    # a pytest worker gives one place back and takes another: the second one must beat too (else the janitor
    # frees a live run's place)
    from harness.errors import HarnessError
    from harness.lab.labgrid.holder import BEAT_TAG, PlaceHolder
    from harness.lab.labgrid.session import CoordinatorSession

    lab, _ = bench

    async def beat_of(session: CoordinatorSession) -> str:
        return session.session.places[OTHER].tags.get(BEAT_TAG, "")

    # what the coordinator sends back about the place, on the holder's own session (one per coordinator and
    # process: a second one to the same address is refused with the reason)
    with CoordinatorSession(lab.address) as session:
        watcher = session
        with pytest.raises(HarnessError, match="has a session with it already"):
            CoordinatorSession(lab.address).start()
        holder = PlaceHolder(session, "lgtest turns", beat=0.3)
        try:
            holder.acquire(PLACE, wait=False)
            holder.release(PLACE)
            wait_for(lambda: watcher.run(beat_of(watcher), "reading") == "", 30, "the first place's beat to stop")
            holder.acquire(OTHER, wait=False)
            first = wait_for(lambda: watcher.run(beat_of(watcher), "reading"), 30, "a beat on the second place")
            wait_for(lambda: watcher.run(beat_of(watcher), "reading") not in ("", first), 30,
                     "the second place's beat to change", lambda: first)
            holder.check()
        finally:
            holder.release_all()
