"""ADB's wire constants for the host side: the ADB driver and the USB transport (AOSP protocol.txt).

The host's own copy. The emulated device keeps a separate one written from the
same documents (``harness/emulator/adb_words.py``) and never imports this, so a
wrong constant here fails against the emulator and against Debian's ``adb``.
"""

from __future__ import annotations

#: Command words: the four ASCII letters read as a little-endian 32-bit integer.
A_SYNC, A_CNXN, A_OPEN, A_OKAY = 0x434E5953, 0x4E584E43, 0x4E45504F, 0x59414B4F
A_CLSE, A_WRTE, A_AUTH, A_STLS = 0x45534C43, 0x45545257, 0x48545541, 0x534C5453
COMMANDS = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_OPEN: "OPEN", A_OKAY: "OKAY", A_CLSE: "CLSE", A_WRTE: "WRTE",
            A_AUTH: "AUTH", A_STLS: "STLS"}
#: Protocol versions: the first checks every payload's checksum, the second lets a peer send zero instead.
VERSION_CHECKSUM = 0x01000000
VERSION_SKIP_CHECKSUM = 0x01000001
#: The largest payload adb has ever announced (1 MiB), and the size every peer accepts before CNXN.
MAX_PAYLOAD = 1024 * 1024
MAX_HANDSHAKE_PAYLOAD = 4096
#: AUTH message types (arg0).
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
#: The header: command, arg0, arg1, data length, data checksum, magic (command ^ 0xffffffff); six LE uint32.
HEADER_SIZE = 24
#: The USB interface that carries ADB: vendor-specific class 0xff, subclass 0x42, protocol 1 (AOSP usb_vendors).
ADB_USB_INTERFACE = (0xFF, 0x42, 0x01)
