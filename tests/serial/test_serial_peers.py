"""The serial peers of an emulated handset over real ptys (and ser2net's RFC 2217): modem, console, relay."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from harness.handsets import connect_handset, connect_when_up
from harness.adb.auth import load_or_create_key
from harness.console import ConsoleTimeout, SerialConsole
from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess
from harness.adb.errors import DeviceOffline
from harness.errors import HarnessTimeout
from harness.modem import CmsError, GsmModem, ModemTimeout
from harness.power import LcusRelay
from harness.serial_port import SerialPort


@pytest.fixture
def emulator(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_ADB_KEY", str(tmp_path / "adbkey"))
    load_or_create_key(tmp_path / "adbkey")
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.8", "--adb-key", str(tmp_path / "adbkey.pub")],
                           log_path=tmp_path / "emulator.log")
    proc.start()
    yield proc
    proc.stop()


def _code(body: str) -> str:
    return re.search(r"\d{7}", body).group(0)


def wait_until(predicate, timeout: float, expected: str, seen=lambda: None):
    """Poll ``predicate`` until it is true; fail after ``timeout`` s naming what was expected and seen."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"expected {expected} within {timeout:g}s; saw {seen()!r}"
        time.sleep(0.02)
    return value


def test_access_code_by_sms_and_urcs_during_a_command(emulator, tmp_path) -> None:
    modem = GsmModem(SerialPort(emulator.endpoints["modem"]), log_path=tmp_path / "modem.log").open()
    assert modem.own_numbers() == ["+15550100"]  # the SIM number the sms_send calls below address
    with ControlClient.for_endpoints(emulator.endpoints) as control:
        since = time.time()
        control.call("sms_send", to="+15550100", sender="+15550199", body="not a code: see you at 7")
        control.call("sms_send", to="+15550100", sender="69525", body="Use 7654321 as Microsoft account security code")
        assert modem.wait_for_access_code(since=since, timeout=10).reveal() == "7654321"
        # A +CMTI that arrives while AT+CMGL is answering goes to the URC queue, not into the listing.
        control.call("modem_slow", seconds=0.6)
        log = tmp_path / "modem.log"
        listings_before = log.read_text().count(">> AT+CMGL")
        listing: list = []
        worker = threading.Thread(target=lambda: listing.append(modem.list_messages()))
        worker.start()
        wait_until(lambda: log.read_text().count(">> AT+CMGL") > listings_before, 5, "AT+CMGL in flight",
                   lambda: log.read_text()[-300:])
        control.call("sms_send", to="+15550100", sender="69525", body="Use 1112223 as Microsoft account security code")
        worker.join(10)
        control.call("modem_slow", seconds=0)
        assert all(not m.body.startswith("+CMTI") for m in listing[0])
        assert modem.wait_for_access_code(sender="69525", timeout=10).reveal() == "1112223"
        assert [m.sender for m in modem.list_messages()] == ["+15550199"]  # read codes were deleted
    modem.close()
    log = (tmp_path / "modem.log").read_text()
    assert "+CMTI" in log and "7654321" not in log and "1112223" not in log


def test_a_slow_modem_gives_a_typed_timeout_then_recovers(emulator) -> None:
    modem = GsmModem(SerialPort(emulator.endpoints["modem"])).open()
    with ControlClient.for_endpoints(emulator.endpoints) as control:
        control.call("modem_slow", seconds=1.5)
        started = time.monotonic()
        with pytest.raises(ModemTimeout):
            modem.command("AT", timeout=0.5)
        assert time.monotonic() - started < 0.5 + 5, "the 0.5 s deadline was not kept (5 s allowed for a loaded machine)"
        control.call("modem_slow", seconds=0)
        assert modem.command("AT") == []  # the late answer to the first AT is not taken for this one's
        # +CMS ERROR is a final result: a definite no at once, not a timeout (27.005 3.2.5)
        started = time.monotonic()
        with pytest.raises(CmsError) as refused:
            modem.command("AT+CMGR=29", timeout=4)
        assert refused.value.code == "321" and time.monotonic() - started < 4  # the error, not the 4 s deadline
    with pytest.raises(HarnessTimeout):
        modem.wait_for_access_code(timeout=1.5, poll=0.3)
    modem.close()


def test_console_log_keeps_every_line_across_a_reboot(emulator, tmp_path) -> None:
    log = tmp_path / "console.log"
    console = SerialConsole(SerialPort(emulator.endpoints["console"]), log_path=log).open()
    console.expect(r"boot: complete", timeout=5)
    console.send_line("getprop ro.serialno")
    match, _ = console.expect(r"520A[0-9A-F]+", timeout=5)
    assert match.group(0) == emulator.endpoints["serial"]
    console.send_line("reboot")
    console.expect(r"powering on", timeout=20)
    console.expect(r"boot: complete", timeout=20)
    console.expect(r"wp> ", timeout=5)
    with pytest.raises(ConsoleTimeout) as info:
        console.expect(r"never printed", timeout=0.3)
    assert "never printed" in str(info.value)
    console.close()
    text = log.read_text()
    assert "console gap: port lost at" in text
    assert text.index("power: off") < text.index("console gap") < text.rindex("powering on") < text.rindex("boot: complete")
    assert text.count("boot: complete") == 2  # the first boot, before we opened the port, is kept too
    assert "rebooting..." in text


