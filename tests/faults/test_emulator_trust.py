"""Fault matrix: the emulator's trust boundary and lifetime, tried from outside as another user and a killed parent would.

* the control socket refuses requests without its token or with another, also
  from an unprivileged user who cannot read the token file (0600 in a 0700 folder);
* an over-long request line ends in an error while the emulator's memory stays
  under a stated cap;
* a hand-started emulator trusts its user's keys (Debian ``adb`` and the
  harness) and refuses a stranger's, and ``harness devices`` says which;
* an emulator started by ``harness signin``, ``harness demo`` or pytest dies with
  them, whichever signal ends them, and leaves no temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from faultlab import (assert_no_leftover_processes, emulator_logs, leftover_processes, process_state, start_process,
                      wait_until)

from harness.adb.auth import load_or_create_key
from harness.emulator.control import ControlClient, ControlRefused
from harness.emulator.lifeline import STOP_DEADLINE

QUICK = ("--animation-ms", "0", "--boot-time", "0.3", "--signin-delay", "0.1")
#: How much the emulator may grow while a client floods one request line (the socket reads at most 64 KiB of it).
FLOOD_RSS_CAP_MIB = 16
FLOOD_MIB = 128


def _raw_call(address: str, request: dict, timeout: float = 10.0) -> tuple[dict, bool]:
    """Send one JSON line without the client library; the reply and whether the server closed the connection after it."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"expected a reply line; the socket closed after {data!r}"
            data += chunk
        reply, _, rest = data.partition(b"\n")
        closed = rest == b"" and sock.recv(1) == b""
        return json.loads(reply), closed


def _open_tmp(tmp_path: Path) -> Path:
    """A TMPDIR every user may enter, so only the emulator's own folder and file modes guard the token."""
    folder = Path("/tmp") / f"harness-fault-{os.getpid()}-{tmp_path.name}"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    return folder


# ------------------------------------------------------------------ control socket: token and line length
def test_control_requests_without_or_with_a_wrong_token_are_refused_and_do_nothing(fault, tmp_path: Path) -> None:
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    control, token_file = handset.endpoints["control"], Path(handset.endpoints["control_token"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600, oct(token_file.stat().st_mode)
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700, oct(token_file.parent.stat().st_mode)
    assert re.fullmatch(r"[0-9a-f]{64}\n", token_file.read_text())

    forged = {"cmd": "sms_send", "to": "+15550100", "sender": "69525", "body": "Use 1234567 as your code"}
    for token in (None, "0" * 64, token_file.read_text().strip()[:-1] + "x"):
        request = forged if token is None else {**forged, "token": token}
        reply, closed = _raw_call(control, request)
        assert reply["ok"] is False and closed, reply
        assert "refused" in reply["error"] and "token" in reply["error"] and str(token_file) in reply["error"], reply
    reply, _ = _raw_call(control, {"cmd": "add_account", "address": "mallory@outlook.com", "password": "x"})
    assert reply["ok"] is False and "refused" in reply["error"]

    with ControlClient.for_endpoints(handset.endpoints) as client:  # the token holder sees nothing happened
        assert client.call("outbox")["messages"] == []
        assert "mallory@outlook.com" not in [a["address"] for a in client.call("accounts")["accounts"]]
        usage = client.call("help")["commands"]
        assert usage["sms_send"].startswith("to body [sender=+15550199]") and usage["adb_trust_key"].startswith("key")
        assert usage["modem_slow"] == "seconds" and usage["goto"] == "screen" and usage["ping"] == ""


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed: scripts/setup or apt-get install util-linux")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as the unprivileged user nobody")
def test_an_unprivileged_user_cannot_read_the_token_and_is_refused(fault, tmp_path: Path) -> None:
    open_tmp = _open_tmp(tmp_path)
    try:
        handset = fault.emulate("--profile", "lumia-520", *QUICK, env={"TMPDIR": str(open_tmp)})
        stranger = tmp_path / "stranger"
        stranger.mkdir()
        load_or_create_key(stranger / "adbkey")
        script = (
            "import json, socket, sys\n"
            "token_file, address, key = sys.argv[1:4]\n"
            "try:\n    open(token_file).read(); print('read the token')\n"
            "except OSError as exc:\n    print('token:', type(exc).__name__)\n"
            "host, port = address.rsplit(':', 1)\n"
            "for req in ({'cmd': 'outbox'}, {'cmd': 'sms_send', 'to': '+15550100', 'body': 'forged'},\n"
            "            {'cmd': 'add_account', 'address': 'mallory@outlook.com', 'password': 'x'},\n"
            "            {'cmd': 'adb_trust_key', 'key': key}):\n"
            "    s = socket.create_connection((host, int(port)), timeout=10)\n"
            "    s.sendall(json.dumps(req).encode() + b'\\n')\n"
            "    print(s.makefile('rb').readline().decode().strip())\n"
        )
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                              script, handset.endpoints["control_token"], handset.endpoints["control"],
                              (stranger / "adbkey.pub").read_text().strip()],
                             capture_output=True, text=True, timeout=60, cwd="/")
        lines = out.stdout.splitlines()
        assert out.returncode == 0 and lines[0] == "token: PermissionError", (out.stdout, out.stderr)
        replies = [json.loads(line) for line in lines[1:]]
        assert len(replies) == 4 and all(r["ok"] is False and "refused" in r["error"] for r in replies), replies

        with ControlClient.for_endpoints(handset.endpoints) as client:
            assert client.call("outbox")["messages"] == []
            assert "mallory@outlook.com" not in [a["address"] for a in client.call("accounts")["accounts"]]
        from harness.adb import Unauthorised
        from harness.handsets import connect_handset

        with pytest.MonkeyPatch.context() as env:  # the key nobody tried to get trusted is still refused
            env.setenv("HARNESS_ADB_KEY", str(stranger / "adbkey"))
            with pytest.raises(Unauthorised, match="refused our key"):
                connect_handset(f"adb-tcp://{handset.endpoints['adb']}", timeout=10)
        handset.stop()
        assert not list(open_tmp.iterdir()), list(open_tmp.iterdir())
    finally:
        shutil.rmtree(open_tmp, ignore_errors=True)


