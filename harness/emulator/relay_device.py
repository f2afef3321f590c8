"""An emulated LCUS-n relay board on a pty: each channel is wired to one handset's power.

Frames are ``A0 <channel> <0|1> <sum>``; a frame with a bad checksum or an
unknown channel is ignored, as the real board ignores it. Off makes the
handset unreachable on every transport; on boots it again.

A real relay switches at once and in the order it is told. The emulated wire
to a handset is a call (to its control socket, for a rack) that can be slow or
fail on a loaded host, so each channel has one worker that switches in the
order the frames came and tries a failed switch again for up to
``SWITCH_DEADLINE`` seconds; a switch that never got through is kept in
``failed`` (control verb ``relay_frames``) instead of vanishing with a thread.

A cheap board's USB serial chip can miss a frame, and nothing on the wire says
so: ``relay_fault kind=lose [count=1]`` makes the board miss the next valid
frames (counted in ``lost``), which the harness must survive. Each frame and
each switch is told to ``log`` (a rack prints it on its own log), so a handset
left off says whether its "on" ever reached the board.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Sequence

from harness.emulator.pty_port import PtyPort
from harness.emulator.transport_service import CommandHandler, takes


#: Seconds a channel keeps trying a switch whose wire (a handset's control socket) fails or is slow.
SWITCH_DEADLINE = 30.0


class EmulatedRelayBoard:
    def __init__(self, outlets: Sequence[Any], log: Callable[[str], None] | None = None) -> None:
        self.outlets = list(outlets)  # anything with power_on() / power_off()
        self.log = log or (lambda line: None)
        self.lose = 0   # fault injection: valid frames still to miss
        self.lost = 0
        self.port = PtyPort("relay", self._on_data)
        self._buf = b""
        self.frames: list[bytes] = []
        self.ignored = 0
        self.failed: list[str] = []
        self._queues: list[queue.Queue[bool | None]] = [queue.Queue() for _ in self.outlets]
        for outlet, pending in zip(self.outlets, self._queues):
            threading.Thread(target=self._switch, args=(outlet, pending), name="relay channel", daemon=True).start()

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
            if self.lose:
                self.lose -= 1
                self.lost += 1
                self.log(f"relay: channel {channel} {'on' if state else 'off'} frame missed (fault)")
                continue
            self.frames.append(frame)
            self.log(f"relay: channel {channel} {'on' if state else 'off'}")
            self._queues[channel - 1].put(bool(state))

    def _switch(self, outlet: Any, pending: "queue.Queue[bool | None]") -> None:
        """One channel's switches, in order; each tried again until it gets through or its deadline passes."""
        while True:
            state = pending.get()
            if state is None:
                return
            what = f"power {'on' if state else 'off'}"
            deadline = time.monotonic() + SWITCH_DEADLINE
            while True:
                try:
                    (outlet.power_on if state else outlet.power_off)()
                    self.log(f"relay: {what} switched")
                    break
                except Exception as exc:  # noqa: BLE001 - the wire's error, whatever it is, is kept below
                    if time.monotonic() >= deadline:
                        self.failed.append(f"{what}: {exc}")
                        self.log(f"relay: {what} never got through: {exc}")
                        break
                    time.sleep(0.2)

    def stop(self) -> None:
        self.port.stop()
        for pending in self._queues:
            pending.put(None)

    def fault(self, request: dict[str, Any]) -> dict[str, Any]:
        """``lose`` the next ``count`` valid frames, or ``clear``."""
        kind = str(request["kind"])
        if kind not in ("lose", "clear"):
            raise ValueError(f"unknown fault {kind!r} (lose, clear)")
        self.lose = max(0, int(request.get("count", 1))) if kind == "lose" else 0
        return {"lose": self.lose, "lost": self.lost}

    def commands(self) -> dict[str, CommandHandler]:
        return {"relay_frames": takes("")(lambda req: {"frames": [f.hex(" ") for f in self.frames],
                                                        "ignored": self.ignored, "lost": self.lost,
                                                        "failed": list(self.failed)}),
                "relay_fault": takes("kind=lose|clear [count=1]")(lambda req: self.fault(req))}


def relay_service(phones: Any, options: dict[str, Any]) -> EmulatedRelayBoard:
    """One board; channel N drives phone N (a single phone gets a one-channel board); ``options["log"]`` hears it."""
    return EmulatedRelayBoard(phones if isinstance(phones, (list, tuple)) else [phones], log=options.get("log"))
