"""The driver against the emulated modem as each vendor: vendor x mode x delivery x encoding, and restarts.

The code is sent the way a service sends it: a short GSM 7-bit text from a
short code, or a localised text (so UCS2) in two parts from the alphanumeric
sender "Microsoft". The driver must find it as every vendor, in PDU mode
and in text mode, stored (+CMTI) or delivered straight (+CMT); and when the
modem restarts in the middle of the wait.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess
from harness.modem import GsmModem
from harness.serial_port import SerialPort

VENDORS = ["generic", "quectel", "huawei", "simcom", "cinterion"]
#: (sender, body, code): a one-part GSM 7-bit message and a two-part UCS2 one (over 70 characters, Cyrillic).
MESSAGES = {
    "gsm7": ("69525", "Use 4711042 as Microsoft account security code", "4711042"),
    "ucs2-2part": ("Microsoft", "Код безопасности учетной записи Майкрософт: 3141592. Никому не сообщайте этот код.",
                   "3141592"),
}


@pytest.fixture(scope="module", params=VENDORS)
def vendor_emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    tmp = tmp_path_factory.mktemp(request.param)
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.5", "--modem-vendor", request.param],
                           log_path=tmp / "emulator.log")
    proc.start()
    yield request.param, proc
    proc.stop()


@pytest.fixture(autouse=True)
def empty_memories(vendor_emulator: tuple) -> Iterator[None]:
    """The module shares one modem per vendor: each case starts with its memories empty, whatever the last left."""
    with ControlClient.for_endpoints(vendor_emulator[1].endpoints) as control:
        control.call("modem_clear")
    yield


@pytest.mark.parametrize("encoding", list(MESSAGES))
@pytest.mark.parametrize("delivery", ["stored", "direct"])
@pytest.mark.parametrize("mode", ["pdu", "text"])
def test_the_code_is_read_as_every_vendor(vendor_emulator: tuple, mode: str, delivery: str, encoding: str,
                                          tmp_path: Path) -> None:
    vendor, proc = vendor_emulator
    sender, body, code = MESSAGES[encoding]
    modem = GsmModem(SerialPort(proc.endpoints["modem"]), mode=mode, delivery=delivery, log_path=tmp_path / "modem.log").open()
    try:
        assert modem.mode == mode and modem.profile is not None and modem.profile.name == vendor
        with ControlClient.for_endpoints(proc.endpoints) as control:
            since = time.time()
            control.call("sms_send", to=proc.endpoints["modem_number"], sender=sender, body=body)
        assert modem.wait_for_access_code(since=since, timeout=20, poll=0.5).reveal() == code
        assert modem.list_messages() == []  # every part deleted
    finally:
        modem.close()
    log = (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert code not in log
    assert ("+CMT:" in log) == (delivery == "direct")


@pytest.mark.parametrize("reenumerate", [False, True], ids=["in-place", "port-goes-and-comes-back"])
@pytest.mark.parametrize("mode", ["pdu", "text"])
def test_a_modem_restart_in_the_middle_of_the_wait(vendor_emulator: tuple, mode: str, reenumerate: bool,
                                                   tmp_path: Path) -> None:
    """The modem restarts (boot lines, settings forgotten) while the driver waits, in place or as a USB modem
    whose port (a stable name) goes away and comes back; the code sent after it is read."""
    vendor, proc = vendor_emulator
    modem = GsmModem(SerialPort(proc.endpoints["modem"]), mode=mode, log_path=tmp_path / "modem.log").open()
    sender, body, code = MESSAGES["gsm7"]
    try:
        with ControlClient.for_endpoints(proc.endpoints) as control:
            def restart_then_send() -> None:
                control.call("modem_restart", down=1.0, reenumerate=reenumerate)
                control.call("sms_send", to=proc.endpoints["modem_number"], sender=sender, body=body)

            since = time.time()
            timer = threading.Timer(1.0, restart_then_send)
            timer.start()
            try:
                assert modem.wait_for_access_code(since=since, timeout=30, poll=0.5).reveal() == code
            finally:
                timer.join()
        assert modem.mode == mode
    finally:
        modem.close()
    log = (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert "setting it up again" in log and ("port went away" in log) == reenumerate


@pytest.mark.parametrize("how", ["auto", "text-by-flag", "text-by-inventory"])
def test_harness_sms_shows_a_two_part_message_joined_with_its_code_masked(vendor_emulator: tuple, how: str,
                                                                          tmp_path: Path) -> None:
    """In the mode the modem is read in by default (PDU), or in text mode as --modem-mode or the inventory say."""
    vendor, proc = vendor_emulator
    sender, body, code = MESSAGES["ucs2-2part"]
    with ControlClient.for_endpoints(proc.endpoints) as control:
        control.call("sms_send", to=proc.endpoints["modem_number"], sender=sender, body=body)
        run = [sys.executable, "-m", "harness", "sms", "--port", proc.endpoints["modem"]]
        if how == "text-by-flag":
            run += ["--modem-mode", "text"]
        elif how == "text-by-inventory":
            rack = tmp_path / "rack.toml"
            rack.write_text(f'[[handset]]\nname = "bench-1"\nprofile = "lumia-520"\nuri = "adb-tcp://127.0.0.1:9"\n'
                            f'modem = "{proc.endpoints["modem"]}"\nmodem_mode = "text"\nmodem_profile = "{vendor}"\n',
                            encoding="utf-8")
            run = [sys.executable, "-m", "harness", "sms", "--device", "bench-1", "--inventory", str(rack)]
        out = subprocess.run(run, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert control.call("modem_state")["cmgf"][0] == (0 if how == "auto" else 1)  # the mode it was read in
    masked = body.replace(code, "•" * len(code))
    (line,) = [line for line in out.stdout.splitlines() if "Microsoft" in line]
    assert "[2 parts]" in line and line.endswith(masked) and code not in out.stdout + out.stderr
    out = subprocess.run(run + ["--show-codes", "--delete"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.rstrip().endswith(body)
    out = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Microsoft" not in out.stdout, out.stdout



def test_the_log_shows_the_modems_identity_but_never_the_code(vendor_emulator: tuple, tmp_path: Path) -> None:
    """IMEI and the like answer identity commands (no message can be in them): readable; so are the fields of a
    text-mode message header; the code: nowhere."""
    vendor, proc = vendor_emulator
    sender, body, code = MESSAGES["gsm7"]
    modem = GsmModem(SerialPort(proc.endpoints["modem"]), mode="text", log_path=tmp_path / "modem.log").open()
    try:
        imei = [line for line in modem.command("AT+CGSN") if line.strip()]
        about = modem.command("ATI")
        with ControlClient.for_endpoints(proc.endpoints) as control:
            since = time.time()
            control.call("sms_send", to=proc.endpoints["modem_number"], sender=sender, body=body)
        assert modem.wait_for_access_code(since=since, timeout=20, poll=0.5).reveal() == code
    finally:
        modem.close()
    log = (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert len(imei) == 1 and f"<< {imei[0]}" in log, log  # not "<pdu 7 bytes, masked>" nor "###############"
    assert all(f"<< {line}" in log for line in about if line.startswith(("IMEI", "Revision"))), log
    assert code not in log and f'"{sender}"' in log  # the header's fields readable, the text not
