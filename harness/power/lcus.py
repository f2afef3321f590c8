"""LCUS-n USB relay boards (CH340, USB id 1a86:7523), common on lab racks.

Protocol: 9600 8N1; a four-byte frame ``A0 <channel> <0|1> <checksum>``,
where the checksum is the low byte of the sum of the first three bytes
(channel 1 on = ``A0 01 01 A2``, off = ``A0 01 00 A1``). The board sends
no reply, so ``state`` reports what this driver last set (None before that).

A board reached over the network (``rfc2217://``, ``socket://``: ser2net on a
rack host) gets ``HAND_OVER`` seconds after the last frame before the
connection closes. ser2net closes the serial port when its last client
leaves, and gensio flushes the port (TCIOFLUSH) once the kernel's output
queue is empty. A USB serial adapter counts the frame in that queue until it
is sent; a pty (an emulated board) counts nothing, and the flush throws away
a frame still in the kernel's buffer on its way to the other end: 4 "on"
frames of 355 were lost so when the client closed at once, on a loaded host.
Locally, ``flush`` waits until the frame left (tcdrain).
"""

from __future__ import annotations

import time

import serial

from harness.power.base import PowerSwitch, PowerSwitchError

USB_ID = (0x1A86, 0x7523)
#: Seconds a board behind ser2net is given to take the last frame before the connection closes (the frame itself
#: takes 4 ms at 9600 baud).
HAND_OVER = 0.5


def lcus_frame(channel: int, on: bool) -> bytes:
    body = bytes([0xA0, channel & 0xFF, 1 if on else 0])
    return body + bytes([sum(body) & 0xFF])


class LcusRelay(PowerSwitch):
    acknowledges = False  # the board answers nothing, so a frame it missed is noticed only by the handset staying off
    def __init__(self, url: str, channels: int = 1) -> None:
        self.url = url
        self.channels = channels
        self._state: dict[int, bool] = {}
        self._sent: float | None = None   # when the last frame was written (monotonic)
        # pyserial's RFC 2217 client refuses a write timeout (NotImplementedError); a 4-byte frame to a socket
        # does not block there, and a relay served by ser2net (a rack on labgrid) is reached that way
        write_timeout = None if url.startswith("rfc2217://") else 2
        try:
            self.port = serial.serial_for_url(url, baudrate=9600, bytesize=8, parity="N", stopbits=1, timeout=1,
                                              write_timeout=write_timeout)
        except (serial.SerialException, ValueError) as exc:
            raise PowerSwitchError(f"relay {url}: cannot open: {exc}") from None

    def _send(self, channel: int, on: bool) -> None:
        self._check(channel)
        try:
            self.port.write(lcus_frame(channel, on))
            self.port.flush()
        except (serial.SerialException, OSError) as exc:
            raise PowerSwitchError(f"relay {self.url}: write failed ({exc})") from None
        self._state[channel] = on
        self._sent = time.monotonic()

    def on(self, channel: int) -> None:
        self._send(channel, True)

    def off(self, channel: int) -> None:
        self._send(channel, False)

    def state(self, channel: int) -> bool | None:
        self._check(channel)
        return self._state.get(channel)

    def close(self) -> None:
        if "://" in self.url and self._sent is not None:  # over the network: see HAND_OVER
            time.sleep(max(0.0, self._sent + HAND_OVER - time.monotonic()))
        self.port.close()