def _vm(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_an_over_long_control_line_ends_in_an_error_and_memory_stays_flat(fault) -> None:
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    with ControlClient.for_endpoints(handset.endpoints) as client:
        client.call("state")  # everything a request touches is in memory before the baseline
    peak_before = _vm(handset.pid, "VmHWM")
    host, port = handset.endpoints["control"].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    sent = [0]

    def flood() -> None:
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(FLOOD_MIB):
                sock.sendall(chunk)
                sent[0] += len(chunk)
            sock.sendall(b"\n")
        except OSError:
            pass  # the emulator closed the connection: what a bounded reader does

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    reader = sock.makefile("rb")
    reply = json.loads(reader.readline(1 << 20))
    assert reply == {"ok": False, "error": "control socket: request line longer than 65536 bytes; closing the connection"}
    assert reader.readline(1) == b"", "expected the connection closed after the error"
    sender.join(30)
    sock.close()
    grown = _vm(handset.pid, "VmHWM") - peak_before
    assert grown < FLOOD_RSS_CAP_MIB, f"emulator peak RSS grew {grown:.1f} MiB while {sent[0] >> 20} MiB were sent"
    with ControlClient.for_endpoints(handset.endpoints) as client:  # and it still serves
        assert client.call("ping")["serial"] == handset.endpoints["serial"]


def test_idle_strangers_cannot_hold_the_control_socket(fault) -> None:
    """64 connections at most; one that sends no complete request within 10 s is told so and closed."""
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    host, port = handset.endpoints["control"].rsplit(":", 1)
    idle = [socket.create_connection((host, int(port)), timeout=30) for _ in range(64)]
    try:
        idle[0].sendall(b'{"cmd": "outbox"')  # a line that never ends
        extra = socket.create_connection((host, int(port)), timeout=30)
        with extra, extra.makefile("rb") as reader:
            reply = json.loads(reader.readline(65536))
        assert reply == {"ok": False, "error": "control socket: 64 connections are open already; try again later"}
        started = time.monotonic()
        for conn in (idle[0], idle[-1]):
            with conn.makefile("rb") as reader:
                reply = json.loads(reader.readline(65536))
                assert reply == {"ok": False, "error": "control socket: no complete request within 10s; closing the "
                                                       "connection"} and reader.readline(1) == b""
        assert time.monotonic() - started < 10 + 5
    finally:
        for conn in idle:
            conn.close()

    def ping() -> str | None:
        try:
            with ControlClient.for_endpoints(handset.endpoints) as client:
                return client.call("ping")["serial"]
        except ControlRefused:  # a slot is freed once its handler has seen our close
            return None

    assert wait_until(ping, 5, "the token holder served again once the strangers left") == handset.endpoints["serial"]


# ------------------------------------------------------------------ ADB: the emulator trusts its own user
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(shutil.which("adb") is None, reason="Debian's adb is not installed (apt-get install adb)")
def test_debian_adb_with_the_users_key_works_and_a_strangers_key_is_refused(fault, tmp_path: Path) -> None:
    homes = {who: tmp_path / who for who in ("owner", "stranger")}
    servers = {}
    for who, home in homes.items():
        (home / ".android").mkdir(parents=True)
        servers[who] = {"HOME": str(home), "ANDROID_ADB_SERVER_PORT": str(_free_port()), "HARNESS_ADB_KEY": ""}

    def adb(who: str, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, **servers[who]}
        env.pop("ADB_VENDOR_KEYS", None)
        return subprocess.run(["adb", *args], env=env, capture_output=True, text=True, timeout=60)

    try:
        for who in homes:
            assert adb(who, "start-server").returncode == 0  # makes ~/.android/adbkey{,.pub} for that user
        # started by hand by the owner, with no --adb-key
        handset = fault.emulate("--profile", "lumia-520", *QUICK, env=servers["owner"])
        serial = handset.endpoints["adb"]
        assert "connected to" in adb("owner", "connect", serial).stdout
        assert adb("owner", "-s", serial, "shell", "echo", "owner", "gets", "in").stdout == "owner gets in\n"
        # the harness of the same user uses the same ~/.android/adbkey
        run = fault.run("shell", "--handset", f"adb-tcp://{serial}", "echo", "harness too", deadline=60,
                        env=servers["owner"])
        assert run.rc == 0 and run.stdout == "harness too\n", run.describe()

        out = adb("stranger", "connect", serial)
        assert "failed to authenticate" in out.stdout + out.stderr, (out.stdout, out.stderr)
        out = adb("stranger", "-s", serial, "shell", "echo", "stranger")
        assert out.returncode != 0 and "stranger" not in out.stdout
        run = fault.run("shell", "--handset", f"adb-tcp://{serial}", "echo", "no", deadline=60, env=servers["stranger"])
        assert run.rc != 0 and run.stdout == "" and "refused our key" in run.stderr, run.describe()
    finally:
        for who in homes:
            adb(who, "kill-server")


def test_a_hand_started_rack_trusts_its_user_and_devices_says_when_our_key_is_refused(fault, tmp_path: Path) -> None:
    owner, stranger = tmp_path / "owner.key", tmp_path / "stranger.key"
    load_or_create_key(owner)
    load_or_create_key(stranger)
    inventory = tmp_path / "rack.toml"
    env = {"HARNESS_ADB_KEY": str(owner), "HARNESS_LEASE_DIR": str(tmp_path / "leases")}
    fault.emulate("--rack", "1", "--rack-profiles", "lumia-520", *QUICK, "--inventory-out", str(inventory), env=env)
    listing = fault.run("devices", "--inventory", str(inventory), "--timeout", "10", deadline=60, env=env)
    assert listing.rc == 0 and "lumia-520-01" in listing.stdout, listing.describe()
    line = next(x for x in listing.stdout.splitlines() if "lumia-520-01" in x)
    assert "answers: yes" in line and "trusts our key" in line, line
    run = fault.run("shell", "--device", "lumia-520-01", "--inventory", str(inventory), "echo", "rack", deadline=60, env=env)
    assert run.rc == 0 and run.stdout == "rack\n", run.describe()

    env_stranger = {**env, "HARNESS_ADB_KEY": str(stranger)}
    listing = fault.run("devices", "--inventory", str(inventory), "--timeout", "10", deadline=60, env=env_stranger)
    line = next(x for x in listing.stdout.splitlines() if "lumia-520-01" in x)
    assert "answers: NO" in line and "refuses our key" in line and str(stranger) in line, line

    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")
    listing = fault.run("devices", "--inventory", str(inventory), "--timeout", "10", deadline=60,
                        env={**env, "HARNESS_ADB_KEY": str(garbage)})
    assert listing.rc == 0 and "Traceback" not in listing.stderr, listing.describe()
    line = next(x for x in listing.stdout.splitlines() if "lumia-520-01" in x)
    assert "answers: NO" in line and "our key cannot be used" in line and str(garbage) in line, line


# ------------------------------------------------------------------ the emulator dies with its parent
def _flow_argv(kind: str, artifacts: Path) -> list[str]:
    if kind == "signin":
        return ["signin", "--handset", "emulator://lumia-520?animation_ms=0&boot_time=0.3", "--account",
                "alice@outlook.com", "--artifacts", str(artifacts), "--timeout", "60"]
    if kind == "demo":
        return ["demo", "--profile", "lumia-520", "--artifacts", str(artifacts)]
    inner = artifacts.parent / "test_inner.py"
    inner.write_text("import pathlib, time\n\n\ndef test_holds_a_handset(handset):\n"
                     f"    pathlib.Path({str(artifacts.parent / 'holding')!r}).write_text(handset.info.serial)\n"
                     "    time.sleep(300)\n")
    workers = ["-n", "1"] if kind == "pytest-xdist" else []
    # pytest's own --basetemp is kept on purpose; it lives outside the TMPDIR whose emptiness the test checks
    return ["-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", *workers, str(inner), "--artifacts", str(artifacts),
            "--basetemp", str(artifacts.parent / "basetemp")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
@pytest.mark.parametrize("kind", ["signin", "demo", "pytest", "pytest-xdist"])
def test_a_killed_parent_leaves_no_emulator_and_no_temp_folder(fault, tmp_path: Path, kind: str, sig: int) -> None:
    argv = _flow_argv(kind, tmp_path / "artifacts")
    env = fault.env({"HARNESS_PASSWORD": "correct-horse-battery"})
    if kind.startswith("pytest"):
        proc = start_process([sys.executable, *argv], fault.marker, env=env, cwd=tmp_path)
    else:
        proc = fault.start(*argv, env={"HARNESS_PASSWORD": "correct-horse-battery"})
    # mid-flow: the emulator child runs and the flow has taken a step
    children = wait_until(lambda: [c for c in leftover_processes(fault.marker) if " emulate " in c[1]], 90,
                          "the harness emulate child", proc.stderr_so_far)
    if kind.startswith("pytest"):  # the test holds its handset
        wait_until(lambda: (tmp_path / "holding").exists(), 90, "the test holding its handset",
                   lambda: (proc.stdout_so_far()[-500:], proc.stderr_so_far()[-500:]))
    else:
        wait_until(lambda: re.search(r"\[\s*\d+\]", proc.stdout_so_far()), 90, "a first flow step on stdout",
                   lambda: (proc.stdout_so_far()[-500:], proc.stderr_so_far()[-500:]))
    emulator_pid = children[0][0]
    assert any(p.name.startswith("harness-emulator-") for p in fault.tmp.iterdir()), list(fault.tmp.iterdir())
    os.kill(proc.pid, sig)
    run = proc.wait(120)
    assert not run.timed_out, run.describe()
    # a stop takes < 1 s (test_emulator_lifeline.py); a clean-up that hangs ends at the stop deadline, and the
    # emulator's log (in the run's artifacts) then says which stop was slow and where each thread was
    wait_until(lambda: process_state(emulator_pid) in (b"X", b"Z"), STOP_DEADLINE + 10,
               f"emulator pid {emulator_pid} gone after {sig.name} of harness {kind}",
               lambda: (process_state(emulator_pid), emulator_logs(tmp_path / "artifacts")))
    assert_no_leftover_processes(fault.marker, timeout=15)
    wait_until(lambda: not list(fault.tmp.rglob("*")), 15, "an empty TMPDIR", lambda: list(fault.tmp.rglob("*")))


def test_when_the_emulator_dies_first_its_parent_removes_its_temp_folders(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from harness.emulator.process import EmulatorProcess

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    emulator = EmulatorProcess("lumia-520", list(QUICK))
    try:
        endpoints = emulator.start()
        runtime = Path(emulator.runtime_dir or "")
        assert runtime.parent == tmp_path and Path(endpoints["control_token"]).is_relative_to(runtime)
        made = sorted(p.name.rsplit("-", 1)[0] for p in runtime.iterdir())
        assert made == ["harness-console-" + endpoints["serial"], "harness-control", "harness-mail", "harness-modem"], made
        assert emulator.proc is not None
        emulator.proc.kill()  # SIGKILL: it cannot clean up after itself
        emulator.proc.wait(10)
        assert runtime.exists()
    finally:
        emulator.stop()
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())


def test_an_emulator_started_from_a_thread_outlives_the_thread_and_dies_with_the_process(fault) -> None:
    """PR_SET_PDEATHSIG fires when the starting *thread* ends: the emulator must live on, and go with the process."""
    script = ("import json, sys, threading\n"
              "from harness.emulator.process import EmulatorProcess\n"
              "box = []\n"
              "def start():\n"
              "    box.append(EmulatorProcess('lumia-520', sys.argv[1:]).start())\n"
              "t = threading.Thread(target=start); t.start(); t.join()\n"
              "print(json.dumps(box[0]), flush=True)\n"
              "sys.stdin.read()\n")
    proc = start_process([sys.executable, "-c", script, *QUICK], fault.marker, env=fault.env(), stdin=subprocess.PIPE)
    line = wait_until(lambda: proc.stdout_so_far().partition("\n")[1] and proc.stdout_so_far(), 90,
                      "the endpoints of an emulator started from a thread", proc.stderr_so_far)
    endpoints = json.loads(line.partition("\n")[0])
    (emulator_pid, _), = [c for c in leftover_processes(parent=proc.pid) if " emulate " in c[1]]
    with ControlClient.for_endpoints(endpoints) as client:  # the starting thread has ended; the emulator answers
        assert client.call("ping")["serial"] == endpoints["serial"]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    wait_until(lambda: process_state(emulator_pid) in (b"X", b"Z"), 15, f"emulator pid {emulator_pid} gone",
               lambda: process_state(emulator_pid))
    assert_no_leftover_processes(fault.marker, timeout=15)
    wait_until(lambda: not list(fault.tmp.rglob("*")), 15, "an empty TMPDIR", lambda: list(fault.tmp.rglob("*")))


def test_a_clean_up_that_hangs_still_ends_by_its_deadline_and_removes_the_folders(fault, tmp_path: Path) -> None:
    """After the first signal, a stuck clean-up (here: one that never returns) ends at the stop deadline."""
    runtime = fault.tmp / "harness-emulator-stuck"
    (runtime / "harness-mail-x").mkdir(parents=True)
    script = ("import sys, threading\n"
              "from harness.emulator.lifeline import stop_on_signals, wait_for_stop\n"
              "with stop_on_signals(runtime_dir=sys.argv[1], stop_deadline=1.0):\n"
              "    try:\n"
              "        print('up', flush=True)\n"
              "        wait_for_stop()\n"
              "    finally:\n"
              "        threading.Event().wait()\n")
    proc = start_process([sys.executable, "-c", script, str(runtime)], fault.marker, env=fault.env())
    wait_until(lambda: "up" in proc.stdout_so_far(), 30, "the process up", proc.stderr_so_far)
    os.kill(proc.pid, signal.SIGTERM)
    run = proc.wait(15)
    assert not run.timed_out and run.rc == 1 and run.elapsed < 15, run.describe()
    first, _, dump = run.stderr.partition("\n")
    assert first == "harness emulate: clean-up took over 1s; exiting without it; where each thread was:", run.describe()
    assert 'File "<string>", line 8' in dump, run.describe()  # the stuck line of the clean-up, for the log
    assert not runtime.exists()
