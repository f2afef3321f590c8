"""The PDU decoder and multipart joining against an encoder written in the tests (sms_encoder.py).

Every field of an SMS-DELIVER that the encoder writes, the driver must read
back; parts of a long message, in any order, must come back as the text
that was split; bytes that are not a PDU must give a one-line PduError.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.modem.concat import Part, assemble
from harness.modem.pdu import PduError, decode_deliver
import sms_encoder as enc

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

# Which TP-DCS octets mean which alphabet (23.038 4), and the class each gives.
DCS = {
    "gsm7": [0x00, 0x0C, 0x10, 0x11, 0x12, 0x13, 0x40, 0x50, 0x53, 0x80, 0xB7, 0xC0, 0xC8, 0xD3, 0xF0, 0xF1, 0xF2, 0xF3],
    "8bit": [0x04, 0x14, 0x15, 0x16, 0x17, 0x44, 0x56, 0xF4, 0xF5, 0xF6, 0xF7],
    "ucs2": [0x08, 0x18, 0x19, 0x1A, 0x1B, 0x48, 0x5A, 0xE0, 0xE8],
}


def expected_class(dcs: int) -> int | None:
    if dcs >> 6 in (0, 1):
        return dcs & 3 if dcs & 0x10 else None
    return dcs & 3 if dcs >> 4 == 0xF else None


gsm_text = st.text(alphabet=enc.GSM_CHARS, max_size=40)
ucs2_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)  # astral planes included
zones = st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
stamps = st.builds(lambda dt, tz: dt.replace(tzinfo=tz),
                   st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
                       lambda d: d.replace(microsecond=0)), zones)
senders = st.one_of(
    st.tuples(st.text("0123456789", min_size=1, max_size=15), st.just(1)),   # international
    st.tuples(st.text("0123456789", min_size=1, max_size=12), st.just(2)),   # national
    st.tuples(st.text("0123456789*#", min_size=1, max_size=10), st.just(0)),  # unknown, with * and #
    st.tuples(st.text(alphabet=enc.GSM_CHARS.replace("\x1b", ""), min_size=1, max_size=11).filter(
        lambda s: len(enc.gsm_septets(s)) <= 11), st.just(5)),               # alphanumeric
)
other_ies = st.lists(st.tuples(st.sampled_from([0x01, 0x05, 0x0A, 0x24, 0x70]), st.binary(max_size=4)), max_size=2)


@st.composite
def messages(draw: st.DrawFn) -> enc.Message:
    alphabet = draw(st.sampled_from(["gsm7", "8bit", "ucs2"]))
    sender, ton = draw(senders)
    ies = draw(other_ies)
    if draw(st.booleans()):
        total = draw(st.integers(1, 9))
        ies.insert(draw(st.integers(0, len(ies))), enc.concat_ie(draw(st.integers(0, 0xFFFF)), total,
                                                                  draw(st.integers(1, total)), draw(st.sampled_from([8, 16]))))
    m = enc.Message(sender, ton, draw(stamps), alphabet, draw(st.sampled_from(DCS[alphabet])), ies=ies,
                    pid=draw(st.sampled_from([0x00, 0x39, 0x41, 0x7F])),
                    smsc=draw(st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=15))),
                    reply_path=draw(st.booleans()), status_report=draw(st.booleans()), more=draw(st.booleans()))
    if alphabet == "gsm7":
        m.text = draw(gsm_text)
    elif alphabet == "ucs2":
        m.text = draw(ucs2_text)
    else:
        m.data = draw(st.binary(max_size=60))
    return m


@SETTINGS
@given(messages())
def test_every_field_of_an_sms_deliver_reads_back(m: enc.Message) -> None:
    hex_pdu, length = enc.encode(m)
    d = decode_deliver(hex_pdu, length)
    assert d.sender.text == m.sender and d.sender.ton == m.ton
    assert str(d.sender) == (("+" + m.sender) if m.ton == 1 else m.sender)
    assert (d.smsc.text if d.smsc else None) == (m.smsc or None)
    assert d.protocol_id == m.pid
    assert (d.coding.value, d.coding.alphabet, d.coding.message_class) == (m.dcs, m.alphabet, expected_class(m.dcs))
    assert d.timestamp == m.when and d.timestamp.utcoffset() == m.when.utcoffset()
    assert list(d.header) == m.ies
    if m.alphabet == "8bit":
        assert d.payload == m.data
    else:
        assert d.text == m.text
    assert (d.reply_path, d.status_report, d.more_messages) == (m.reply_path, m.status_report, m.more)
    concat = [ie for ie in m.ies if ie[0] in (0x00, 0x08)]
    if concat:
        iei, data = concat[0]
        ref = data[0] if iei == 0 else int.from_bytes(data[:2], "big")
        assert d.concat is not None
        assert (d.concat.reference, d.concat.total, d.concat.sequence) == (ref, data[-2], data[-1])
    else:
        assert d.concat is None


@SETTINGS
@given(messages())
def test_a_pdu_without_its_service_centre_address_reads_the_same(m: enc.Message) -> None:
    hex_pdu, length = enc.encode(m)
    with_sca = decode_deliver(hex_pdu, length)
    sca_octets = int(hex_pdu[:2], 16) + 1
    without = decode_deliver(hex_pdu[2 * sca_octets:], length)
    assert without.smsc is None
    assert (without.sender, without.timestamp, without.payload, without.header) == \
        (with_sca.sender, with_sca.timestamp, with_sca.payload, with_sca.header)


@st.composite
def long_messages(draw: st.DrawFn) -> tuple[str, str, list[str], str, int]:
    alphabet = draw(st.sampled_from(["gsm7", "ucs2"]))
    text = draw(st.text(alphabet=enc.GSM_CHARS, min_size=1, max_size=400) if alphabet == "gsm7"
                else st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
    per_part = draw(st.integers(5, 153 if alphabet == "gsm7" else 67))
    parts = enc.split(text, alphabet, per_part)
    sender = draw(st.sampled_from(["Microsoft", "MSFT-Code", "4915550199", "69525"]))
    return alphabet, text, parts, sender, draw(st.sampled_from([8, 16]))


@SETTINGS
@given(long_messages(), st.integers(0, 0xFFFF), st.randoms(use_true_random=False))
def test_parts_in_any_order_join_into_the_text_that_was_split(msg: tuple, ref: int, rnd: random.Random) -> None:
    alphabet, text, pieces, sender, bits = msg
    when = datetime(2026, 11, 26, 1, 2, 3, tzinfo=timezone(timedelta(hours=1)))
    ton = 1 if sender.isdigit() else 5
    encoded = []
    for seq, piece in enumerate(pieces, 1):
        ies = [enc.concat_ie(ref, len(pieces), seq, bits)] if len(pieces) > 1 else []
        m = enc.Message(sender, ton, when + timedelta(seconds=seq), alphabet, 0x08 if alphabet == "ucs2" else 0x00,
                        text=piece, ies=ies)
        encoded.append(enc.encode(m))
    # another sender's message with the same reference must not be mixed in
    stray = enc.Message("Contoso", 5, when, alphabet, 0x08 if alphabet == "ucs2" else 0x00, text="x",
                        ies=[enc.concat_ie(ref, len(pieces), 1, bits)] if len(pieces) > 1 else [])
    encoded.append(enc.encode(stray))
    rnd.shuffle(encoded)
    parts = [Part(decode_deliver(h, n), index=i) for i, (h, n) in enumerate(encoded)]
    whole, pending = assemble(parts, {}, 0.0, 60.0)
    mine = [s for s in whole if s.sender in (sender, "+" + sender)]
    assert len(mine) == 1 and mine[0].body == text
    assert mine[0].parts == len(pieces) and not mine[0].missing
    assert mine[0].timestamp == when + timedelta(seconds=len(pieces))
    assert pending == (1 if len(pieces) > 1 else 0)  # the stray's part 1 of n waits for the rest
    assert sorted(mine[0].stored) == sorted(p.index for p in parts if str(p.deliver.sender) == mine[0].sender)


def test_a_missing_part_is_waited_for_until_its_deadline_then_shown_as_missing() -> None:
    when = datetime(2026, 11, 26, 1, 2, 3, tzinfo=timezone.utc)
    pieces = ["Votre code Microsoft est ", "834519. Ne le partagez pas."]
    parts = [Part(decode_deliver(*enc.encode(enc.Message("Microsoft", 5, when, "ucs2", 0x08, text=pieces[0],
                                                         ies=[enc.concat_ie(7, 3, 1, 8)]))), index=1),
             Part(decode_deliver(*enc.encode(enc.Message("Microsoft", 5, when, "ucs2", 0x08, text=pieces[1],
                                                         ies=[enc.concat_ie(7, 3, 3, 8)]))), index=2)]
    seen: dict[tuple, float] = {}
    assert assemble(parts, seen, 100.0, 30.0) == ([], 1)
    assert assemble(parts, seen, 129.0, 30.0) == ([], 1)
    (late,), pending = assemble(parts, seen, 130.0, 30.0)
    assert pending == 0 and late.missing == (2,) and late.parts == 3
    assert late.body == pieces[0] + "[part 2 of 3 missing]" + pieces[1]


def test_a_pdu_from_the_literature_decodes() -> None:
    """A widely published example (SMSC +27381000015, sender 27838890001, "hellohello", zone +2 h)."""
    d = decode_deliver("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37", 28)
    assert d.smsc is not None and str(d.smsc) == "+27381000015"
    assert d.sender.text == "27838890001" and d.text == "hellohello"
    assert (d.timestamp.month, d.timestamp.day, d.timestamp.hour, d.timestamp.minute, d.timestamp.second) == \
        (3, 29, 15, 16, 59)
    assert d.timestamp.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("pdu, length, where", [
    ("0791", None, "SMSC"),                                               # cut inside the service centre address
    ("07917283010010F5040BC87238880900F10000993092516195800AE8329B", 28, "<length>"),  # shorter than its header says
    ("07917283010010F5040BC87238880900F10000993092516195800AE8329B", None, "TP-UD"),  # user data cut short
    ("07917283010010F5010BC87238880900F10000993092516195800AE8329BFD4697D9EC37", None, "TP-MTI"),  # an SMS-SUBMIT
    ("07917283010010F5040BC87238880900F10000993092516195800AZZ329BFD4697D9EC37", None, "PDU"),  # not hex
    ("07917283010010F5040BC87238880900F10000991392516195800AE8329BFD4697D9EC37", None, "TP-SCTS"),  # month 31
    ("07917283010010F5040BC87238880900F10020993092516195800AE8329BFD4697D9EC37", None, "TP-DCS"),  # compressed
    ("07917283010010F5440BC87238880900F10000993092516195800AE8329BFD4697D9EC37", None, "TP-UDH"),  # header too long
    ("0791" + "00" * 400, None, "PDU"),                                    # over the size limit
])
def test_malformed_pdus_give_a_one_line_error_naming_the_field(pdu: str, length: int | None, where: str) -> None:
    with pytest.raises(PduError) as info:
        decode_deliver(pdu, length)
    message = str(info.value)
    assert where in message and "\n" not in message and len(message) < 200
    assert "E8329B" not in message.upper()  # the message's content is never quoted


@settings(max_examples=500, deadline=None, derandomize=True)
@given(messages(), st.data())
def test_damaged_pdus_decode_or_fail_typed_never_crash(m: enc.Message, data: st.DataObject) -> None:
    hex_pdu, length = enc.encode(m)
    raw = bytearray(bytes.fromhex(hex_pdu))
    how = data.draw(st.sampled_from(["cut", "flip", "insert", "garbage"]))
    if how == "cut":
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    elif how == "flip":
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "insert":
        raw.insert(data.draw(st.integers(0, len(raw))), data.draw(st.integers(0, 255)))
    else:
        raw = bytearray(data.draw(st.binary(max_size=250)))
    try:
        decode_deliver(raw.hex(), data.draw(st.one_of(st.none(), st.just(length))))
    except PduError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200


@pytest.mark.parametrize("per_part", [1, 3, 5, 67])
def test_a_surrogate_pair_split_between_two_parts_is_one_character(per_part: int) -> None:
    text = "🔐🔐 Microsoft: 834519 ✓"  # the lock is a surrogate pair in UTF-16
    pieces = enc.split(text, "ucs2", per_part)
    when = datetime(2026, 11, 26, tzinfo=timezone.utc)
    parts = [Part(decode_deliver(*enc.encode(enc.Message("Microsoft", 5, when, "ucs2", 0x08, text=piece,
                                                         ies=[enc.concat_ie(0x1234, len(pieces), i, 16)]))), index=i)
             for i, piece in enumerate(pieces, 1)]
    (whole,), _ = assemble(parts[::-1], {}, 0.0, 60.0)
    assert whole.body == text and whole.sender == "Microsoft" and whole.coding == "ucs2"
