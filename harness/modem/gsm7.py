"""The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 6.2.1, 6.2.1.1), and septet unpacking.

Decoding never fails: an escape followed by a code the extension table does
not define shows the default alphabet's character, as 23.038 tells a
receiving entity to do.
"""

from __future__ import annotations

#: The default alphabet, code 0x00 to 0x7F in order (0x1B is the escape to the extension table).
DEFAULT = ("@£$¥èéùìòÇ\nØø\rÅå"
           "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
           " !\"#¤%&'()*+,-./"
           "0123456789:;<=>?"
           "¡ABCDEFGHIJKLMNO"
           "PQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmno"
           "pqrstuvwxyzäöñüà")
assert len(DEFAULT) == 128

#: The extension table: the code that follows an escape (0x1B).
EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
             0x40: "|", 0x65: "€"}
ESCAPE = 0x1B


def unpack_septets(data: bytes, count: int, skip_bits: int = 0) -> list[int]:
    """``count`` septets packed little-end first into ``data`` (23.038 6.1.2.1.1), after ``skip_bits`` fill bits.

    Septets past the end of ``data`` are not invented: the list is shorter.
    """
    value = int.from_bytes(data, "little")
    available = (len(data) * 8 - skip_bits) // 7
    return [(value >> (skip_bits + 7 * i)) & 0x7F for i in range(min(count, max(available, 0)))]


def decode(septets: list[int]) -> str:
    """Text from septet codes, escapes resolved through the extension table."""
    out: list[str] = []
    escaped = False
    for code in septets:
        if escaped:
            escaped = False
            if code == ESCAPE:  # 23.038: an escape after an escape is a space (reserved for a further table)
                out.append(" ")
            else:
                out.append(EXTENSION.get(code, DEFAULT[code]))
        elif code == ESCAPE:
            escaped = True
        else:
            out.append(DEFAULT[code])
    return "".join(out)
