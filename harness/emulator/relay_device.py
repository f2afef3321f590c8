"""An emulated LCUS-n relay board on a pty: each channel is wired to one handset's power.

Frames are ``A0 <channel> <0|1> <sum>``; a frame with a bad checksum or an
unknown channel is ignored, as the real board ignores it. Off makes the
handset unreachable on every transport; on boots it again.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from harness.emulator.pty_port import PtyPort
from harness.emulator.transport_service import CommandHandler, takes


class EmulatedRelayBoard:
    def __init__(self, outlets: Sequence[Any]) -> None:
        self.outlets = list(outlets)  # anything with power_on() / power_off()
        self.port = PtyPort("relay", self._on_data)
        self._buf = b""
        self.frames: list[bytes] = []
        self.ignored = 0

    def start(self) -> dict[str, Any]:
        return {"power": self.port.start(), "power_channels": len(self.outlets)}

    def _on_data(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) >= 4:
            start = self._buf.find(b"\xa0")
            if start < 0:
                self.ignored += len(self._buf)
                self._buf = b""
                return
            if start:
                self.ignored += start
                self._buf = self._buf[start:]
                continue
            if len(self._buf) < 4:
                return
            frame, self._buf = self._buf[:4], self._buf[4:]
            _, channel, state, check = frame
            if (0xA0 + channel + state) & 0xFF != check or not 1 <= channel <= len(self.outlets) or state > 1:
                self.ignored += 4
                continue
            self.frames.append(frame)
            outlet = self.outlets[channel - 1]
            threading.Thread(target=outlet.power_on if state else outlet.power_off, daemon=True).start()

    def stop(self) -> None:
        self.port.stop()

    def commands(self) -> dict[str, CommandHandler]:
        return {"relay_frames": takes("")(lambda req: {"frames": [f.hex(" ") for f in self.frames], "ignored": self.ignored})}


def relay_service(phones: Any, options: dict[str, Any]) -> EmulatedRelayBoard:
    """One board; channel N drives phone N (a single phone gets a one-channel board)."""
    return EmulatedRelayBoard(phones if isinstance(phones, (list, tuple)) else [phones])
