"""A screencap cut short (the phone powered off or rebooted mid-frame) is taken again, not called a bad device.

Seen in CI in the after-update flow: the update reboots the phone while a screenshot is under way; the
device closed the stream after 1,318,912 of a 720x1280 frame's 3,686,416 bytes and the flow failed
with a protocol violation.
"""

from __future__ import annotations

import socket
import struct

import numpy as np
import pytest
from adbfaults import CLSE, OKAY, SCREEN, WRTE, HostileDevice, Seen, pack, recv_msg, serve

from harness.adb import AdbHandset
from harness.adb.connection import AdbConnection
from harness.adb.errors import ShortFrame
from harness.transport.tcp import TcpPipe

FRAME = struct.pack("<IIII", SCREEN[0], SCREEN[1], 1, 0) + bytes([40, 80, 120, 255]) * (SCREEN[0] * SCREEN[1])


def screencap(short_frames: int):
    """Serves raw screencap: the first ``short_frames`` requests get a third of a frame, then CLSE."""
    served = []

    def on_open(sock: socket.socket, local: int, remote: int, service: str) -> None:
        if not service.startswith("exec:screencap"):
            sock.sendall(pack(CLSE, 0, remote))
            return
        served.append(service)
        frame = FRAME[:len(FRAME) // 3] if len(served) <= short_frames else FRAME
        sock.sendall(pack(OKAY, local, remote))
        for i in range(0, len(frame), 1 << 20):
            sock.sendall(pack(WRTE, local, remote, frame[i:i + (1 << 20)]))
            while (reply := recv_msg(sock)[0]) != OKAY:
                if reply == CLSE:
                    return
        sock.sendall(pack(CLSE, local, remote))
    return serve(lambda s: False, polite=True, on_open=on_open), served


def _handset(port: int) -> AdbHandset:
    return AdbHandset(lambda: AdbConnection(TcpPipe("127.0.0.1", port, 5), None, timeout=5).connect(),
                      f"127.0.0.1:{port}", timeout=5, reconnect_timeout=5)


def test_a_frame_cut_short_once_is_taken_again() -> None:
    behaviour, served = screencap(short_frames=1)
    with HostileDevice(behaviour) as device:
        handset = _handset(device.port)
        try:
            shot = handset.screenshot()
        finally:
            handset.close()
    assert shot.shape == (SCREEN[1], SCREEN[0], 3) and np.all(shot == [40, 80, 120])
    assert len(served) == 2, served


def test_a_device_that_always_cuts_its_frames_short_gets_a_one_line_error() -> None:
    behaviour, served = screencap(short_frames=10)
    with HostileDevice(behaviour) as device:
        handset = _handset(device.port)
        try:
            with pytest.raises(ShortFrame, match="cut short") as caught:
                handset.screenshot()
        finally:
            handset.close()
    assert len(served) == 2 and "\n" not in str(caught.value) and len(str(caught.value)) < 500
