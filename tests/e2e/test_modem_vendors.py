"""Sign-ins with the code by text through every emulated vendor's modem, in PDU and text mode.

The harness's modem driver reads the code as it would from a emulator_control modem: a
two-part UCS2 message from the alphanumeric sender "Microsoft" (the
localised demo account), stored and announced by +CMTI or handed over by
+CMT, and a modem that restarts while the flow waits for the code (its boot
lines arrive, it has forgotten the driver's settings, and the message, slowed
by the network, reaches it only after it is back).
"""

from __future__ import annotations

import threading
import time

import pytest

from harness.flows import SmsCodeSource, sign_in_during_setup
from harness.modem import GsmModem
from harness.serial_port import SerialPort

VENDORS = ("generic", "quectel", "huawei", "simcom", "cinterion")
LOCALISED_NUMBER = "+15550163"   # irina@outlook.com's number on file (demo accounts)
#: +CNMI that hands messages over as +CMT (<mt> 2), in the parameter count each vendor takes.
CNMI_DIRECT = {"cinterion": "AT+CNMI=2,2,0,0"}

pytestmark = [pytest.mark.profile("lumia-520"), pytest.mark.theme("dark")]


def _vendor_params(modes=("pdu", "text"), number: str = LOCALISED_NUMBER, turn: int | None = None,
                   extra: tuple = (), label: str = "") -> list:
    """Every vendor in every mode; with ``turn``, every vendor once, its mode alternating from vendor to vendor
    (``turn`` 0 and 1 together make every pair). The driver meets every vendor, mode, delivery and encoding in
    tests/serial/test_modem_driver_vendors.py; here the flows meet each vendor."""
    pairs = [(v, m) for v in VENDORS for m in modes] if turn is None else \
        [(v, modes[(i + turn) % len(modes)]) for i, v in enumerate(VENDORS)]
    return [pytest.param(vendor, mode, *extra, id="-".join([vendor, mode] + ([label] if label else [])),
                         marks=pytest.mark.emulator(modem_vendor=vendor, modem_number=number, animation_ms=0,
                                                    signin_delay=0.2, boot_time=0.5))
            for vendor, mode in pairs]


def _modem(device, artifacts, mode: str) -> GsmModem:
    return GsmModem(SerialPort(device.endpoints["modem"]), mode=mode, log_path=artifacts.claim(f"modem-{mode}.log")).open()


def _signed_in(flow, account, modem, device) -> None:
    result = sign_in_during_setup(flow, account, SmsCodeSource(modem, number=device.endpoints["modem_number"]))
    assert result.final_screen == "start" and result.two_step


@pytest.mark.account("localised")
@pytest.mark.parametrize("vendor,mode", _vendor_params())
def test_ucs2_two_part_code_from_microsoft_by_cmti(vendor, mode, flow, account, device, artifacts, emulator_control) -> None:
    modem = _modem(device, artifacts, mode)
    try:
        _signed_in(flow, account, modem, device)
    finally:
        modem.close()
    sent = [m for m in emulator_control.call("outbox")["messages"] if m["to"] == LOCALISED_NUMBER]
    assert [m["sender"] for m in sent] == ["Microsoft"] and len(sent[0]["body"]) > 70  # two UCS2 parts


@pytest.mark.parametrize("vendor,mode", _vendor_params(number="+15550100", turn=0))
def test_gsm7_code_from_the_short_code_by_cmti(vendor, mode, flow, account, device, artifacts, emulator_control) -> None:
    modem = _modem(device, artifacts, mode)
    try:
        _signed_in(flow, account, modem, device)   # the primary account: English, one GSM 7-bit text from 69525
    finally:
        modem.close()
    assert [m["sender"] for m in emulator_control.call("outbox")["messages"]] == ["69525"]


@pytest.mark.account("localised")
@pytest.mark.parametrize("vendor,mode", _vendor_params(turn=1))
def test_ucs2_two_part_code_handed_over_by_cmt(vendor, mode, flow, account, device, artifacts) -> None:
    modem = _modem(device, artifacts, mode)
    try:
        if vendor == "quectel":  # +CMT goes where its URCs go: have them on the port the driver reads
            modem.command('AT+QURCCFG="urcport","usbmodem"')
        modem.command(CNMI_DIRECT.get(vendor, "AT+CNMI=2,2,0,0,0"))
        _signed_in(flow, account, modem, device)
    finally:
        modem.close()


def _restart_while_waiting(emulator_control, down: float, reenumerate: bool, done: threading.Event,
                           seen: list) -> None:
    """Restart the modem once the code is on its way (the code entry screen shows: the flow waits for it)."""
    deadline = time.monotonic() + 120
    while not done.is_set() and time.monotonic() < deadline:
        if emulator_control.call("state")["state"]["screen"] == "two_step_code":
            emulator_control.call("modem_restart", down=down, reenumerate=reenumerate)
            seen.append(time.monotonic())
            return
        done.wait(0.05)


@pytest.mark.account("localised")
@pytest.mark.parametrize("vendor,mode,reenumerate", _vendor_params(turn=0, extra=(False,), label="in-place")
                         + _vendor_params(turn=1, extra=(True,), label="port-goes-and-comes-back"))
def test_modem_restarts_while_the_flow_waits_for_the_code(vendor, mode, reenumerate, flow, account, device, artifacts,
                                                         emulator_control) -> None:
    """In place (boot lines), or as a USB modem: its port (a stable name) goes away and comes back."""
    log_path = artifacts.claim(f"modem-{mode}.log")
    modem = GsmModem(SerialPort(device.endpoints["modem"]), mode=mode, log_path=log_path).open()
    emulator_control.call("sms_delay", seconds=4)  # the code reaches the modem only after it is back from its restart
    done, seen = threading.Event(), []
    watcher = threading.Thread(target=_restart_while_waiting, args=(emulator_control, 1.5, reenumerate, done, seen),
                               daemon=True)
    watcher.start()
    try:
        _signed_in(flow, account, modem, device)
        state = emulator_control.call("modem_state")
    finally:
        done.set()
        watcher.join(timeout=10)
        modem.close()
    assert seen, "the modem was never restarted (the flow never reached the code entry screen)"
    # The restart put the modem back to power-up settings; the driver set it up again in its own mode.
    assert state["cmgf"][0] == (0 if mode == "pdu" else 1), state
    log = log_path.read_text(encoding="utf-8")
    assert "setting it up again" in log and ("port went away" in log) == reenumerate, "not the restart it went through"
