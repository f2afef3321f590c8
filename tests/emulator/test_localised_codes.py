"""The account service sends a localised code as a real service does: UCS2, from "Microsoft", in two parts.

The service, the network and the emulated modem run in this process; the
modem is read over its pty in PDU mode and the parts decoded by
python-gsmmodem's decoder (written by others), then put together by
reference and sequence number as a receiver must.
"""

from __future__ import annotations

import re
import time

import pytest
import serial

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.modem_device import EmulatedModem
from harness.emulator.sms import SmsNetwork

pdu = pytest.importorskip("gsmmodem.pdu")


def _ask(port: serial.Serial, line: str, timeout: float = 5.0) -> str:
    port.write(line.encode() + b"\r")
    seen, deadline = b"", time.monotonic() + timeout
    while not seen.endswith(b"OK\r\n"):
        assert time.monotonic() < deadline, f"expected OK to {line} within {timeout:g}s; saw {seen!r}"
        seen += port.read(4096)
    return seen.decode("latin-1")


@pytest.mark.parametrize("vendor", ["generic", "huawei"])
def test_russian_code_arrives_in_two_ucs2_parts_from_microsoft(vendor, tmp_path) -> None:
    network = SmsNetwork()
    service = AccountService(load_accounts(DEMO_ACCOUNTS), network, tmp_path)
    modem = EmulatedModem("+15550163", network, vendor=vendor)
    endpoints = modem.start()
    port = serial.Serial(endpoints["modem"], timeout=0.05)
    try:
        _ask(port, "ATE0")
        service.send_code("irina@outlook.com", "text")
        listing = _ask(port, "AT+CMGL=4")
        pdus = re.findall(r"\+CMGL: \d+,\d,,\d+\r\n([0-9A-F]+)\r\n", listing)
        parts = [pdu.decodeSmsPdu(p) for p in pdus]
        assert len(parts) == 2 and {p["number"] for p in parts} == {"Microsoft"}
        concat = [p["udh"][0] for p in parts]
        assert len({c.reference for c in concat}) == 1 and sorted(c.number for c in concat) == [1, 2]
        text = "".join(p["text"] for _, p in sorted(zip([c.number for c in concat], parts), key=lambda x: x[0]))
        assert any("\u0400" <= ch <= "\u04ff" for ch in text)               # Cyrillic: UCS2 was needed
        code = re.search(r"\d{7}", text).group(0)
        assert not any(code in p["text"] for p in parts)                   # only the joined text holds it
        assert service.verify_code("irina@outlook.com", code)
    finally:
        port.close()
        modem.stop()


def test_english_codes_stay_single_gsm7_messages_from_the_short_code(tmp_path) -> None:
    network = SmsNetwork()
    service = AccountService(load_accounts(DEMO_ACCOUNTS), network, tmp_path)
    service.send_code("alice@outlook.com", "text")
    (message,) = network.outbox
    assert message.sender == "69525" and re.fullmatch(r"Use \d{7} as Microsoft account security code", message.body)
