"""AT response parsing: arbitrary lines and URCs give results or typed errors, never a crash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.modem.at import (
    CmeError, CmsError, ModemError, is_final, is_urc, parse_cmgl, parse_cnum, parse_message_header, parse_scts, raise_for_final,
    split_fields,
)
from harness.power.lcus import lcus_frame
from harness.power.uhubctl import UhubctlSwitch, parse_port_state

LINES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["OK", "ERROR", "+CME ERROR: 10", "+CMS ERROR: 321", '+CMTI: "SM",3', "^RSSI: 17", "RING",
                     '+CMGL: 1,"REC UNREAD","69525",,"26/11/24,21:00:00+04"', "+CMGL: x,y", "+CMGL:", ""]),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(LINES, max_size=12))
def test_cmgl_parsing_never_crashes(lines: list[str]) -> None:
    try:
        for sms in parse_cmgl(lines):
            assert isinstance(sms.body, str) and isinstance(sms.index, int)
    except ModemError as exc:
        assert "malformed" in str(exc)


@settings(max_examples=500, deadline=None)
@given(LINES, st.one_of(st.none(), st.sampled_from(["AT+CREG?", "AT+CMGL=\"ALL\"", "AT+CPIN?"])))
def test_line_classification_never_crashes(line: str, pending: str | None) -> None:
    """Any line: a yes/no answer, a typed error for every final line but OK, fields that rebuild the line."""
    assert isinstance(is_urc(line, pending), bool)
    if is_final(line):
        if line == "OK":
            raise_for_final(line, "AT")
        else:
            with pytest.raises(ModemError):
                raise_for_final(line, "AT")
    fields = split_fields(line)
    if '"' not in line:
        assert ",".join(fields) == ",".join(part.strip(" ") for part in line.split(","))
    stamp = parse_scts(line)
    assert stamp is None or stamp.tzinfo is not None


def test_final_results_become_typed_errors_with_the_code() -> None:
    with pytest.raises(CmeError) as cme:
        raise_for_final("+CME ERROR: 10", "AT+CPIN?")
    assert cme.value.code == "10"
    with pytest.raises(CmsError) as cms:
        raise_for_final("+CMS ERROR: 321", "AT+CMGR=9")
    assert cms.value.code == "321" and "AT+CMGR=9" in str(cms.value)


def test_urcs_are_told_apart_from_answers() -> None:
    assert is_urc('+CMTI: "SM",4') and is_urc("^RSSI: 20") and is_urc("RING")
    assert is_urc("+CREG: 1") and not is_urc("+CREG: 0,1", pending="AT+CREG?")
    assert not is_urc('+CMGL: 1,"REC READ","x",,"26/01/01,00:00:00+00"')


def test_text_mode_listing_with_extra_fields_empty_bodies_and_zones() -> None:
    lines = ['+CMGL: 1,"REC UNREAD","69525",,"26/11/24,21:00:00+04",145,38', "Use 1234567 as code",
             '+CMGL: 2,"REC READ","Microsoft","","26/11/24,21:05:00-08"', "",
             '+CMGL: 3,"REC READ","+15550199",,"26/11/24,21:06:00+00"', "OK is not a result here"]
    messages = parse_cmgl(lines)
    assert [m.index for m in messages] == [1, 2, 3]
    assert messages[0].timestamp.utcoffset() == timedelta(hours=1)
    assert messages[1].body == "" and messages[1].timestamp.utcoffset() == timedelta(hours=-2)
    assert messages[2].body == "OK is not a result here"
    assert parse_message_header('+CMGR: "REC READ","69525",,"26/11/24,21:00:00+00"', with_index=False)[2] == "69525"


def test_own_numbers_from_cnum_in_the_forms_modems_use() -> None:
    lines = ['+CNUM: "","+15550100",145', '+CNUM: "Voice","15550142",145,,4', '+CNUM: ,"5550199",129',
             "+CNUM: ", '+CNUM: "Fax","",129']
    assert parse_cnum(lines) == ["+15550100", "+15550142", "5550199"]
    assert parse_cnum([]) == []


def test_lcus_frames_and_uhubctl_parsing() -> None:
    assert lcus_frame(1, True) == bytes.fromhex("A00101A2") and lcus_frame(1, False) == bytes.fromhex("A00100A1")
    assert lcus_frame(4, True) == bytes.fromhex("A00401A5")
    out = "Current status for hub 1-1 [2109:2813]\n  Port 1: 0503 power highspeed enable connect [0bda:8153]\n  Port 2: 0000 off\n"
    assert parse_port_state(out, 1) is True and parse_port_state(out, 2) is False and parse_port_state(out, 3) is None
    assert UhubctlSwitch("1-1", 4).command(2, "off") == ["uhubctl", "-l", "1-1", "-p", "2", "-a", "off"]
