"""A device that drops the connection while taking an input (a tap on "reset" reboots the phone) gets it once.

Seen under load in the change-account flow: the emulator rebooted 50 ms after the tap on "yes", before
the tap's exit status went out; the host reconnected and sent the tap again, which landed on the
freshly booted phone's "next" button and the flow found itself a screen further than it should be.
"""

from __future__ import annotations

import socket
import threading

import pytest
from adbfaults import CLSE, OKAY, WRTE, HostileDevice, pack, serve, shell_v2

from harness.adb import AdbHandset
from harness.adb.connection import AdbConnection
from harness.adb import DeviceOffline
from harness.transport.tcp import TcpPipe


def rebooting_on_input(reboots: threading.Event):
    """Answers identity and input; the first input it takes makes it drop the connection unanswered."""
    def on_open(sock: socket.socket, local: int, remote: int, service: str) -> None:
        if "input " in service and not reboots.is_set():
            reboots.set()
            raise ConnectionAbortedError("acted on the input, then went down before answering")
        sock.sendall(pack(OKAY, local, remote))
        sock.sendall(pack(WRTE, local, remote, shell_v2(3, b"\0")))
        sock.sendall(pack(CLSE, local, remote))
    return serve(lambda service: False, polite=True, on_open=on_open)


def _handset(port: int) -> AdbHandset:
    return AdbHandset(lambda: AdbConnection(TcpPipe("127.0.0.1", port, 5), None, timeout=5).connect(),
                      f"127.0.0.1:{port}", timeout=5, reconnect_timeout=5)


@pytest.mark.parametrize("action", [("tap", (10, 20)), ("key", ("back",)), ("text", ("abc",))])
def test_an_input_the_device_dropped_the_connection_on_is_not_sent_again(action) -> None:
    reboots = threading.Event()
    with HostileDevice(rebooting_on_input(reboots)) as device:
        handset = _handset(device.port)
        try:
            getattr(handset, action[0])(*action[1])
            inputs = [s for s in device.seen.services if "input " in s]
            assert reboots.is_set() and len(inputs) == 1, f"expected the input once; the device saw {inputs}"
            handset.tap(1, 2)  # the handset is usable again on the device's new connection
            assert [s for s in device.seen.services if "input " in s][1:] == ["shell,v2,raw:input tap 1 2"]
            assert device.seen.connections == 2
        finally:
            handset.close()


def test_an_input_on_a_device_that_does_not_come_back_is_an_offline_error() -> None:
    reboots = threading.Event()
    with HostileDevice(rebooting_on_input(reboots), accept=1) as device:
        handset = _handset(device.port)
        try:
            with pytest.raises(DeviceOffline, match="did not come back"):
                handset.tap(10, 20)
            assert [s for s in device.seen.services if "input " in s] == ["shell,v2,raw:input tap 10 20"]
        finally:
            handset.close()
