"""``harness emulate`` as a subprocess, driven through its control socket."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from harness.emulator.control import ControlClient
from harness.emulator.ui import SCREENS


def _start(*args: str) -> tuple[subprocess.Popen[str], dict]:
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"harness emulate printed nothing; stderr: {proc.stderr.read() if proc.stderr else ''}")
    return proc, json.loads(line)


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_emulate_prints_endpoints_answers_and_stops_on_sigterm() -> None:
    proc, endpoints = _start("--profile", "lumia-520", "--animation-ms", "0", "--boot-time", "0.3")
    try:
        assert endpoints["profile"] == "lumia-520"
        host, port = endpoints["control"].split(":")
        assert host == "127.0.0.1" and int(port) > 0
        with ControlClient.for_endpoints(endpoints) as control:
            assert control.call("ping")["serial"] == endpoints["serial"]
            state = control.call("state")["state"]
            assert state["screen"] == "setup_welcome" and state["powered"] and state["os_version"] == "8.0"
            assert control.call("screens")["screens"] == list(SCREENS)
            control.call("goto", screen="keep_your_life_in_sync")
            assert control.call("state")["state"]["screen"] == "keep_your_life_in_sync"
            control.call("set_network", up=False)
            assert control.call("state")["state"]["network_up"] is False
            control.call("power", on=False)
            assert control.call("state")["state"]["powered"] is False
            control.call("power", on=True)
            _wait(lambda: control.call("state")["state"]["booted"])
            lines = control.call("log")["lines"]
            assert any("boot: complete" in line for line in lines)
            # the modem's SIM (+15550100 unless --modem-number) takes a text to its number and no other
            assert control.call("sms_send", to="+15550100", body="hello")["delivered"] is True
            assert control.call("sms_send", to="+15550142", body="not ours")["delivered"] is False
            assert [m["body"] for m in control.call("outbox")["messages"]][-2:] == ["hello", "not ours"]
            with pytest.raises(RuntimeError, match="unknown cmd"):
                control.call("no_such_command")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_list_screens_and_bad_arguments() -> None:
    out = subprocess.run([sys.executable, "-m", "harness", "emulate", "--list-screens"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.split() == list(SCREENS)
    bad = subprocess.run([sys.executable, "-m", "harness", "emulate", "--profile", "nokia-3310"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "no profile 'nokia-3310'" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "harness", "emulate", "--screen", "lock"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown screen 'lock'" in bad.stderr


def test_accounts_file_errors_are_one_line(tmp_path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[[account]]\naddress = "x@outlook.com"\n')
    bad = subprocess.run([sys.executable, "-m", "harness", "emulate", "--accounts", str(accounts)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert f"{accounts}: account[1].password: missing" in bad.stderr
