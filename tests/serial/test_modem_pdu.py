"""The driver in PDU mode against a modem on a pty (pdu_modem.py): codes in multipart UCS2 messages from an
alphanumeric sender, stored (+CMTI) or delivered (+CMT), and a log that holds no PDU and no code."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sms_encoder as enc
from harness.modem import GsmModem
from harness.secrets import reveal
from harness.serial_port import SerialPort
from pdu_modem import PduModem

CODE = "834519"
TEXT = f"Votre code de sécurité Microsoft est {CODE}. Ne le communiquez à personne — l’équipe Microsoft 🔐"


@pytest.fixture
def pdu_modem(tmp_path: Path) -> Iterator[PduModem]:
    m = PduModem(tmp_path / "ttyMODEM")
    yield m
    m.close()


def two_part_ucs2(ref: int = 0x4242, when: datetime | None = None) -> list[enc.Message]:
    when = when or datetime.now(timezone.utc).replace(microsecond=0)
    units = TEXT.encode("utf-16-be")
    cut = 2 * (TEXT.index(CODE) + 3)  # the code is cut in two by the part boundary: only the whole message has it
    pieces = [units[:cut].decode("utf-16-be"), units[cut:].decode("utf-16-be")]
    assert len(units) - cut <= 2 * 67 and all(CODE not in p for p in pieces)
    return [enc.Message("Microsoft", 5, when, "ucs2", 0x08, text=p, ies=[enc.concat_ie(ref, 2, i, 16)])
            for i, p in enumerate(pieces, 1)]


def test_a_code_in_a_two_part_ucs2_message_from_an_alphanumeric_sender_stored_by_cmti(
        pdu_modem: PduModem, tmp_path: Path) -> None:
    modem = GsmModem(SerialPort(str(pdu_modem.link)), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        assert modem.mode == "pdu"
        second, first = two_part_ucs2()[::-1]
        pdu_modem.store(second)  # parts stored out of order, a listing in between
        threading.Timer(0.5, pdu_modem.store, (first,)).start()
        code = modem.wait_for_access_code(timeout=15, poll=0.2)
        assert reveal(code) == CODE
        assert pdu_modem.stored == {}  # both parts deleted
    finally:
        modem.close()
    log = (tmp_path / "modem.log").read_text()
    assert "AT+CMGL=4" in log and "<pdu " in log and CODE not in log
    assert not any(len(word) >= 24 and all(c in "0123456789ABCDEF" for c in word) for word in log.split())


def test_a_code_delivered_by_cmt_in_two_parts(pdu_modem: PduModem, tmp_path: Path) -> None:
    modem = GsmModem(SerialPort(str(pdu_modem.link)), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        for part in two_part_ucs2():
            pdu_modem.deliver(part)
        assert reveal(modem.wait_for_access_code(timeout=10, poll=0.2)) == CODE
        assert not modem.delivered  # the parts used are forgotten
    finally:
        modem.close()
    assert CODE not in (tmp_path / "modem.log").read_text()


def test_only_one_part_is_not_a_code_and_the_error_says_a_part_is_missing(pdu_modem: PduModem, tmp_path: Path) -> None:
    modem = GsmModem(SerialPort(str(pdu_modem.link)), timeout=2.0, part_timeout=30).open()
    try:
        pdu_modem.store(two_part_ucs2()[1])  # the half that holds the code
        with pytest.raises(TimeoutError) as info:
            modem.wait_for_access_code(timeout=2, poll=0.2)
        assert "1 multipart message(s) still missing parts" in str(info.value)
    finally:
        modem.close()


def test_a_damaged_pdu_beside_the_code_is_a_note_not_a_failure(pdu_modem: PduModem, tmp_path: Path) -> None:
    modem = GsmModem(SerialPort(str(pdu_modem.link)), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        bad = pdu_modem.store(enc.Message("Microsoft", 5, datetime.now(timezone.utc), "gsm7", 0, text="x"))
        hex_pdu, length = pdu_modem.stored[bad]
        pdu_modem.stored[bad] = (hex_pdu[:-4], length)  # cut short
        for part in two_part_ucs2():
            pdu_modem.store(part)
        assert reveal(modem.wait_for_access_code(timeout=10, poll=0.2)) == CODE
    finally:
        modem.close()
    assert "malformed SMS-DELIVER PDU" in (tmp_path / "modem.log").read_text()


def test_a_modem_without_pdu_mode_is_read_in_text_mode(tmp_path: Path) -> None:
    m = PduModem(tmp_path / "ttyTEXT", pdu=False)
    modem = GsmModem(SerialPort(str(m.link)), timeout=2.0, log_path=tmp_path / "modem.log").open()
    try:
        assert modem.mode == "text"
        assert "AT+CMGF=1" in m.commands and "AT+CMGF=0" not in m.commands  # its +CMGF=? list had no 0
    finally:
        modem.close()
        m.close()


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(sender=st.sampled_from([("Microsoft", 5), ("15550199", 1), ("69525", 2), ("Mi€ro{}", 5)]),
       alphabet=st.sampled_from(["gsm7", "ucs2"]), text=st.text(alphabet=enc.GSM_CHARS.replace("\r", "").replace(
           "\n", ""), max_size=60), zone=st.integers(-48, 56))
def test_cmt_deliveries_read_back_field_for_field(cmt_modem: tuple[PduModem, GsmModem], sender: tuple[str, int],
                                                  alphabet: str, text: str, zone: int) -> None:
    device, modem = cmt_modem
    when = datetime(2026, 11, 26, 3, 4, 5, tzinfo=timezone(timedelta(minutes=15 * zone)))
    device.deliver(enc.Message(sender[0], sender[1], when, alphabet, 0x08 if alphabet == "ucs2" else 0x00,
                               text=text))
    with modem._link.cond:
        assert modem._link.cond.wait_for(lambda: len(modem.delivered) > 0, timeout=5)
        delivered = list(modem.delivered)
        modem.delivered.clear()
    (sms,) = modem.inbox.messages(delivered=delivered, status="ALL")
    assert sms.sender == ("+" + sender[0] if sender[1] == 1 else sender[0])
    assert sms.body == text and sms.timestamp == when and sms.timestamp.utcoffset() == when.utcoffset()
    assert sms.coding == alphabet and sms.stored == ()


@pytest.fixture(scope="module")
def cmt_modem(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PduModem, GsmModem]]:
    device = PduModem(tmp_path_factory.mktemp("cmt") / "ttyCMT")
    modem = GsmModem(SerialPort(str(device.link)), timeout=2.0).open()
    yield device, modem
    modem.close()
    device.close()


@pytest.mark.parametrize("how", ["restart lines", "port gone and back"])
def test_a_modem_that_restarts_during_the_wait_is_set_up_again(pdu_modem: PduModem, tmp_path: Path, how: str) -> None:
    """Back in text mode after the restart, the modem would refuse PDU listings: the driver sets it up again."""
    modem = GsmModem(SerialPort(str(pdu_modem.link)), timeout=1.0, log_path=tmp_path / "modem.log").open()

    def restart_then_store() -> None:
        if how == "restart lines":
            pdu_modem.restart()
        else:
            pdu_modem.lose_port()
            time.sleep(0.5)  # the port stays away a while, as a USB modem's does when it resets
            pdu_modem.come_back()
        assert pdu_modem.setup_done.wait(10), "the driver set the modem up again"
        for part in two_part_ucs2():
            pdu_modem.store(part)

    try:
        worker = threading.Thread(target=restart_then_store)
        worker.start()
        try:
            assert reveal(modem.wait_for_access_code(timeout=20, poll=0.2)) == CODE
        finally:
            worker.join()
        assert modem.mode == "pdu" and not pdu_modem.text_mode
    finally:
        modem.close()
    log = (tmp_path / "modem.log").read_text()
    assert ("port went away" if how != "restart lines" else "restarted (it said so)") in log
