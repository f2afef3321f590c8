"""The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 6.2.1), and septet packing.

Written from the standard for the emulated modem's SMS-DELIVER encoder: a
text is 7-bit when every character is in the default alphabet or in the
extension table (an extension character costs two septets, ESC and itself).
"""

from __future__ import annotations

#: The default alphabet, code point by code point (0x1B is the escape to the extension table).
DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
ESC = 0x1B
#: The extension table: character -> code after ESC (23.038 6.2.1.1; 0x0A is the page break).
EXTENSION = {"\x0c": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
             "|": 0x40, "€": 0x65}
_CODE = {ch: i for i, ch in enumerate(DEFAULT) if i != ESC}
_FROM_EXT = {code: ch for ch, code in EXTENSION.items()}


def is_gsm7(text: str) -> bool:
    """Every character of ``text`` has a septet (default alphabet or extension table)."""
    return all(ch in _CODE or ch in EXTENSION for ch in text)


def septets_of(ch: str) -> list[int]:
    """The septet(s) of one character: one from the default alphabet, or ESC and the extension code."""
    if ch in _CODE:
        return [_CODE[ch]]
    if ch in EXTENSION:
        return [ESC, EXTENSION[ch]]
    raise ValueError(f"{ch!r} (U+{ord(ch):04X}) is not in the GSM 7-bit default alphabet or its extension table")


def to_septets(text: str) -> list[int]:
    """``text`` as septets; ValueError naming the first character that has none."""
    out: list[int] = []
    for ch in text:
        out.extend(septets_of(ch))
    return out


def from_septets(septets: list[int]) -> str:
    """Septets back to text (an ESC followed by an unknown code gives that code's default character)."""
    out, escaped = [], False
    for s in septets:
        if escaped:
            out.append(_FROM_EXT.get(s, DEFAULT[s] if s != ESC else " "))
            escaped = False
        elif s == ESC:
            escaped = True
        else:
            out.append(DEFAULT[s])
    return "".join(out)


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets least significant bit first (23.038 6.1.2.1.1), after ``fill_bits`` zero bits."""
    value, bits = 0, fill_bits
    for s in septets:
        value |= (s & 0x7F) << bits
        bits += 7
    return value.to_bytes((bits + 7) // 8, "little") if bits else b""


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """``count`` septets out of packed ``data`` after ``fill_bits`` bits."""
    value = int.from_bytes(data, "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]
