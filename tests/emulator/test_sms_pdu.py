"""The emulated network's SMS-DELIVER encoder against worked examples and an independent decoder.

Expected octets are worked out by hand from 3GPP TS 23.038/23.040 (field by
field in each test); python-gsmmodem-new's decoder, written by others, reads
back what the encoder made.
"""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given, settings, strategies as st

from harness.emulator import gsm7
from harness.emulator.sms_pdu import encode_address, encode_deliver, encode_scts, sca_octets

pdu = pytest.importorskip("gsmmodem.pdu")

SCA = sca_octets("+15559999000")
#: The default alphabet less ESC and less 0x5F, which the library decodes as '`' where 23.038 has '§'; the
#: library also misreads 7-bit parts after a 7-octet header (no fill bits), so the round trip uses 8-bit references.
LIBRARY_DEFAULT = gsm7.DEFAULT.replace("\x1b", "").replace("§", "")


def _decode(part) -> dict:
    return pdu.decodeSmsPdu((SCA + part.tpdu).hex())


def test_hellohello_packs_as_the_23038_example() -> None:
    # h=0x68 e=0x65 l=0x6C o=0x6F, 7 bits each, least significant bit first (23.038 6.1.2.1.1)
    assert gsm7.pack(gsm7.to_septets("hellohello")).hex().upper() == "E8329BFD4697D9EC37"


def test_a_whole_sms_deliver_field_by_field() -> None:
    # 1999-03-29 15:16:59 at +02:00 (8 quarter hours), from +27838890001, "hellohello" in the default alphabet
    sent_at = calendar.timegm((1999, 3, 29, 13, 16, 59, 0, 0, 0))
    (part,) = encode_deliver("+27838890001", "hellohello", sent_at, tz_quarters=8)
    expected = ("04"                    # TP-MTI deliver, TP-MMS: no more messages
                "0B" "91" "7238880900F1"  # 11 digits, international, swapped semi-octets
                "00" "00"                # TP-PID, TP-DCS default alphabet
                "99309251619580"         # 99/03/29 15:16:59, zone 08 swapped
                "0A" "E8329BFD4697D9EC37")
    assert part.tpdu.hex().upper() == expected
    assert part.scts == "99/03/29,15:16:59+08"


def test_negative_zone_sets_the_sign_bit() -> None:
    octets, text = encode_scts(calendar.timegm((2024, 1, 2, 8, 0, 0, 0, 0, 0)), tz_quarters=-20)
    # 03:00 local at -05:00; 20 quarters -> digits "20" swapped "02", sign bit 0x08 -> 0x0A
    assert octets.hex().upper() == "42102030000" + "0" + "0A" and text == "24/01/02,03:00:00-20"


def test_alphanumeric_sender_is_packed_in_the_address() -> None:
    octets, toa, shown = encode_address("Microsoft")
    # 9 characters = 63 bits = 16 useful semi-octets; type 0xD0 (TON alphanumeric, NPI unknown)
    assert octets[:2] == bytes([16, 0xD0]) and toa == 0xD0 and shown == "Microsoft"
    assert octets[2:] == gsm7.pack(gsm7.to_septets("Microsoft"))
    (part,) = encode_deliver("Microsoft", "Use 1234567 as Microsoft account security code", 0)
    assert _decode(part)["number"] == "Microsoft"


def test_extension_characters_take_two_septets_and_are_never_cut() -> None:
    assert gsm7.to_septets("{€}") == [0x1B, 0x28, 0x1B, 0x65, 0x1B, 0x29]
    text = "a" * 152 + "€" + "b" * 10   # 164 septets: two parts; 152 + 2 septets > 153 in a part
    parts = encode_deliver("69525", text, 0)
    assert [p.text for p in parts] == ["a" * 152, "€" + "b" * 10]
    assert "".join(_decode(p)["text"] for p in parts) == text


@pytest.mark.parametrize("ref16,per_part,header", [(False, 153, "050003340201"), (True, 152, "06080412340201")])
def test_concatenated_7bit_parts_carry_the_header(ref16, per_part, header) -> None:
    text = "hellohello" * 17
    parts = encode_deliver("+15550199", text, 0, reference=0x1234, ref16=ref16)
    assert [len(p.text) for p in parts] == [per_part, 170 - per_part]
    assert parts[0].fo & 0x40                       # TP-UDHI
    # UDHL, IEI 00 (8-bit ref 0x34) or 08 (16-bit ref 0x1234), length, 2 parts, this is part 1
    assert parts[0].ud[:len(header) // 2].hex() == header
    # header 6 octets + 1 fill bit = 7 septets (7 octets = 8 septets, no fill); 153/152 text septets
    assert parts[0].udl == 160
    body = parts[0].ud[len(header) // 2:]
    if ref16:  # no fill bits: the text packs from the octet boundary, as "hellohello" alone does
        assert body[:8].hex().upper() == "E8329BFD4697D9EC"
    else:      # one fill bit: 'h' (0x68) shifted left once is 0xD0
        assert body[0] == 0xD0
        concat = [_decode(p)["udh"][0] for p in parts]
        assert [(c.reference, c.parts, c.number) for c in concat] == [(0x34, 2, 1), (0x34, 2, 2)]
        assert "".join(_decode(p)["text"] for p in parts) == text


def test_ucs2_parts_of_67_and_surrogate_pairs_kept_whole() -> None:
    text = "ж" * 66 + "😀" + "ok" * 5   # 77 code units: two parts; the pair does not fit beside 66
    parts = encode_deliver("Microsoft", text, 0, reference=7)
    assert [p.text for p in parts] == ["ж" * 66, "😀" + "ok" * 5]
    assert all(p.dcs == 0x08 for p in parts)
    single = encode_deliver("Microsoft", "ж" * 70, 0)
    assert len(single) == 1 and single[0].udl == 140
    assert [len(p.text) for p in encode_deliver("Microsoft", "ж" * 71, 0)] == [67, 4]


def test_eight_bit_data_and_message_class() -> None:
    (part,) = encode_deliver("+15550199", "data", 0, encoding="8bit", message_class=1)
    assert part.dcs == 0x15 and part.ud == b"data" and part.udl == 4


def test_text_outside_the_alphabet_refused_for_gsm7() -> None:
    with pytest.raises(ValueError, match="U\\+0436"):
        encode_deliver("+15550199", "ж", 0, encoding="gsm7")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from(list(LIBRARY_DEFAULT) + list("{}[]~|\\^€жΩ😀é")), min_size=1, max_size=400),
       st.sampled_from(["Microsoft", "69525", "+15550199"]))
def test_round_trip_through_an_independent_decoder(text, sender) -> None:
    parts = encode_deliver(sender, text, 1_700_000_000, reference=300)
    decoded = [_decode(p) for p in parts]
    assert all(d["number"] == sender for d in decoded)
    joined = "".join(d["text"] for d in decoded)
    # the library decodes UCS2 one code unit at a time: join surrogate halves before comparing
    assert joined.encode("utf-16-be", "surrogatepass").decode("utf-16-be") == text
    if len(parts) > 1:
        assert [d["udh"][0].number for d in decoded] == list(range(1, len(parts) + 1))
