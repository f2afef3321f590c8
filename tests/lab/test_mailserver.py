"""The lab's Dovecot (harness.lab.mailserver): it runs without root, listens only on 127.0.0.1 on ports the OS
picked, and goes away with the process that started it, however that process dies."""

from __future__ import annotations

import json
import os
import signal
import site
import smtplib
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.lab.mailserver import MailServer, dovecot_binary

pytestmark = pytest.mark.skipif(dovecot_binary() is None,
                                reason="dovecot is not installed: scripts/setup or apt-get install dovecot-imapd")

ROOT = Path(__file__).resolve().parents[2]


def _dovecot_processes(folder: str) -> dict[int, int]:
    """pid -> real uid of every process of the Dovecot whose folder is ``folder`` (its config path or instance name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if Path(folder).name in cmdline and "mailserver_keeper" not in cmdline:
            found[int(entry.name)] = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    return found


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except OSError:
        return True


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def test_it_runs_without_root_on_loopback_ports_and_stops_clean() -> None:
    with MailServer({"pat@example.com": "pw-0123456789"}) as server:
        folder = str(server.root)
        ports = {server.imap_port, server.imaps_port, server.lmtp_port}
        assert len(ports) == 3 and all(p > 0 for p in ports)
        processes = _dovecot_processes(folder)
        assert len(processes) >= 3, processes  # master, and its log, config, auth ... processes
        assert 0 not in processes.values(), f"a Dovecot process runs as root: {processes}"
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert "pw-0123456789" not in (Path(folder) / "passwd").read_text(), "the password is on disk in clear"
        for port in ports:  # bound to loopback only
            with socket.socket() as probe:
                assert probe.connect_ex(("127.0.0.1", port)) == 0
        with smtplib.LMTP("127.0.0.1", server.lmtp_port, timeout=30) as lmtp:
            refused = lmtp.sendmail("x@example.com", ["pat@example.com"], b"Subject: hi\r\n\r\nhello\r\n")
        assert refused == {}
    assert all(_refuses(p) for p in ports)
    wait_until(lambda: not _dovecot_processes(folder), 30, "Dovecot's processes to end")
    assert not Path(folder).exists()


def test_it_goes_away_with_a_parent_killed_by_sigkill(tmp_path) -> None:
    script = textwrap.dedent("""
        import json, sys
        from harness.lab.mailserver import MailServer
        server = MailServer({"pat@example.com": "pw-0123456789"}).start()
        print(json.dumps({"folder": str(server.root), "port": server.imap_port}), flush=True)
        sys.stdin.read()  # until killed
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        started = json.loads(parent.stdout.readline())
        assert not _refuses(started["port"])
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        wait_until(lambda: _refuses(started["port"]), 30, "the orphaned Dovecot to stop listening")
        wait_until(lambda: not _dovecot_processes(started["folder"]), 30, "the orphaned Dovecot's processes to end")
        wait_until(lambda: not Path(started["folder"]).exists(), 30, "its folder to be removed")
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait(30)


def _world_reachable(path: Path) -> bool:
    """Whether another user can read ``path`` (every folder above it searchable by others)."""
    path = path.resolve()
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in [path, *path.parents]) and bool(os.stat(path).st_mode & stat.S_IROTH)


def _unprivileged_run_possible() -> str | None:
    if os.geteuid() != 0:
        return "not root: every other test here already starts the server as an ordinary user"
    if not Path("/usr/bin/setpriv").exists():
        return "no setpriv: apt-get install util-linux"
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists():
        return f"no {system} for an unprivileged user to run (root's interpreter is private to root)"
    reach = [ROOT, *map(Path, site.getsitepackages())]
    if not all(_world_reachable(p) for p in reach):
        return f"another user cannot read {', '.join(map(str, reach))}"
    return None


@pytest.mark.skipif(_unprivileged_run_possible() is not None, reason=str(_unprivileged_run_possible()))
def test_an_unprivileged_user_runs_it_too(tmp_path) -> None:
    """Root runs Dovecot as nobody; here an ordinary user (nobody, through setpriv) starts the whole thing itself."""
    script = textwrap.dedent("""
        import os, smtplib, time
        from harness.lab.mailserver import MailServer
        from harness.flows.imap_codes import ImapCodeSource
        with MailServer({"pat@example.com": "pw-0123456789"}) as server:
            since = time.time()
            with smtplib.LMTP("127.0.0.1", server.lmtp_port, timeout=30) as lmtp:
                lmtp.sendmail("x@example.com", ["pat@example.com"], b"Subject: code\\r\\n\\r\\nUse 7654321 now\\r\\n")
            codes = ImapCodeSource(server.inbox_url("pat@example.com"), "pw-0123456789", ca_file=server.ca_file)
            print(os.geteuid(), codes.wait_for_code(since, timeout=60).reveal(), flush=True)
    """)
    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()])}
    done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", python, "-c", script],
                          capture_output=True, text=True, timeout=120, env=env, cwd="/tmp")
    assert done.returncode == 0, done.stderr[-2000:]
    uid, code = done.stdout.split()
    assert uid != "0" and code == "7654321"


@pytest.mark.parametrize("where", ["above the range", "inside the range, out of order"])
def test_the_keeper_hands_dovecot_its_sockets_at_3_4_5(where: str) -> None:
    """Socket activation: the listening sockets sit at 3, 4, 5 in order, inheritable, whatever numbers they had.

    When they land elsewhere Dovecot binds the ports itself, which fails while the keeper still holds them
    ("Address already in use", seen under load in CI)."""
    from harness.lab.mailserver_keeper import place_listen_fds

    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child arranges its descriptors as the keeper's fork does, and reports what it sees
        try:
            for fd in range(3, 64):
                if fd != report_w:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            report = os.dup2(report_w, 60)
            os.close(report_w)
            sockets = []
            for _ in range(3):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.1", 0))
                sock.listen(1)
                sockets.append(sock)
            wanted = [40, 41, 42] if where == "above the range" else [4, 3, 9]
            ports = [sock.getsockname()[1] for sock in sockets]
            parked = [os.dup2(sock.detach(), 50 + i) for i, sock in enumerate(sockets)]
            for fd in range(3, 10):
                if fd not in parked:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            for parked_fd, fd in zip(parked, wanted):
                os.dup2(parked_fd, fd, inheritable=False)
                os.close(parked_fd)
            place_listen_fds(wanted)
            seen = []
            for i in range(3):
                sock = socket.socket(fileno=os.dup(3 + i))
                seen.append([sock.getsockname()[1], os.get_inheritable(3 + i)])
                sock.close()
            still_open = [fd for fd in wanted if fd >= 6 and _is_open(fd)]
            os.write(report, json.dumps({"ports": ports, "seen": seen, "still_open": still_open}).encode())
        except BaseException as exc:  # noqa: BLE001 - told to the parent, which fails with it
            os.write(60, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(0)
    os.close(report_w)
    with os.fdopen(report_r, "rb") as reader:
        report = json.loads(reader.read() or b"{}")
    os.waitpid(pid, 0)
    assert report, "the child reported nothing"
    assert "error" not in report, report
    assert report["seen"] == [[port, True] for port in report["ports"]]
    assert report["still_open"] == []


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
