"""Fault matrix: a hostile modem (a pty written here) and the emulated modem with its faults.

For each case: the operation ends within its deadline (plus ALLOWANCE), any
error is typed and one bounded line naming what was expected and what was
seen, no canary access code reaches modem.log, any other file or the error,
and memory stays under a stated cap while the modem floods.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from pathlib import Path
from typing import Iterator

import pytest
from faultlab import Canary, FaultLab, assert_no_canary, assert_one_line_error
from hostile_modem import HostileModem

from harness.emulator.control import ControlClient
from harness.errors import HarnessTimeout
from harness.modem import CmsError, GsmModem, ModemError, ModemTimeout
from harness.serial_port import SerialPort

#: How far past its deadline an operation may end (thread wake-ups, a loaded machine).
ALLOWANCE = 8.0
#: Python memory the driver may hold while a modem floods it: one endless line (many times this much comes),
#: and a 2 MiB answer of many lines to a driver told to keep 64 KiB of an answer (the old driver kept it all).
FLOOD_CAP_MIB = 2
FLOOD_LINES_CAP_MIB = 1.5
#: Peak resident memory of a whole `harness sms` run against a flooding modem.
CLI_RSS_CAP_MIB = 200
QUICK = ("--animation-ms", "0", "--boot-time", "0.3", "--signin-delay", "0.1")


@pytest.fixture
def hostile() -> Iterator[HostileModem]:
    modem = HostileModem(seed=12)
    yield modem
    modem.close()


def code_message(code: str) -> str:
    return f"Use {code} as Microsoft account security code"


def one_line(exc: BaseException, *words: str) -> str:
    return assert_one_line_error(str(exc), *words, max_chars=500)


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def within(self, deadline: float) -> float:
        elapsed = time.monotonic() - self.started
        assert elapsed <= deadline + ALLOWANCE, f"expected to end within {deadline}s (+{ALLOWANCE}); took {elapsed:.1f}s"
        return elapsed


# ------------------------------------------------------------------ silence, garbage

@pytest.mark.parametrize("fault", ["silent", "garbage"])
def test_a_modem_that_never_answers_properly_fails_set_up_at_its_deadline(hostile, fault, tmp_path) -> None:
    setattr(hostile, fault, True)
    clock = Clock()
    with pytest.raises(ModemTimeout) as info:
        GsmModem(SerialPort(hostile.path), timeout=1.0, setup_timeout=3.0, log_path=tmp_path / "modem.log").open()
    clock.within(3.0)
    one_line(info.value, "OK to AT", "saw")
    assert len(hostile.commands) >= 2, "set-up tries again within its deadline"


def test_a_modem_refusing_at_gets_a_few_tries_a_second_and_the_error_says_what_it_answered(hostile, tmp_path) -> None:
    hostile.replies["AT"] = b"\r\nERROR\r\n"  # answers at once, as a modem still booting may
    with pytest.raises(ModemTimeout) as info:
        GsmModem(SerialPort(hostile.path), timeout=1.0, setup_timeout=2.0, log_path=tmp_path / "modem.log").open()
    one_line(info.value, "OK to AT", "ERROR")
    # paced: a handful of ATs in 2 s (a driver that retries at once sends hundreds)
    assert 2 <= len(hostile.commands) <= 20, f"{len(hostile.commands)} ATs in 2 s"


# ------------------------------------------------------------------ floods

def _flooded(run) -> tuple[BaseException, float]:
    tracemalloc.start()
    try:
        with pytest.raises((HarnessTimeout, ModemError)) as info:
            run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak / (1 << 20)


def test_a_modem_flooding_one_endless_line_costs_the_deadline_and_bounded_memory(hostile, tmp_path, canary) -> None:
    modem = GsmModem(SerialPort(hostile.path), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        hostile.flood_on, hostile.flood_kind = "AT+CMGL", "line"
        clock = Clock()
        error, peak_mib = _flooded(lambda: modem.wait_for_access_code(timeout=4, poll=0.2))
        clock.within(4)
    finally:
        modem.close()
    assert isinstance(error, HarnessTimeout), error
    one_line(error, "an SMS from", "saw")
    assert peak_mib < FLOOD_CAP_MIB, f"driver held {peak_mib:.1f} MiB while {hostile.sent >> 20} MiB came"
    assert hostile.sent > 4 * (FLOOD_CAP_MIB << 20), f"the flood was only {hostile.sent} bytes"
    assert "bytes of a line without end" in str(error)
    assert (tmp_path / "modem.log").stat().st_size < 17 << 20


def test_a_modem_flooding_an_answer_gets_a_bounded_typed_error(hostile, tmp_path) -> None:
    modem = GsmModem(SerialPort(hostile.path), timeout=2.0, log_path=tmp_path / "modem.log", max_answer=64 << 10).open()
    try:
        hostile.flood_on, hostile.flood_kind, hostile.flood_limit = "AT+CMGL", "lines", 2 << 20
        clock = Clock()
        error, peak_mib = _flooded(lambda: modem.list_messages(timeout=60))
        clock.within(60)
    finally:
        modem.close()
    assert type(error) is ModemError, error
    one_line(error, "AT+CMGL", "expected an answer of at most", "saw")
    assert peak_mib < FLOOD_LINES_CAP_MIB, f"driver held {peak_mib:.1f} MiB while {hostile.sent >> 20} MiB came"
    assert (tmp_path / "modem.log").stat().st_size < 17 << 20


def startup(fault: FaultLab) -> float:
    """How long `harness` takes to start and end here and now (the interpreter and imports, on a loaded machine)."""
    run = fault.run("--version", deadline=60)
    assert run.rc == 0, run.describe()
    return run.elapsed


def test_harness_sms_against_a_flooding_modem_ends_with_one_line_and_bounded_memory(fault: FaultLab, hostile) -> None:
    hostile.flood_on, hostile.flood_kind = "AT+CMGL", "line"
    run = fault.run("sms", "--port", hostile.path, "--timeout", "6", deadline=6 + ALLOWANCE + 30)
    assert not run.timed_out and run.rc != 0, run.describe()
    assert run.elapsed <= 6 + ALLOWANCE + startup(fault), run.describe()
    assert_one_line_error(run.stderr, "AT+CMGL", "saw")
    assert run.peak_rss_mib < CLI_RSS_CAP_MIB, run.describe()


@pytest.mark.parametrize("fault_kind", ["silent", "garbage"])
def test_harness_sms_against_a_silent_or_garbled_modem_says_what_it_expected(fault: FaultLab, hostile, fault_kind) -> None:
    setattr(hostile, fault_kind, True)
    run = fault.run("sms", "--port", hostile.path, "--timeout", "5", deadline=5 + ALLOWANCE + 30)
    assert not run.timed_out and run.rc != 0, run.describe()
    assert run.elapsed <= 5 + ALLOWANCE + startup(fault), run.describe()
    assert_one_line_error(run.stderr, "OK to AT", "saw")


# ------------------------------------------------------------------ +CMT, noise, slowness (hostile pty)

def test_a_code_delivered_by_cmt_is_read_and_never_logged(hostile, tmp_path, canary: Canary) -> None:
    modem = GsmModem(SerialPort(hostile.path), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        hostile.store("+15550199", "see you at 1900")
        hostile.deliver("69525", code_message(canary.code))
        clock = Clock()
        assert modem.wait_for_access_code(timeout=5, poll=0.2).reveal() == canary.code
        clock.within(5)
    finally:
        modem.close()
    log = (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert "+CMT:" in log and "stray" not in log, log[-800:]
    assert assert_no_canary(canary, [tmp_path]) >= 1


def test_set_up_and_the_code_through_line_noise(hostile, tmp_path, canary: Canary) -> None:
    hostile.noise = 0.02
    hostile.store("69525", code_message(canary.code))
    clock = Clock()
    modem = GsmModem(SerialPort(hostile.path), timeout=2.0, setup_timeout=20, log_path=tmp_path / "modem.log").open()
    try:
        assert modem.wait_for_access_code(timeout=20, poll=0.2).reveal() == canary.code
    finally:
        modem.close()
    clock.within(40)
    assert assert_no_canary(canary, [tmp_path]) >= 1


def test_a_delete_that_times_out_after_the_code_is_read_is_a_warning(hostile, tmp_path, canary, caplog) -> None:
    modem = GsmModem(SerialPort(hostile.path), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        hostile.store("69525", code_message(canary.code))
        hostile.slow = 2.5  # within a listing's 10 s, past a delete's 2 s
        clock = Clock()
        with caplog.at_level(logging.WARNING, logger="harness.modem"):
            assert modem.wait_for_access_code(timeout=20).reveal() == canary.code
        clock.within(2.5 + 2.5 + 2.0)  # the listing, the second read that confirms the code, the delete
        assert "could not delete message 1" in caplog.text
        hostile.slow = 0
        assert modem.command("AT", timeout=5) == []
    finally:
        modem.close()
    assert "could not delete message 1" in (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert_no_canary(canary, [tmp_path], [caplog.text])


def test_cms_error_is_a_final_result_not_a_timeout(hostile, tmp_path) -> None:
    modem = GsmModem(SerialPort(hostile.path), timeout=5.0, log_path=tmp_path / "modem.log").open()
    try:
        clock = Clock()
        with pytest.raises(CmsError) as info:
            modem.delete(7)
        assert clock.within(0) < 1.0
    finally:
        modem.close()
    assert info.value.code == "321"
    one_line(info.value, "AT+CMGD=7", "+CMS ERROR: 321")


@pytest.mark.parametrize("reply, words", [(b"\r\nERROR" + b"\xff7" * 50_000 + b"\r\n", ("expected OK", "saw")),
                                          (b"\r\n+CMS ERROR: " + b"9" * 100_000 + b"\r\n", ("+CMS ERROR: 999",)),
                                          (b"\r\n+CMGL: x" + b",y" * 50_000 + b"\r\n\r\nOK\r\n", ("malformed",))])
def test_a_long_error_or_malformed_answer_is_quoted_short(hostile, tmp_path, reply, words) -> None:
    modem = GsmModem(SerialPort(hostile.path), timeout=3.0, log_path=tmp_path / "modem.log").open()
    try:
        hostile.replies["AT+CMGL"] = reply
        clock = Clock()
        with pytest.raises(ModemError) as info:
            modem.list_messages(timeout=3)
        clock.within(3)
    finally:
        modem.close()
    one_line(info.value, "AT+CMGL" if b"+CMGL" not in reply else "+CMGL: x", *words)


# ------------------------------------------------------------------ the emulated modem with its faults

@pytest.fixture
def emulated(fault: FaultLab):
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    with ControlClient.for_endpoints(handset.endpoints) as control:
        yield handset.endpoints, control


def test_emulated_modem_noise_from_the_start(emulated, tmp_path, canary: Canary) -> None:
    endpoints, control = emulated
    control.call("modem_fault", kind="noise", rate=0.02, seed=5)
    clock = Clock()
    modem = GsmModem(SerialPort(endpoints["modem"]), timeout=2.0, setup_timeout=20, log_path=tmp_path / "modem.log").open()
    try:
        since = time.time()
        control.call("sms_send", to="+15550100", sender="69525", body=code_message(canary.code))
        assert modem.wait_for_access_code(since=since, timeout=20, poll=0.3).reveal() == canary.code
    finally:
        modem.close()
    clock.within(40)
    assert assert_no_canary(canary, [tmp_path]) >= 1


def test_emulated_modem_slow_6s_the_code_is_read_and_the_delete_is_a_warning(emulated, tmp_path, canary) -> None:
    endpoints, control = emulated
    modem = GsmModem(SerialPort(endpoints["modem"]), log_path=tmp_path / "modem.log").open()  # the default 5 s a command
    try:
        control.call("modem_slow", seconds=6)
        since = time.time()
        control.call("sms_send", to="+15550100", sender="69525", body=code_message(canary.code))
        clock = Clock()
        assert modem.wait_for_access_code(since=since, timeout=30).reveal() == canary.code
        clock.within(6 + 6 + 5)  # a late +CMTI's listing, the listing with the code, the delete's 5 s
        control.call("modem_slow", seconds=0)
        assert modem.command("AT", timeout=10) == []  # back in step after the late answers
    finally:
        modem.close()
    assert "could not delete" in (tmp_path / "modem.log").read_text(encoding="utf-8")
    assert_no_canary(canary, [tmp_path])


def test_emulated_modem_slow_1_5s_keeps_answering(emulated, tmp_path) -> None:
    """Slow before the port is even opened: the output held for a new reader is released while commands keep coming."""
    endpoints, control = emulated
    control.call("modem_slow", seconds=1.5)
    clock = Clock()
    modem = GsmModem(SerialPort(endpoints["modem"]), setup_timeout=40, log_path=tmp_path / "modem.log").open()
    clock.within(40)
    try:
        with pytest.raises(ModemTimeout):
            modem.command("AT", timeout=0.3)  # input keeps coming while an answer is held back
        for _ in range(3):
            clock = Clock()
            assert modem.command("AT+CMGF=1", timeout=5) == []
            clock.within(1.5 + 1.5)
        control.call("modem_slow", seconds=0)
        clock = Clock()
        assert modem.command("AT", timeout=5) == []
        assert clock.within(0) < 1.0
    finally:
        modem.close()


def test_emulated_modem_slow_1_5s_answers_a_client_that_keeps_sending(emulated) -> None:
    """Commands every 0.4 s to a modem taking 1.5 s each, from the moment the port opens: answers keep flowing."""
    import serial

    endpoints, control = emulated
    control.call("modem_slow", seconds=1.5)
    port = serial.serial_for_url(endpoints["modem"], timeout=0.05)
    received = b""
    try:
        ends = time.monotonic() + 6
        while time.monotonic() < ends:
            port.write(b"AT\r")
            until = time.monotonic() + 0.4
            while time.monotonic() < until:
                received += port.read(4096)
    finally:
        port.close()
    assert received.count(b"OK") >= 2, f"expected answers while the client keeps sending; saw {received[-200:]!r}"


def test_emulated_modem_delivering_by_cmt(emulated, tmp_path, canary: Canary) -> None:
    endpoints, control = emulated
    modem = GsmModem(SerialPort(endpoints["modem"]), log_path=tmp_path / "modem.log").open()
    try:
        modem.command("AT+CNMI=2,2,0,0,0")  # a lab's modem set to route texts to the terminal
        since = time.time()
        control.call("sms_send", to="+15550100", sender="69525", body=code_message(canary.code))
        assert modem.wait_for_access_code(since=since, timeout=10, poll=0.3).reveal() == canary.code
        assert control.call("modem_inbox")["messages"] == []  # it was never stored
    finally:
        modem.close()
    assert "+CMT:" in Path(tmp_path / "modem.log").read_text(encoding="utf-8")
    assert_no_canary(canary, [tmp_path])
