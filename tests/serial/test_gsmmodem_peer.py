"""python-gsmmodem-new, the client labs use, against the emulated modem as every vendor, in PDU and text mode.

A client nobody here wrote connects over the modem's pty (ATZ, ATE0, +CMEE,
+CLAC, +CPMS, +CNMI, ...), reads the identification, the network and the
SIM's number, lists what is stored and gets a new message through its +CMTI
callback. The expected strings are the vendors' (from their AT manuals), not
taken from the emulator.
"""

from __future__ import annotations

import threading
import time

import pytest
import serial

gsmmodem = pytest.importorskip("gsmmodem.modem")

from harness.emulator.control import ControlClient  # noqa: E402
from harness.emulator.process import EmulatorProcess  # noqa: E402

#: vendor -> (AT+CGMI, AT+CGMM) as those modems answer.
IDENTITY = {
    "generic": ("HARNESS", "GSM MODEM"),
    "quectel": ("Quectel", "EC25"),
    "huawei": ("huawei", "E3372"),
    "simcom": ("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H"),
    "cinterion": ("Cinterion", "EHS6"),
}
CODE_TEXT = "Use 4711042 as Microsoft account security code"
RUSSIAN = "Код безопасности учетной записи Майкрософт: 3141592"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@pytest.fixture(params=list(IDENTITY))
def vendor_emulator(request, tmp_path):
    tmp = tmp_path
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.5", "--modem-vendor", request.param],
                           log_path=tmp / "emulator.log")
    proc.start()
    yield request.param, proc
    proc.stop()


def _await(event: threading.Event, timeout: float, expected: str, seen) -> None:
    assert event.wait(timeout), f"expected {expected} within {timeout:g}s; saw {seen()!r}"


@pytest.mark.parametrize("text_mode", [False, True], ids=["pdu", "text"])
def test_python_gsmmodem_connects_reads_lists_and_gets_cmti(vendor_emulator, text_mode) -> None:
    vendor, proc = vendor_emulator
    received: list = []
    arrived = threading.Event()

    def on_sms(sms) -> None:
        received.append(sms)
        arrived.set()

    client = gsmmodem.GsmModem(proc.endpoints["modem"], smsReceivedCallbackFunc=on_sms)
    client.smsTextMode = text_mode
    client.connect()
    try:
        with ControlClient.for_endpoints(proc.endpoints) as control:
            assert (client.manufacturer, client.model) == IDENTITY[vendor]
            imei = client.imei
            assert len(imei) == 15 and imei.isdigit() and _luhn_ok(imei), imei
            assert client.networkName
            assert 0 < client.signalStrength <= 31
            assert client.ownNumber == "+15550100"
            # Stored without an indication (as for a client that polls), then listed.
            client.write("AT+CNMI=2,0")
            control.call("sms_send", to="+15550100", sender="Microsoft", body=CODE_TEXT)
            stored = client.listStoredSms()
            assert [(s.number, s.text) for s in stored] == [("Microsoft", CODE_TEXT)]
            client.deleteMultipleStoredSms()
            assert client.listStoredSms() == []
            client.write("AT+CNMI=" + client.AT_CNMI)
            if vendor == "quectel":  # its URCs go to the "usbat" port until told otherwise
                client.write('AT+QURCCFG="urcport","usbmodem"')
            body = CODE_TEXT.replace("4711042", "2718281") if text_mode else RUSSIAN
            control.call("sms_send", to="+15550100", sender="Microsoft", body=body)
            _await(arrived, 10, "a message through the +CMTI callback", lambda: received)
            assert received[0].number == "Microsoft"
            assert received[0].text == body
            # python-gsmmodem deletes what its callback took; wait for that before closing the port under it.
            deadline = time.monotonic() + 10
            while control.call("modem_inbox")["messages"]:
                assert time.monotonic() < deadline, f"expected the message deleted; saw {control.call('modem_inbox')}"
                time.sleep(0.05)
            client.write("AT")  # taken only once the callback's AT+CMGD has had its answer (the client's port lock)
    finally:
        client.close()


