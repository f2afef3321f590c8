"""A device that lets the host in and then answers nothing: a screenshot into a buffer ends at its deadline
with the error that names what never came (the OKAY for its OPEN), not one about tidying up after it."""

from __future__ import annotations

import socket
import struct
import threading

import numpy as np
import pytest

from harness.adb import AdbConnection
from harness.adb.errors import AdbTimeout
from harness.adb.services import exec_out_into
from harness.deadline import within
from harness.transport.tcp import TcpPipe

CNXN = struct.unpack("<I", b"CNXN")[0]


def _silent_device(listener: socket.socket, stop: threading.Event) -> None:
    """Answers the host's CNXN with its own (no AUTH), then reads and drops everything until the host goes."""
    conn, _ = listener.accept()
    with conn:
        head = conn.recv(24, socket.MSG_WAITALL)
        length = struct.unpack_from("<I", head, 12)[0]
        conn.recv(length, socket.MSG_WAITALL)
        banner = b"device::ro.product.model=Silent;features=shell_v2"
        conn.sendall(struct.pack("<6I", CNXN, 0x01000001, 4096, len(banner), 0, CNXN ^ 0xFFFFFFFF) + banner)
        conn.settimeout(0.2)
        while not stop.is_set():
            try:
                if not conn.recv(4096):
                    return
            except socket.timeout:
                continue
            except OSError:
                return


def test_a_screenshot_that_gets_no_okay_times_out_naming_the_open() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()
    device = threading.Thread(target=_silent_device, args=(listener, stop), daemon=True)
    device.start()
    conn = AdbConnection(TcpPipe("127.0.0.1", listener.getsockname()[1]), None, timeout=30).connect()
    try:
        with within(0.5), pytest.raises(AdbTimeout, match="OKAY for OPEN 'exec:screencap'"):
            exec_out_into(conn, "screencap", np.empty(1024, np.uint8))
    finally:
        conn.close()
        stop.set()
        device.join(30)
        listener.close()
