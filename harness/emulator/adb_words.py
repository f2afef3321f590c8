"""The words an ADB device speaks, as AOSP's ``protocol.txt`` and ``usb_vendors`` define them.

The device's own copy, written from the documents: the host driver keeps its
own (``harness/adb_wire.py``), so a wrong constant on one side shows up as a
failure against the other side or against Debian's ``adb``, never as two
matching bugs.
"""

from __future__ import annotations


def _word(name: str) -> int:
    """A command word is its four ASCII letters read as one little-endian 32-bit integer (protocol.txt)."""
    return int.from_bytes(name.encode("ascii"), "little")


#: Every command a message header may carry, by its word.
COMMAND_NAMES = {_word(name): name for name in ("SYNC", "CNXN", "OPEN", "OKAY", "CLSE", "WRTE", "AUTH", "STLS")}
A_CNXN, A_OPEN, A_OKAY, A_CLSE = _word("CNXN"), _word("OPEN"), _word("OKAY"), _word("CLSE")
A_WRTE, A_AUTH = _word("WRTE"), _word("AUTH")

#: A_VERSION as adbd announces it: 0x01000000 checks payload sums; 0x01000001 (Android 9 on) skips them.
VERSION_SKIP_CHECKSUM = 0x01000001
#: The largest maxdata any adb has announced: MAX_PAYLOAD, 1 MiB.
MAX_PAYLOAD = 1 << 20
#: AUTH's arg0: TOKEN (device to host), SIGNATURE and RSAPUBLICKEY (host to device).
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
#: A message header is six little-endian uint32: command, arg0, arg1, data_length, data_crc32, magic.
HEADER_FIELDS = 6
HEADER_SIZE = HEADER_FIELDS * 4
#: The interface adbd exposes on USB: class 0xff (vendor specific), subclass 0x42, protocol 0x01.
USB_CLASS, USB_SUBCLASS, USB_PROTOCOL = 0xFF, 0x42, 0x01
