"""The emulated modem's answers byte for byte as V.250 and 27.005/27.007 give them, per vendor, over its pty.

A raw pyserial conversation, so what is checked is what a client reads: the
result code forms (verbose, numeric, quiet), ATZ and AT&F, the vendors'
error words and storages, +CMT deliveries in PDU and text mode, and a
restart that prints its boot lines and forgets the client's settings.
"""

from __future__ import annotations

import time

import pytest
import serial

from harness.emulator.control import ControlClient
from harness.emulator.process import EmulatorProcess


class Raw:
    """A pyserial port and everything read from it; ``until`` waits for bytes with a deadline."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, timeout=0.05)
        self.seen = b""

    def until(self, wanted: bytes, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while wanted not in self.seen:
            assert time.monotonic() < deadline, f"expected {wanted!r} within {timeout:g}s; saw {self.seen!r}"
            self.seen += self.port.read(4096)
        head, _, self.seen = self.seen.partition(wanted)
        return head + wanted

    def ask(self, line: str, final: bytes = b"OK\r\n", timeout: float = 5.0) -> bytes:
        self.seen = b""
        self.port.write(line.encode() + b"\r")
        return self.until(final, timeout)


@pytest.fixture
def modem_for(tmp_path):
    started: list[tuple[EmulatorProcess, Raw]] = []

    def start(vendor: str, *more: str) -> tuple[EmulatorProcess, Raw]:
        proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.5", "--modem-vendor", vendor,
                                             *more], log_path=tmp_path / f"emulator-{vendor}-{len(started)}.log")
        proc.start()
        raw = Raw(proc.endpoints["modem"])
        started.append((proc, raw))
        raw.ask("AT")  # the boot lines were queued before its answer, so they are read and gone
        raw.ask("AT&F")
        return proc, raw

    yield start
    for proc, raw in started:
        raw.port.close()
        proc.stop()


def test_v250_result_forms_and_profiles(modem_for) -> None:
    _, m = modem_for("generic")
    assert m.ask("ATZ") == b"ATZ\r\r\nOK\r\n"                  # echo on: the line as typed, then the result
    assert m.ask("ATE0") == b"ATE0\r\r\nOK\r\n"
    assert m.ask("AT") == b"\r\nOK\r\n"
    assert m.ask("ATS3?") == b"\r\n013\r\n\r\nOK\r\n"
    assert m.ask("ATV0", final=b"0\r") == b"0\r"                # numeric result code
    assert m.ask("AT+CMGF?", final=b"\n0\r") == b"+CMGF: 0\r\n0\r"
    assert m.ask("ATXYZ", final=b"4\r") == b"4\r"               # ERROR
    assert m.ask("ATV1") == b"\r\nOK\r\n"
    assert m.ask("AT+CMEE=2;+CPIN=1234", final=b"allowed\r\n").endswith(b"+CME ERROR: operation not allowed\r\n")
    m.seen = b""
    m.port.write(b"ATQ1\r")  # quiet at once: not even its own OK
    m.port.write(b"AT\r")
    m.port.write(b"AT+CMEE?\r")
    assert m.until(b"+CMEE: 2\r\n") == b"\r\n+CMEE: 2\r\n"       # quiet: no OK after either
    m.ask("ATZ")                                              # the stored profile: echo on, verbose, not quiet
    assert m.ask("AT+CMEE?") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"


def test_vendor_error_words_and_storages(modem_for) -> None:
    _, huawei = modem_for("huawei")
    huawei.ask("ATE0")
    assert huawei.ask("AT+NOPE", final=b"SUPPORT\r\n") == b"\r\nCOMMAND NOT SUPPORT\r\n"
    _, cinterion = modem_for("cinterion")
    cinterion.ask("ATE0")
    assert cinterion.ask('AT+CPMS="ME","ME","ME"', final=b"302\r\n") == b"\r\n+CMS ERROR: 302\r\n"
    assert cinterion.ask("AT+CNMI=2,1,0,0,0", final=b"ERROR: 303\r\n").endswith(b"+CMS ERROR: 303\r\n")
    assert cinterion.ask("AT+CNMI=2,1,0,0") == b"\r\nOK\r\n"
    _, quectel = modem_for("quectel")
    quectel.ask("ATE0")
    # received messages go to the third memory: setting only the first leaves them in ME
    assert quectel.ask('AT+CPMS="SM"').startswith(b"\r\n+CPMS: ")
    assert b'"SM",0,255,"ME",0,255,"ME",0,255' in quectel.ask("AT+CPMS?")


def test_cmt_delivery_in_pdu_and_text_mode(modem_for) -> None:
    proc, m = modem_for("generic")
    m.ask("ATE0")
    m.ask("AT+CNMI=2,2,0,0,0")
    with ControlClient.for_endpoints(proc.endpoints) as control:
        m.seen = b""
        control.call("sms_send", to="+15550100", sender="69525", body="hellohello")
        header = m.until(b"\r\n", 5) + m.until(b"\r\n", 5) + m.until(b"\r\n", 5)
        assert header.startswith(b"\r\n+CMT: ,25\r\n")
        # SCA (+15559999000), then the deliver: 04, 05 81 96 25 F5, 00 00, SCTS, 0A, "hellohello"
        pdu = header.split(b"\r\n")[2]
        assert pdu.startswith(b"07915155999900F00405819625F50000") and pdu.endswith(b"0AE8329BFD4697D9EC37")
        m.ask("AT+CMGF=1")
        m.ask("AT+CSDH=1")
        control.call("sms_send", to="+15550100", sender="Microsoft", body="Use 1234567 as code", tz_quarters=-20)
        line = m.until(b"code\r\n", 5)
        assert b'+CMT: "Microsoft",,"' in line and b'-20",208,4,0,0,"+15559999000",145,19\r\nUse 1234567 as code\r\n' in line
    assert control  # the control socket stayed usable throughout


def test_restart_prints_boot_lines_and_forgets_settings(modem_for) -> None:
    proc, m = modem_for("quectel")
    usbat = Raw(proc.endpoints["modem_usbat"])
    try:
        m.ask("ATE0")
        m.ask("AT+CMGF=1")
        m.ask("AT+CNMI=1,1,0,0,0")
        m.ask('AT+QURCCFG="urcport","usbmodem"')
        with ControlClient.for_endpoints(proc.endpoints) as control:
            m.seen = b""
            control.call("modem_restart", down=0.3)
            for line in (b"RDY\r\n", b"+CFUN: 1\r\n", b"+CPIN: READY\r\n"):
                m.until(line, 5)
            state = control.call("modem_state")
            assert state["cmgf"] == [0, 0] and state["cnmi"] == [2, 1, 0, 0, 0] and state["urc_port"] == "usbat"
            assert m.ask("AT+CMGF?").endswith(b"+CMGF: 0\r\n\r\nOK\r\n")   # echo is back on: factory profile
            control.call("sms_send", to="+15550100", sender="69525", body="after the restart")
            usbat.until(b'+CMTI: "ME",0\r\n', 5)                            # the URC port is usbat again
    finally:
        usbat.port.close()


def test_huawei_reports_ride_inside_answers_until_curc_0(modem_for) -> None:
    proc, m = modem_for("huawei")
    m.ask("ATE0")
    with ControlClient.for_endpoints(proc.endpoints) as control:
        control.call("modem_signal", rssi=9)
        answer = m.ask("AT+CSQ")
        # Inside the answer, each report framed as an information line; or, when the command came later than
        # the modem's hold (a loaded machine), before it as one unsolicited block. Both are what a Huawei sends.
        ridden = answer.startswith(b"\r\n^RSSI: 9\r\n\r\n^HCSQ: \"LTE\",")
        alone = answer.startswith(b"\r\n^RSSI: 9\r\n^HCSQ: \"LTE\",")
        assert (ridden or alone) and answer.endswith(b"\r\n+CSQ: 9,99\r\n\r\nOK\r\n"), answer
        m.seen = b""
        control.call("modem_signal", rssi=15)      # no command comes: the report goes out alone
        m.until(b"\r\n^RSSI: 15\r\n", 5)
        m.ask("AT^CURC=0")
        control.call("modem_signal", rssi=20)
        assert m.ask("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


def test_cfun_1_1_restarts_after_its_ok(modem_for) -> None:
    _, m = modem_for("simcom")
    m.ask("ATE0")
    m.ask("AT+CMGF=1")
    assert m.ask("AT+CFUN=1,1", final=b"PB DONE\r\n").startswith(b"\r\nOK\r\n\r\nRDY\r\n")
    assert m.ask("AT+CMGF?").endswith(b"+CMGF: 0\r\n\r\nOK\r\n")


def test_network_delay_holds_a_message_back(modem_for) -> None:
    proc, m = modem_for("generic")
    m.ask("ATE0")
    m.ask("AT+CNMI=2,1,0,0,0")
    with ControlClient.for_endpoints(proc.endpoints) as control:
        control.call("sms_delay", seconds=1.0)
        m.seen = b""
        sent = time.monotonic()
        assert control.call("sms_send", to="+15550100", sender="69525", body="later")["delivered"]
        assert control.call("modem_inbox")["messages"] == []          # on its way, not there yet
        m.until(b'+CMTI: "SM",1\r\n', 5)
        assert time.monotonic() - sent >= 1.0


@pytest.mark.parametrize("vendor", ["generic", "cinterion"])
def test_emulator_options_delivery_by_cmt_and_a_port_that_goes_away_on_restart(modem_for, vendor: str) -> None:
    """``--modem-delivery cmt``: a message comes as +CMT with no +CNMI from the client; ``--modem-reenumerate``:
    AT+CFUN=1,1 takes the port (a stable name) away, and it comes back under the same name, booting."""
    proc, m = modem_for(vendor, "--modem-delivery", "cmt", "--modem-reenumerate")
    path = proc.endpoints["modem"]
    m.ask("AT+CMGF=1")
    with ControlClient.for_endpoints(proc.endpoints) as control:
        control.call("sms_send", to=proc.endpoints["modem_number"], sender="69525", body="Use 1234 as code")
        assert m.until(b"Use 1234 as code\r\n").count(b"+CMT: ") == 1
        m.port.write(b"AT+CFUN=1,1\r")  # its OK may or may not be read before the port goes: either is right
        deadline = time.monotonic() + 20
        gone = False
        while not gone:  # the port fails under its reader, and its name goes
            assert time.monotonic() < deadline, "the port never went away"
            try:
                m.port.read(4096)
            except serial.SerialException:
                gone = True
        m.port.close()
        while True:
            assert time.monotonic() < deadline, "the port never came back"
            try:
                m.port = serial.Serial(path, timeout=0.05)
                break
            except serial.SerialException:
                control.call("modem_state")  # the emulator still answers while its modem is off the bus
        boot = b"^SYSSTART" if vendor == "cinterion" else b"RDY"
        m.until(boot, timeout=20)
        assert control.call("modem_state")["plugged"] is True