def test_quectel_sends_urcs_to_its_usbat_port_until_told_otherwise(tmp_path) -> None:
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.5", "--modem-vendor", "quectel"],
                           log_path=tmp_path / "emulator.log")
    proc.start()
    try:
        usbat = serial.Serial(proc.endpoints["modem_usbat"], timeout=0.1)
        usbmodem = serial.Serial(proc.endpoints["modem"], timeout=0.1)
        try:
            seen = {"usbat": b"", "usbmodem": b""}

            def read_until(port_name: str, port: serial.Serial, wanted: bytes, timeout: float) -> None:
                deadline = time.monotonic() + timeout
                while wanted not in seen[port_name]:
                    assert time.monotonic() < deadline, f"expected {wanted!r} on {port_name}; saw {seen!r}"
                    seen[port_name] += port.read(256)

            usbmodem.write(b"ATE0\r")
            read_until("usbmodem", usbmodem, b"OK\r\n", 5)
            with ControlClient.for_endpoints(proc.endpoints) as control:
                control.call("sms_send", to="+15550100", sender="69525", body=CODE_TEXT)
                read_until("usbat", usbat, b'+CMTI: "ME",0\r\n', 5)
                usbmodem.write(b'AT+QURCCFG="urcport","usbmodem"\r')
                read_until("usbmodem", usbmodem, b"OK\r\n\r\nOK\r\n", 5)
                control.call("sms_send", to="+15550100", sender="69525", body=CODE_TEXT)
                read_until("usbmodem", usbmodem, b'+CMTI: "ME",1\r\n', 5)
            assert b"+CMTI" not in seen["usbmodem"].split(b'+CMTI: "ME",1')[0]
        finally:
            usbat.close()
            usbmodem.close()
    finally:
        proc.stop()



def _connected(proc, text_mode: bool, received: list, arrived: threading.Event, reported: threading.Event):
    client = gsmmodem.GsmModem(proc.endpoints["modem"],
                               smsReceivedCallbackFunc=lambda s: (received.append(s), arrived.set()),
                               smsStatusReportCallback=lambda r: reported.set())
    client.smsTextMode = text_mode
    client.connect()
    return client


# Quectel announces reports where it does not keep them: the next test
@pytest.mark.parametrize("vendor_emulator", [v for v in IDENTITY if v != "quectel"], indirect=True)
@pytest.mark.parametrize("text_mode", [False, True], ids=["pdu", "text"])
def test_python_gsmmodem_sends_and_gets_its_status_report(vendor_emulator, text_mode) -> None:
    """AT+CMGS in both modes; the report comes back as +CDSI and is read where it says."""
    vendor, proc = vendor_emulator
    arrived, reported, received = threading.Event(), threading.Event(), []
    with ControlClient.for_endpoints(proc.endpoints) as control:
        # The network holds our own message back well past the report: the library acts on only the first of two
        # URCs read together (+CDSI and +CMTI), which a loaded machine would otherwise make a coin toss.
        control.call("sms_delay", seconds=3)
    client = _connected(proc, text_mode, received, arrived, reported)
    try:
        body = "Ping {back} [1]" if text_mode else "Привет {1}"
        sent = client.sendSms("+15550100", body, waitForDeliveryReport=True, deliveryTimeout=10)
        assert sent.status == sent.DELIVERED
        _await(arrived, 10, "our own message back", lambda: received)
        assert (received[0].number, received[0].text) == ("+15550100", body)
        client.write("AT")  # after the callbacks' own commands (the client's port lock)
    finally:
        client.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the client's +CDSI thread fails
@pytest.mark.parametrize("text_mode", [False, True], ids=["pdu", "text"])
def test_quectel_announces_status_reports_in_sm_but_keeps_them_in_sr(tmp_path, text_mode) -> None:
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.5", "--modem-vendor", "quectel"],
                           log_path=tmp_path / "emulator.log")
    proc.start()
    arrived, reported, received = threading.Event(), threading.Event(), []
    client = _connected(proc, text_mode, received, arrived, reported)
    try:
        client.write('AT+QURCCFG="urcport","usbmodem"')
        sent = client.sendSms("+15550100", "Ping")
        _await(arrived, 10, "our own message back", lambda: received)
        with ControlClient.for_endpoints(proc.endpoints) as control:
            deadline = time.monotonic() + 10
            while not any(m["memory"] == "SR" for m in control.call("modem_inbox")["messages"]):
                assert time.monotonic() < deadline, f"expected a report in SR; saw {control.call('modem_inbox')}"
                time.sleep(0.05)
        client.write("AT")
        assert sent.status == sent.ENROUTE and not reported.is_set()  # read from "SM" as announced: not there
        client.write('AT+CPMS="SR"')
        assert any(line.startswith("+CMGR:") for line in client.write("AT+CMGR=0"))
    finally:
        client.close()
        proc.stop()
