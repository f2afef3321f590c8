"""Text-mode messages (27.005 3.1 <data>, 3.4.1, 4.1) against the tests' own encoder (sms_encoder.py).

With +CSDH=1 a +CMGR/+CMT header carries <fo> and <dcs>; 7-bit text
without a header comes as characters (the GSM set, +CSCS="GSM"), and
UCS2, 8-bit and any data with a user data header as hex octets of the
whole TP-UD. The driver must read back every field it can see, and join the
parts of a long message as in PDU mode.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import sms_encoder as enc
from harness.modem.at import ModemError
from harness.modem.concat import Part, assemble
from harness.modem.textmode import could_be_hex, parse_text_header, parse_text_listing, text_deliver
from test_pdu import SETTINGS, expected_class, long_messages, messages


def _scts(when: datetime) -> str:
    quarters = int(when.utcoffset().total_seconds() // 900)
    return when.strftime("%y/%m/%d,%H:%M:%S") + ("-" if quarters < 0 else "+") + f"{abs(quarters):02d}"


def _fields(m: enc.Message, septets: bool = False) -> tuple[str, int, int, int, str]:
    """(<oa>, <tooa>, <fo>, <length>, <data>) as a modem in text mode shows ``m`` (27.005 3.1); ``septets``:
    7-bit data in hex with its <length> in septets (TP-UDL), as some modems give it, not in octets."""
    hex_pdu, tpdu_length = enc.encode(m)
    tpdu = bytes.fromhex(hex_pdu)[-tpdu_length:]
    udl_at = 3 + (tpdu[1] + 1) // 2 + 2 + 7  # <fo>, TP-OA (length, type, digits), TP-PID, TP-DCS, TP-SCTS
    ud = tpdu[udl_at + 1:]
    if m.alphabet == "gsm7" and not m.ies:
        data = "".join(chr(s) for s in enc.gsm_septets(m.text))
        length = len(data)
    else:
        data, length = ud.hex().upper(), tpdu[udl_at] if septets else len(ud)
    oa = ("+" + m.sender) if m.ton == 1 else "".join(chr(c) for c in enc.gsm_septets(m.sender)) if m.ton == 5 \
        else m.sender  # an alphanumeric name in the TE character set (+CSCS="GSM")
    return oa, 0x80 | m.ton << 4 | 1, tpdu[0], length, data


def _cmgr(m: enc.Message, septets: bool = False) -> tuple[str, str]:
    oa, tooa, fo, length, data = _fields(m, septets)
    return (f'+CMGR: "REC UNREAD","{oa}",,"{_scts(m.when)}",{tooa},{fo},{m.pid},{m.dcs},"+15559999000",145,'
            f"{length}", data)


@SETTINGS
@given(messages(), st.booleans())
def test_every_field_text_mode_shows_reads_back(m: enc.Message, septets: bool) -> None:
    """<length> of 7-bit hex data in octets cannot tell a last '@' from padding (7 spare bits): not asked."""
    assume(septets or not (m.alphabet == "gsm7" and m.ies and m.text.endswith("@")))
    assume('"' not in m.sender)  # a quote cannot stand inside a quoted <oa> (V.250 5.4.2.2)
    head, data = _cmgr(m, septets)
    header = parse_text_header(head)
    d = text_deliver(header, data)
    assert d is not None
    assert str(d.sender) == (("+" + m.sender) if m.ton == 1 else m.sender) and d.sender.ton == m.ton
    assert d.protocol_id == m.pid
    assert (d.coding.value, d.coding.alphabet, d.coding.message_class) == (m.dcs, m.alphabet, expected_class(m.dcs))
    assert d.timestamp == m.when and d.timestamp.utcoffset() == m.when.utcoffset()
    assert list(d.header) == m.ies
    assert d.payload == m.data if m.alphabet == "8bit" else d.text == m.text
    assert (d.reply_path, d.status_report, d.more_messages) == (m.reply_path, m.status_report, m.more)


@SETTINGS
@given(messages())
def test_a_cmt_delivery_in_text_mode_reads_the_same(m: enc.Message) -> None:
    assume('"' not in m.sender)
    head, data = _cmgr(m, septets=True)
    cmt = "+CMT: " + head.partition(",")[2]  # +CMT: <oa>,[<alpha>],<scts>,<tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length>
    d = text_deliver(parse_text_header(cmt), data)
    assert d is not None and list(d.header) == m.ies
    assert d.payload == m.data if m.alphabet == "8bit" else d.text == m.text


@SETTINGS
@given(long_messages(), st.integers(0, 0xFFFF), st.randoms(use_true_random=False))
def test_text_mode_parts_in_any_order_join_into_the_text_that_was_split(msg: tuple, ref: int, rnd: random.Random) -> None:
    alphabet, text, pieces, sender, bits = msg
    when = datetime(2026, 11, 26, 1, 2, 3, tzinfo=timezone(timedelta(hours=1)))
    ton = 1 if sender.isdigit() else 5
    rows = []
    for seq, piece in enumerate(pieces, 1):
        ies = [enc.concat_ie(ref, len(pieces), seq, bits)] if len(pieces) > 1 else []
        rows.append(_cmgr(enc.Message(sender, ton, when, alphabet, 0x08 if alphabet == "ucs2" else 0x00,
                                      text=piece, ies=ies)))
    rnd.shuffle(rows)
    parts = [Part(text_deliver(parse_text_header(h), data), index=i) for i, (h, data) in enumerate(rows)]
    (whole,), pending = assemble(parts, {}, 0.0, 60.0)
    assert whole.body == text and whole.parts == len(pieces) and not whole.missing and pending == 0


def test_a_listing_says_which_rows_must_be_read_again_for_their_fo_and_dcs() -> None:
    """+CMGL gives <tooa>,<length> but no <fo>/<dcs>: hex is told from text by its length, else by AT+CMGR."""
    ucs2 = "041A043E0434003A00200033003100340031"
    lines = ['+CMGL: 1,"REC UNREAD","Microsoft",,"26/11/24,21:00:00+04",208,18', ucs2,
             '+CMGL: 2,"REC READ","69525",,"26/11/24,21:05:00-08",129,8', "CAFE1234",
             '+CMGL: 3,"REC READ","69525",,"26/11/24,21:06:00+00"', "CAFE",
             '+CMGL: 4,"REC READ",6,12,"+15550100",145,"26/11/24,21:06:00+00","26/11/24,21:06:02+00",0', ""]
    rows = parse_text_listing(lines)
    assert [index for _, index, _ in rows] == [1, 2, 3, 4]
    assert [could_be_hex(h, data) for h, _, data in rows[:3]] == [True, False, True]
    assert rows[3][0] is not None and rows[3][0].report  # a status report, not a message to us
    assert text_deliver(rows[1][0], rows[1][2]).text == "CAFE1234"  # 8 characters: text, though all hex
    assert text_deliver(rows[0][0], rows[0][2]) is None  # only AT+CMGR can say
    d = text_deliver(parse_text_header('+CMGR: "REC READ","Microsoft",,"26/11/24,21:00:00+04",208,4,0,8,'
                                       '"+15559999000",145,18'), ucs2)
    assert d.text == "Код: 3141" and str(d.sender) == "Microsoft"


@pytest.mark.parametrize("head, data, where", [
    ('+CMGR: "REC READ","+15550199",,"26/11/24,21:00:00+04",145,68,0,8,"+1555",145,4', "04ZZ", "<data>"),
    ('+CMGR: "REC READ","+15550199",,"26/11/24,21:00:00+04",145,4,0,8,"+1555",145,6', "041A", "<length>"),
    ('+CMGR: "REC READ","+15550199",,"26/11/24,21:00:00+04",145,4,0,0,"+1555",145,12', "code 1234", "<length>"),
    ('+CMGR: "REC READ","+15550199",,"26/11/24,21:00:00+04",145,68,0,8,"+1555",145,2', "0902", "TP-UDH"),
])
def test_data_that_does_not_match_its_header_is_a_one_line_error_without_the_data(head: str, data: str,
                                                                                   where: str) -> None:
    with pytest.raises(ModemError) as info:
        text_deliver(parse_text_header(head), data)
    assert where in str(info.value) and "\n" not in str(info.value) and data not in str(info.value)
