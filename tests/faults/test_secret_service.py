"""Fault matrix: the ADB service that types a secret is refused or stalled, and the secret stays in the process.

A proxy written here sits between the harness and an emulated handset and
reads the host's messages; the OPEN of ``shell,v2,raw:input text ...`` is
answered with CLSE (refused) or never answered (stalled). The canary password
must reach the proxy (so the test really typed it) and nothing else: not
stderr, not the JUnit XML, not the HTML report, not any file the run wrote.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
from pathlib import Path

import pytest
from adbfaults import CLSE, OPEN, pack, recv_exact
from faultlab import Canary, FaultLab, assert_one_line_error, start_process

ALLOWANCE = 8.0


class TypingProxy:
    """Forwards ADB between the host and a device, except the OPEN that types text: refused or stalled."""

    def __init__(self, device_port: int, mode: str) -> None:
        assert mode in ("refuse", "stall")
        self.device_port, self.mode = device_port, mode
        self.typed: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.uri = f"adb-tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                host, _ = self.listener.accept()
            except OSError:
                return
            device = socket.create_connection(("127.0.0.1", self.device_port))
            self._socks += [host, device]
            lock = threading.Lock()
            threading.Thread(target=self._down, args=(device, host, lock), daemon=True).start()
            threading.Thread(target=self._up, args=(host, device, lock), daemon=True).start()

    def _down(self, device: socket.socket, host: socket.socket, lock: threading.Lock) -> None:
        try:
            while data := device.recv(65536):
                with lock:
                    host.sendall(data)
        except OSError:
            pass
        finally:
            host.close()

    def _up(self, host: socket.socket, device: socket.socket, lock: threading.Lock) -> None:
        try:
            while True:
                header = recv_exact(host, 24)
                cmd, arg0, _arg1, length = struct.unpack_from("<4I", header)
                data = recv_exact(host, length) if length else b""
                if cmd == OPEN and b"input text" in data:
                    self.typed.append(data)
                    if self.mode == "refuse":
                        with lock:
                            host.sendall(pack(CLSE, 0, arg0))
                    continue  # stall: the device never hears of it, the host hears nothing
                device.sendall(header + data)
        except (OSError, ConnectionError):
            pass
        finally:
            device.close()

    def close(self) -> None:
        self.listener.close()
        for sock in self._socks:
            sock.close()


@pytest.fixture
def handset(fault: FaultLab, tmp_path: Path) -> tuple[object, dict[str, str]]:
    """An emulated handset trusting this test's own ADB key, and the environment that uses that key."""
    from harness.adb.auth import load_or_create_key

    key = tmp_path / "adbkey"
    load_or_create_key(key)
    emulated = fault.emulate("--profile", "lumia-930", "--adb-key", f"{key}.pub", "--animation-ms", "0")
    return emulated, {"HARNESS_ADB_KEY": str(key)}


WORDS = {"refuse": ["refused service", "'shell,v2,raw:input text [REDACTED]'"],
         "stall": ["timed out after", "OKAY for OPEN 'shell,v2,raw:input text [REDACTED]'"]}


@pytest.mark.parametrize("mode", ["refuse", "stall"])
def test_harness_text_never_shows_the_typed_secret(fault: FaultLab, handset, canary: Canary, mode: str,
                                                   tmp_path: Path) -> None:
    emulated, env = handset
    proxy = TypingProxy(int(emulated.endpoints["adb"].rsplit(":", 1)[1]), mode)
    try:
        run = fault.run("text", "--handset", proxy.uri, "--timeout", "8", canary.password, deadline=90, env=env)
    finally:
        proxy.close()
    assert any(canary.password.encode() in open_ for open_ in proxy.typed), "the secret never reached the device side"
    assert not run.timed_out and run.elapsed <= 8 + ALLOWANCE and run.rc != 0, run.describe()
    lines = run.stderr.strip().splitlines()
    assert_one_line_error(lines[-1], "harness text", *WORDS[mode])
    fault.assert_no_canary(canary, tmp_path / "fault", runs=[run])


INNER_TEST = '''
import os

from harness.handsets import connect_handset
from harness.secrets import Secret


def test_types_the_password():
    handset = connect_handset(os.environ["PROXY_URI"], timeout=4)
    try:
        handset.text(Secret(os.environ.pop("CANARY_PASSWORD")))
    finally:
        handset.close()
'''


@pytest.mark.parametrize("mode", ["refuse", "stall"])
def test_pytest_reports_never_show_the_typed_secret(fault: FaultLab, handset, canary: Canary, mode: str,
                                                    tmp_path: Path) -> None:
    """Under pytest the failure lands in the JUnit XML and the HTML report (with locals shown): masked there too."""
    emulated, env = handset
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "test_inner.py").write_text(INNER_TEST)
    proxy = TypingProxy(int(emulated.endpoints["adb"].rsplit(":", 1)[1]), mode)
    try:
        inner = start_process([sys.executable, "-m", "pytest", "-q", "-l", "-p", "no:cacheprovider", "-p", "no:xdist",
                               str(reports / "test_inner.py"), f"--junitxml={reports / 'junit.xml'}",
                               f"--html={reports / 'report.html'}", "--self-contained-html"],
                              fault.marker, env={**fault.env(env), "PROXY_URI": proxy.uri,
                                                 "CANARY_PASSWORD": canary.password}, cwd=reports).wait(120)
    finally:
        proxy.close()
    assert any(canary.password.encode() in open_ for open_ in proxy.typed), "the secret never reached the device side"
    assert inner.rc == 1, inner.describe()
    junit = (reports / "junit.xml").read_text()
    assert WORDS[mode][1].replace("'", "&apos;") in junit or WORDS[mode][1] in junit, junit[-2000:]
    assert (reports / "report.html").stat().st_size > 0
    fault.assert_no_canary(canary, reports, runs=[inner])
