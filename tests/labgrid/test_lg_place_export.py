"""Places of a real ``harness lab export`` used by the desk commands, and the janitor the export runs beside itself.

An emulated rack of one handset behind ``harness lab export`` (labgrid-exporter,
Debian's ser2net for its console, modem and relay) on a real coordinator. Through
``--coordinator``/``--place`` only: ADB (the ``adb`` resource), the modem over
RFC 2217 (``harness sms``) and the relay channel (``harness power state``) are
reached from the place's resources. A run killed with -9 while it holds the
place is freed by the export's janitor within its limit, which the export logs
naming the place and the killed holder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.adb.auth import load_or_create_key
from powered_handset import wait_refused

pytestmark = pytest.mark.slow
READY = 90.0
LIMIT = 2.0
#: carol@hotmail.com in harness/emulator/demo_accounts.toml (two-step on, codes by text to this number)
CAROL, CAROL_PASSWORD, CAROL_PHONE = "carol@hotmail.com", "tr0ub4dor&3", "+15550142"
HOLDER = textwrap.dedent('''
    import sys
    from harness.lab.labgrid.places import HeldPlace

    held = HeldPlace(sys.argv[1], sys.argv[2], command="lgtest holder", timeout=60)
    held.acquire()
    print("held", flush=True)
    sys.stdin.read()
''')


@pytest.fixture(scope="module")
def exported(lg_coordinator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("placeexport")
    load_or_create_key(tmp / "adbkey")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("LG_", "PYTEST_"))},
           "HARNESS_ADB_KEY": str(tmp / "adbkey"), "HARNESS_LEASE_DIR": str(tmp / "leases"),
           "HARNESS_LG_HEARTBEAT": "0.4"}
    inventory = tmp / "rack.toml"
    # its SIM holds carol's number on file (not the emulator's default, alice's): her codes reach this handset
    rack = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--rack", "1", "--rack-profiles", "lumia-520",
                             "--animation-ms", "0", "--boot-time", "0.3", "--signin-delay", "0.2",
                             "--modem-number", CAROL_PHONE, "--inventory-out", str(inventory)],
                            stdout=subprocess.PIPE, stderr=open(tmp / "rack.log", "w"), text=True, env=env)
    export = None
    try:
        assert rack.stdout is not None and rack.stdout.readline(), "the emulated rack did not start"
        export = subprocess.Popen([sys.executable, "-m", "harness", "lab", "export", "--inventory", str(inventory),
                                   "--coordinator", lg_coordinator.address, "--name", "rack-p",
                                   "--janitor-limit", str(LIMIT)],
                                  stdout=open(tmp / "export.out", "w"), stderr=subprocess.STDOUT, text=True, env=env)
        out = tmp / "export.out"
        end = time.monotonic() + READY
        while "ready:" not in out.read_text():
            assert export.poll() is None, f"the export ended: {out.read_text()}"
            assert time.monotonic() < end, f"the export was not ready within {READY:g}s: {out.read_text()}"
            time.sleep(0.1)
        from harness.lab.inventory import Inventory

        entry = Inventory.load(inventory).get("lumia-520-01")
        yield {"address": lg_coordinator.address, "env": env, "out": out, "place": "lumia-520-01",
               "rack_log": tmp / "rack.log",
               "adb": entry.uri.split("://", 1)[1], "control": {"control": entry.control,
                                                                "control_token": entry.control_token}}
    finally:
        if export is not None and export.poll() is None:
            export.terminate()
            export.wait(30)
        rack.terminate()
        rack.wait(30)


def harness(lab: dict[str, Any], *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command, *rest = args  # the place options before the command's own words (shell takes the rest as its command)
    return subprocess.run([sys.executable, "-m", "harness", command, "--coordinator", lab["address"], "--place",
                           lab["place"], *rest], env={**lab["env"], **(env or {})}, capture_output=True, text=True,
                          timeout=180)


def test_desk_commands_reach_adb_the_modem_and_the_relay_through_an_exported_place(exported: dict[str, Any],
                                                                                  lg_client: Any) -> None:
    shell = harness(exported, "shell", "getprop", "ro.serialno")
    assert shell.returncode == 0 and shell.stdout.strip(), shell.stderr
    sms = harness(exported, "sms")
    assert sms.returncode == 0, sms.stderr
    assert sms.stdout.strip() == "no messages" or sms.stdout.strip(), sms.stdout
    off = harness(exported, "power", "off")  # the relay channel through ser2net
    assert off.returncode == 0, off.stderr
    # the handset goes off with its channel: its ADB port stops answering
    wait_refused(exported["adb"], 60, lambda: _power_story(exported))
    on = harness(exported, "power", "on", "--wait", "60")
    assert on.returncode == 0 and "answers after" in on.stderr, f"{on.stderr[-600:]}\n{_power_story(exported)}"
    who = lg_client("who")
    assert who.returncode == 0 and exported["place"] not in who.stdout, who.stdout  # each released after its command


def _power_story(exported: dict[str, Any]) -> str:
    """What the emulated rack says of its power (a failure's message): the frames its relay board took and what it
    switched (the rack's log), and the handset's own power and boot lines and state. The handset stayed off 60 s after
    ``power on`` in three CI runs on 2026-11-27 (00:22, 05:59, 19:11): ser2net's flush had thrown the frame away
    (``harness.power.lcus.HAND_OVER``)."""
    from harness.emulator.control import ControlClient

    relay = [line for line in exported["rack_log"].read_text(errors="replace").splitlines() if " relay: " in line]
    try:
        with ControlClient.for_endpoints(exported["control"], timeout=10) as control:
            lines = control.call("log", n=400)["lines"]
            state = control.call("state")["state"]
    except Exception as exc:  # noqa: BLE001 - a message for a failure already on its way: never a second failure
        return f"relay board: {relay[-12:]}\n(the handset's control socket said nothing: {type(exc).__name__}: {exc})"
    power = [line for line in lines if "power" in line or "boot: complete" in line]
    return (f"relay board: {relay[-12:]}\nhandset: {power[-12:]}; "
            f"powered {state.get('powered')}, booted {state.get('booted')}")


def test_sigterm_releases_a_commands_place(exported: dict[str, Any], lg_client: Any) -> None:
    cycle = subprocess.Popen([sys.executable, "-m", "harness", "power", "cycle", "--coordinator", exported["address"],
                              "--place", exported["place"], "--off-seconds", "60", "--timeout", "120"],
                             env=exported["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert cycle.stderr is not None
        seen = cycle.stderr.read(len("\rpower off, on again in"))  # the place is held: it counts down
        assert seen.strip() == "power off, on again in", seen
        cycle.terminate()
        _, err = cycle.communicate(timeout=60)
        assert cycle.returncode == 143, err
    finally:
        if cycle.poll() is None:
            cycle.kill()
    who = lg_client("who")
    assert who.returncode == 0 and exported["place"] not in who.stdout, who.stdout  # released on the way out
    on = harness(exported, "power", "on", "--wait", "60")
    assert on.returncode == 0, f"{on.stderr[-600:]}\n{_power_story(exported)}"


def test_the_live_view_of_a_place_holds_it_while_it_runs(exported: dict[str, Any], lg_client: Any, browser: Any) -> None:
    """``harness view --coordinator --place``: the place's handset in the browser, the place held until SIGTERM."""
    import urllib.request

    view = subprocess.Popen([sys.executable, "-m", "harness", "view", "--coordinator", exported["address"], "--place",
                             exported["place"]], env=exported["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert view.stdout is not None
        said: list[str] = []   # the URL, printed once the place is held and its handset open
        reader = threading.Thread(target=lambda: said.append(view.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(READY)
        url = said[0].strip() if said else ""
        assert url.startswith("http://127.0.0.1:") and "?token=" in url, (url, view.poll())
        base, _, token = url.partition("/?token=")
        with urllib.request.urlopen(f"{base}/snapshot.png?token={token}", timeout=60) as r:
            assert r.status == 200 and r.read(8) == b"\x89PNG\r\n\x1a\n"
        browser.get(url)
        until = time.monotonic() + 60
        while not browser.execute_script("return window.viewStats ? window.viewStats.frames : 0;"):
            assert time.monotonic() < until, "no frame in the place's page within 60s"
            time.sleep(0.1)
        busy = harness(exported, "tap", "--no-wait", "1", "1")   # the view holds the place: nobody else drives it
        assert busy.returncode == 2 and f"pid {view.pid} " in busy.stderr, busy.stderr
        view.terminate()
        view.communicate(timeout=60)
        assert view.returncode in (0, 143, -signal.SIGTERM), view.returncode
    finally:
        if view.poll() is None:
            view.kill()
            view.wait(30)
    who = lg_client("who")
    assert who.returncode == 0 and exported["place"] not in who.stdout, who.stdout  # given back on SIGTERM ...
    freed = [line for line in exported["out"].read_text().splitlines() if f"pid {view.pid} " in line]
    assert not freed, f"the export's janitor had to free the view's place: {freed}"   # ... by the view itself


def test_the_exports_janitor_frees_a_killed_runs_place_and_never_a_live_ones(exported: dict[str, Any],
                                                                           tmp_path: Path) -> None:
    # the janitor of another rack host, quicker than ours: it must leave rack-p's place to rack-p's janitor (two
    # janitors freeing one place could free it twice, the second time from the next run of the same user)
    other_said = tmp_path / "other-janitor.err"
    other = subprocess.Popen([sys.executable, "-m", "harness", "lab", "janitor", "--coordinator", exported["address"],
                              "--limit", str(LIMIT / 2), "--exporter", "rack-q"], env=exported["env"],
                             stdout=subprocess.DEVNULL, stderr=open(other_said, "w"), start_new_session=True)
    try:
        until = time.monotonic() + 60
        while "janitor: watching the places of exporter rack-q at " not in other_said.read_text():
            assert other.poll() is None and time.monotonic() < until, other_said.read_text()
            time.sleep(0.1)
        _the_exports_janitor_frees_a_killed_runs_place(exported)
    finally:
        other.terminate()
        other.wait(30)
    assert exported["place"] not in other_said.read_text(), other_said.read_text()


def _the_exports_janitor_frees_a_killed_runs_place(exported: dict[str, Any]) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, exported["address"], exported["place"]],
                              env=exported["env"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().startswith("held")
        busy = harness(exported, "tap", "--no-wait", "1", "1")
        assert busy.returncode == 2 and f"pid {holder.pid} (lgtest holder)" in busy.stderr, busy.stderr
        # alive (it beats on its own thread while its main thread sits in a read), it keeps the place over
        # several of the janitor's limits
        until = time.monotonic() + 3 * LIMIT
        while time.monotonic() < until:
            assert f"pid {holder.pid} " not in exported["out"].read_text(), exported["out"].read_text()[-2000:]
            time.sleep(0.2)
        assert harness(exported, "tap", "--no-wait", "1", "1").returncode == 2  # still held
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(10)
    killed = time.monotonic()
    freed = f"janitor: freed place {exported['place']} from "
    while not any(freed in line and f"pid {holder.pid} " in line for line in exported["out"].read_text().splitlines()):
        assert time.monotonic() - killed < LIMIT * 3 + 30, exported["out"].read_text()[-3000:]
        time.sleep(0.1)
    took = time.monotonic() - killed
    assert harness(exported, "key", "back").returncode == 0  # the place is free again
    print(f"\nthe export's janitor freed a killed run's place {took:.2f}s after the kill (limit {LIMIT:g}s)")


def test_match_and_signin_through_an_exported_place(exported: dict[str, Any], lg_client: Any, tmp_path: Path) -> None:
    """``harness match`` and ``harness signin`` reach the handset, its modem and its number only through the place."""
    from harness.emulator.control import ControlClient

    def shown() -> dict[str, Any]:  # what the emulated handset itself says it shows (its control socket)
        with ControlClient.for_endpoints(exported["control"], timeout=10) as control:
            return control.call("state")["state"]

    until = time.monotonic() + 60  # booted after the power cycles of the tests above
    while not shown()["booted"]:
        assert time.monotonic() < until, "the handset did not boot within 60s"
        time.sleep(0.1)
    before = shown()
    assert before["ms_account"] in (None, ""), before
    match = harness(exported, "match")
    assert match.returncode == 0, match.stderr
    assert match.stdout.startswith(f"{exported['place']}: {before['screen']} (score "), (match.stdout, before["screen"])

    # carol's access code goes by text to her number on file; the place's modem resource (ser2net) and its
    # modem_number tag are the only way the run knows that modem
    art = tmp_path / "art"
    run = harness(exported, "signin", "--account", CAROL, "--phone-on-file", CAROL_PHONE, "--code", "text",
                  "--artifacts", str(art), "--timeout", "60", env={"HARNESS_PASSWORD": CAROL_PASSWORD})
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-1500:]
    after = shown()
    assert after["ms_account"] == CAROL, after
    modem_logs = list(art.rglob("modem.log"))
    assert modem_logs and any("+CMGL" in p.read_text(errors="replace") or "+CMGR" in p.read_text(errors="replace")
                              or "+CMT" in p.read_text(errors="replace") for p in modem_logs), modem_logs
    for text in (run.stdout, run.stderr, *(p.read_text(errors="replace") for p in art.rglob("*.log"))):
        assert CAROL_PASSWORD not in text

    match = harness(exported, "match")
    assert match.returncode == 0, match.stderr
    assert match.stdout.startswith(f"{exported['place']}: {shown()['screen']} (score "), match.stdout
    who = lg_client("who")
    assert who.returncode == 0 and exported["place"] not in who.stdout, who.stdout  # released after each command


def test_a_coordinator_that_forgot_the_places_gets_them_again_from_the_export(exported: dict[str, Any],
                                                                              lg_coordinator: Any, lg_client: Any,
                                                                              tmp_path: Path) -> None:
    """labgrid's coordinator saves its places every 15 s: restarted before that, it comes back without them. The
    export makes them again when its exporter is back, and a run that held one acquires it again."""
    said = tmp_path / "holder.err"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER + "held.check()\nheld.release()\nprint('released')\n",
                               exported["address"], exported["place"]], env=exported["env"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=open(said, "w"), text=True, start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().startswith("held"), said.read_text()
        lg_coordinator.restart(keep_places=False)  # as if it went down before saving this place
        again = f"harness lab export: made place {exported['place']} again: the coordinator at "
        until = time.monotonic() + 90
        while not any(line.startswith(again) for line in exported["out"].read_text().splitlines()):
            assert time.monotonic() < until, exported["out"].read_text()[-3000:]
            time.sleep(0.1)
        until = time.monotonic() + 90
        while f"came back; place {exported['place']} acquired again" not in said.read_text():
            assert holder.poll() is None and time.monotonic() < until, said.read_text()
            time.sleep(0.1)
        show = lg_client("-p", exported["place"], "show")
        assert show.returncode == 0 and "profile=lumia-520" in show.stdout and "modem_number=" + CAROL_PHONE \
            in show.stdout, show.stdout + show.stderr  # made again with its tags
        assert f"pid {holder.pid} (lgtest holder)" in show.stdout, show.stdout  # and held by the run again
        holder.stdin.close()  # type: ignore[union-attr]
        assert holder.wait(60) == 0, said.read_text()  # nothing lost; released
        assert holder.stdout.read().strip() == "released"
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(10)