def test_the_console_is_back_by_the_time_adb_answers_after_a_re_flash(emulator, tmp_path) -> None:
    """A rack re-flashes a handset between tests (the control socket's lab_reset), waits for ADB, then opens the
    console: the console's port, gone while the handset was off, must be there again by then, whoever had the old
    console at power-off. Here a program holds the old port open and reads nothing (a stalled reader): the emulator
    gives such a reader 2 s to drain, and that wait must not hold back the next boot's port (a pytest run on a rack
    saw "No such file" for the console right after the handset answered on ADB)."""
    stalled = os.open(emulator.endpoints["console"], os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    handset = None
    try:
        with ControlClient.for_endpoints(emulator.endpoints) as control:
            control.call("lab_reset")
        handset = connect_when_up(f"adb-tcp://{emulator.endpoints['adb']}", timeout=60)  # as the lab's lease does
        assert handset.screenshot().shape == (800, 480, 3)
        console = SerialConsole(SerialPort(emulator.endpoints["console"]), log_path=tmp_path / "console.log").open()
        console.send_line("getprop ro.serialno")
        match, _ = console.expect(r"520A[0-9A-F]+", timeout=10)
        assert match.group(0) == emulator.endpoints["serial"]
        console.close()
    finally:
        os.close(stalled)
        if handset is not None:
            handset.close()


def test_relay_channel_switches_the_handset_off_everywhere_and_on_again(emulator) -> None:
    handset = connect_handset(f"adb-tcp://{emulator.endpoints['adb']}", timeout=3)
    handset.reconnect_timeout = 1
    relay = LcusRelay(emulator.endpoints["power"], channels=emulator.endpoints["power_channels"])
    relay.off(1)
    assert relay.state(1) is False
    host, port = emulator.endpoints["adb"].split(":")

    def adb_refuses() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex((host, int(port))) != 0
    wait_until(adb_refuses, 5, "ADB to stop answering with the power off")
    with pytest.raises(DeviceOffline, match="did not come back within 1s"):
        handset.screenshot()
    relay.on(1)
    handset.reconnect_timeout = 20
    assert handset.screenshot().shape == (800, 480, 3)
    relay.close()
    handset.close()


@pytest.mark.skipif(shutil.which("ser2net") is None, reason="ser2net is not installed: scripts/setup or apt-get install ser2net")
def test_access_code_through_ser2net_rfc2217(emulator, tmp_path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = tmp_path / "ser2net.yaml"
    config.write_text(
        "connection: &modem\n"
        f"  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
        f"  connector: serialdev,{emulator.endpoints['modem']},115200n81,local\n"
        "  options:\n"
        "    kickolduser: true\n")
    server = subprocess.Popen(["ser2net", "-n", "-u", "-c", str(config), "-P", str(tmp_path / "ser2net.pid")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def listening() -> bool:
            assert server.poll() is None, "ser2net exited"
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0
        wait_until(listening, 10, f"ser2net listening on {port}")
        modem = GsmModem(SerialPort(f"rfc2217://127.0.0.1:{port}?ign_set_control&timeout=3")).open()
        with ControlClient.for_endpoints(emulator.endpoints) as control:
            since = time.time()
            control.call("sms_send", to="+15550100", sender="69525", body="Use 4445556 as Microsoft account security code")
        assert modem.wait_for_access_code(since=since, timeout=15).reveal() == "4445556"
        modem.close()
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("kind", ["noise", "drop"])
def test_line_faults_the_code_is_read_through_them_within_the_deadline(emulator, kind, tmp_path) -> None:
    """3% of the modem's bytes damaged or lost: a listing that comes back garbled is read again, in time.

    Noise (bytes slipped in) is read through in PDU mode: what is no hex is taken out and the header's
    <length> checks the rest. A PDU that lost a byte cannot be repaired (hex has no redundancy) and 3%
    loses one in nearly every read of a 60-octet PDU, so with that line the modem is read in text mode.
    """
    modem = GsmModem(SerialPort(emulator.endpoints["modem"]), timeout=1.0, log_path=tmp_path / "modem.log",
                     mode="text" if kind == "drop" else None).open()
    assert modem.mode == ("text" if kind == "drop" else "pdu")
    strict = r"\b(\d{7})\b"
    with ControlClient.for_endpoints(emulator.endpoints) as control:
        control.call("modem_fault", kind=kind, rate=0.03, seed=3)
        since = time.time()
        control.call("sms_send", to="+15550100", sender="69525", body="Use 9998887 as Microsoft account security code")
        started = time.monotonic()
        assert modem.wait_for_access_code(since=since, pattern=strict, timeout=20, poll=0.3).reveal() == "9998887"
        assert time.monotonic() - started < 20 + 1.0 + 1, "the wait and its deletes keep to the deadline"
        control.call("modem_fault", kind="clear")
        since = time.time()
        control.call("sms_send", to="+15550100", sender="69525", body="Use 1231231 as Microsoft account security code")
        assert modem.wait_for_access_code(since=since, pattern=strict, timeout=8).reveal() == "1231231"
    modem.close()
    log = (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert "9998887" not in log and "1231231" not in log


def test_console_port_vanishes_and_returns(emulator, tmp_path) -> None:
    console = SerialConsole(SerialPort(emulator.endpoints["console"]), log_path=tmp_path / "c.log").open()
    console.expect("boot: complete", timeout=5)
    with ControlClient.for_endpoints(emulator.endpoints) as control:
        control.call("console_vanish", seconds=0.5)
    wait_until(lambda: console.gaps >= 1, 10, "the console back after vanishing", lambda: console.tail(3))
    console.send_line("uptime")
    console.expect(r"up \d", timeout=5)
    console.close()
    assert "console gap" in (tmp_path / "c.log").read_text()
