"""Frames an LCUS relay board behind ser2net loses when its client closes at once, against the driver's hand-over.

Usage: python benchmarks/bench_relay_handover.py [--frames 300] [--load 0] [--hand-over 0.5]

An emulated relay board (a pty) served by Debian's ``ser2net`` as a rack host serves it (RFC 2217, shared,
``harness.lab.labgrid.ser2net``), one client at a time as ``harness power`` is: open, one frame, close. ser2net
closes the port when its last client leaves and flushes it; a pty counts nothing in its output queue, so the
flush can throw away a frame the kernel has not yet handed to the board. Run twice in one go, on one board:
closing at once (the baseline, ``HAND_OVER`` 0) and closing ``--hand-over`` seconds after the frame (the driver's
``harness.power.lcus.HAND_OVER``). Prints the frames the board took of those sent, for each.

The loss needs a host busy the way a full ``.ci/run`` makes it (many processes, sockets and ptys at once): run it
beside one. There, 300 frames each: 5 lost closing at once, 0 with the hand-over (2026-11-27, 2 CPUs). ``--load N``
adds N spinning processes, which alone made no frame be lost here (0 of 150 either way with 8).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import harness.power.lcus as lcus
from harness.emulator.relay_device import EmulatedRelayBoard
from harness.lab.labgrid.ser2net import LocalPort, Ser2net


class _Line:
    """The wire from a channel to a handset's battery: what the board switched, and nothing else."""

    def power_on(self) -> None:
        pass

    def power_off(self) -> None:
        pass


def _busy(until: float) -> None:
    while time.monotonic() < until:
        pass


def _taken(board: EmulatedRelayBoard, before: int, sent: int, settle: float = 2.0) -> int:
    """Frames the board took since ``before``, once none has come for ``settle`` seconds (or all ``sent`` did)."""
    last, since = len(board.frames), time.monotonic()
    while len(board.frames) - before < sent and time.monotonic() - since < settle:
        time.sleep(0.05)
        if len(board.frames) != last:
            last, since = len(board.frames), time.monotonic()
    return len(board.frames) - before


def _send(url: str, frames: int, hand_over: float) -> None:
    lcus.HAND_OVER = hand_over
    for i in range(frames):
        relay = lcus.LcusRelay(url)
        (relay.on if i % 2 else relay.off)(1)
        relay.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--load", type=int, default=0, help="spinning processes meanwhile")
    ap.add_argument("--hand-over", type=float, default=lcus.HAND_OVER)
    args = ap.parse_args()
    board = EmulatedRelayBoard([_Line()])
    path = board.start()["power"]
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as folder:
        served = Ser2net([LocalPort(path, 9600, shared=True)], "127.0.0.1", Path(folder)).start()
        url = f"rfc2217://127.0.0.1:{served.tcp_port[path]}?ign_set_control"
        try:
            runs = (("closing at once (baseline)", 0.0), (f"hand-over {args.hand_over:g}s", args.hand_over))
            for name, hand_over in runs:
                until = time.monotonic() + 3600
                burners = [multiprocessing.Process(target=_busy, args=(until,), daemon=True) for _ in range(args.load)]
                for b in burners:
                    b.start()
                started, before = time.monotonic(), len(board.frames)
                try:
                    _send(url, args.frames, hand_over)
                finally:
                    for b in burners:
                        b.terminate()
                took = time.monotonic() - started
                got = _taken(board, before, args.frames)
                print(f"{name:28s} board took {got:4d} of {args.frames} frames "
                      f"({args.frames - got} lost) in {took:5.1f}s, load {args.load}", flush=True)
        finally:
            served.stop()
            board.stop()


if __name__ == "__main__":
    main()
